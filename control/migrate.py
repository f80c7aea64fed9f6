"""Versioned schema: the Alembic migrations in control/migrations, run on the configured database.

`upgrade(db)` brings a database to the newest revision: an empty one is created, an older one
migrated, and one made before versions (tables but no `alembic_version`) is adopted by the
first revision. A database at a revision this code does not know, because a newer courtav
upgraded it, is refused.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from control.config import ConfigError
from control.db import Database
from control.schema import metadata

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "control:migrations"
# Alembic's `op` and `context` are module globals: one migration run per process at a time.
# Across processes (nodes) PostgreSQL's advisory lock in env.py takes over.
_ONE_AT_A_TIME = threading.Lock()


class SchemaError(ConfigError):
    """The database's schema cannot be used by this version of courtav."""


@dataclass(frozen=True)
class SchemaReport:
    """What `upgrade` found and left: revisions before (None: unversioned) and after."""

    before: str | None
    after: str
    adopted: bool = False  # tables made before versions, brought to the first revision

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code: the migrations ship inside the `control` package."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this code knows."""
    newest = scripts().get_current_head()
    assert newest is not None, "control/migrations has no revision"
    return newest


def known(revision: str) -> bool:
    """Whether this code has the migration `revision` (a newer courtav may have more)."""
    return revision in {script.revision for script in scripts().walk_revisions()}


def current(db: Database) -> str | None:
    """The database's revision; None when it has no version table (empty, or made before)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> SchemaReport:
    """Bring the database to `head()`; SchemaError if it is at a revision this code lacks."""
    target = head()
    with _ONE_AT_A_TIME, db.engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before == target:
            return SchemaReport(before, target)
        if before is not None and not known(before):
            raise SchemaError(
                f"the database {db.engine.url.render_as_string()} is at schema revision "
                f"{before}, which this courtav does not know (its newest is {target}): a newer "
                "courtav upgraded it; run that version, or restore a backup taken before")
        adopted = before is None and bool(set(inspect(conn).get_table_names()) & set(
            metadata.tables))
        if adopted:
            log.warning("the database has tables but no schema version (made before "
                        "versions): bringing it to revision 0001 and stamping it")
        conn.rollback()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A batch alter copies and drops tables: with foreign keys on, the drop would
            # cascade into the rows that point at them. Outside a transaction, as SQLite needs.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    log.info("database schema upgraded from %s to %s", before or "nothing", target)
    return SchemaReport(before, target, adopted)
