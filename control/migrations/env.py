"""Alembic's environment: runs on the connection `control.migrate` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from control.schema import metadata

# Several nodes may start at once against one PostgreSQL: the first upgrades, the others wait
# on this lock and then find the database at head.
PG_LOCK_KEY = 0x636F7572  # "cour"


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters a table by copying it; PostgreSQL alters in place
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("courtav migrations run online only: `courtav db upgrade`")
run()
