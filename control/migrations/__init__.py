"""Alembic migrations of the one schema; run them with `control.migrate.upgrade`."""
