"""The versioned schema: migrations equal the models, old databases upgrade with every row
intact (on SQLite and PostgreSQL), a newer database is refused, and `courtav db` works.

The old databases are SQL fixtures made by `fixtures/make_old_schema.py` from the commits'
own `create_all`: 8c4bd28 (the last before versions) and 18d0383 (before 7eb33aa, so without
`hearings.remote_site` and the tables of remote sites, petitions and publications).
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from control.app import build_services
from control.cli import main
from control.config import Settings
from control.db import Base, Database
from control.migrate import SchemaError, alembic_config, current, head, upgrade
from control.models import Alert, SharedWall
from control.schema import metadata
from hearing.models import Hearing, HearingSignature
from recorder.models import Recording

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
TABLES_18D0383 = 21  # tables of the commit before remote sites, petitions and publications


@pytest.fixture(params=DIALECTS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_url"))


def load(url: str, commit: str) -> None:
    """Make the database as that commit's `create_all` did, with its rows."""
    engine = create_engine(url)
    dialect = engine.dialect.name
    sql = (FIXTURES / f"schema_{commit}.{dialect}.sql").read_text(encoding="utf-8")
    if dialect == "sqlite":
        assert engine.url.database
        with sqlite3.connect(engine.url.database) as conn:
            conn.executescript(sql)
    else:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute(sql)
            raw.commit()
        finally:
            raw.close()
    engine.dispose()


def counts(db: Database) -> dict[str, int]:
    """Rows per table, for every table of the models that the database has."""
    with db.engine.connect() as conn:
        present = set(inspect(conn).get_table_names()) & set(metadata.tables)
        return {name: conn.execute(select(func.count()).select_from(metadata.tables[name]))
                .scalar_one() for name in sorted(present)}


def drift(db: Database) -> list[Any]:
    """What autogenerate would change to make the database match the models."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def columns(db: Database, table: str) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns(table)}


def test_every_table_is_a_model_that_one_import_loads() -> None:
    """With the whole application imported (as here), every mapped class lives in a models
    module, and `control.schema` alone registers the very same tables."""
    modules = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert modules == {"control.models", "recorder.models", "hearing.models"}
    code = "import control.schema as s; print(' '.join(sorted(s.metadata.tables)))"
    alone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=REPO, check=True).stdout.split()
    assert alone == sorted(metadata.tables) and len(alone) == 32


def test_migrations_equal_the_models(url: str) -> None:
    db = Database(url)
    report = upgrade(db)
    assert (report.before, report.after, report.adopted) == (None, head(), False)
    assert drift(db) == []
    assert upgrade(db).changed is False  # at head: nothing to do
    db.close()


def test_8c4bd28_database_upgrades_with_every_row(url: str) -> None:
    load(url, "8c4bd28")
    db = Database(url)
    before = counts(db)
    assert len(before) == 27  # every table of that release; later ones came after it
    assert all(n > 0 for n in before.values()), before
    assert current(db) is None

    # First the adoption alone: the tables are all there, so 0001 only stamps the version.
    with db.engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.commit()
    assert current(db) == "0001"
    assert counts(db) == before
    assert "retention_class" not in columns(db, "recordings")

    # 0002 adds a column to a populated table and fills it from the hearings' cases.
    report = upgrade(db)
    assert (report.before, report.after) == ("0001", head())
    after = counts(db)
    assert {name: after[name] for name in before} == before
    assert set(after) == set(metadata.tables)
    assert all(after[name] == 0 for name in set(after) - set(before))  # tables added since
    assert drift(db) == []
    with db.session() as s:
        classes = dict(s.execute(select(Recording.id, Recording.retention_class)).all())
        assert classes == {1: "criminal", 2: "civil", 3: None, 4: None, 5: None}
        first = s.get(Recording, 1)
        assert first is not None
        assert (first.bytes, first.hearing_ref, first.segment_count) == (
            5_000_000_000, "hearing:1", 2)
        assert first.started_at == datetime(2026, 11, 20, 10, 1, tzinfo=UTC)
        hearing = s.get(Hearing, 1)
        assert hearing is not None and hearing.remote_site == "KSS-01"
        assert hearing.presiding_judge == "judge.a"
        signature = s.scalars(select(HearingSignature)).one()
        assert signature.png.startswith(b"\x89PNG\r\n\x1a\n") and len(signature.png) == 40
        wall = s.get(SharedWall, 1)
        assert wall is not None and wall.tiles == [{"room": "HL01-01", "feed": "main"}]
        assert s.scalar(select(Alert.ack_comment).where(Alert.id == 2)) == "cable"
        # New rows take ids after the old ones (PostgreSQL's sequences came along).
        added = Recording(room="HL01-01", feed="main", court="HL01",
                          stream_path="rooms/HL01-01/main", retention_class="civil")
        s.add(added)
        s.flush()
        assert added.id == 6
    db.close()


def test_database_made_before_7eb33aa_is_adopted(url: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    load(url, "18d0383")
    db = Database(url)
    before = counts(db)
    assert len(before) == TABLES_18D0383 and "remote_site" not in columns(db, "hearings")
    with caplog.at_level(logging.INFO, logger="control.migrate"):
        report = upgrade(db)
    assert (report.before, report.after, report.adopted) == (None, head(), True)
    logged = caplog.text
    assert "added the missing column hearings.remote_site" in logged
    assert "created the missing table remote_sites" in logged
    after = counts(db)
    assert {k: after[k] for k in before} == before
    assert set(after) == set(metadata.tables)
    assert drift(db) == []  # the column came with its foreign key and index
    if db.engine.dialect.name == "sqlite":  # the copied tables still hold every reference
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with db.session() as s:
        hearing = s.get(Hearing, 1)
        assert hearing is not None and hearing.remote_site is None
        assert hearing.title == "一审"
        classes = dict(s.execute(select(Recording.id, Recording.retention_class)).all())
        assert classes[1] == "criminal" and classes[2] == "civil"
    db.close()


@pytest.mark.postgres
def test_nodes_starting_together_upgrade_once(pg_url: str) -> None:
    """Several nodes upgrading one PostgreSQL at once: one migrates, the others wait."""
    code = ("import sys; from control.db import Database; from control.migrate import upgrade; "
            "print(upgrade(Database(sys.argv[1])).after)")
    nodes = [subprocess.Popen([sys.executable, "-c", code, pg_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=REPO) for _ in range(3)]
    for node in nodes:
        out, err = node.communicate(timeout=120)
        assert node.returncode == 0, err
        assert out == f"{head()}\n"
    db = Database(pg_url)
    assert current(db) == head() and drift(db) == []
    db.close()


def _stamp_future(settings: Settings) -> None:
    db = Database(settings.database_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    db.close()


def test_serve_refuses_a_database_newer_than_the_code(
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _stamp_future(settings)
    with pytest.raises(SchemaError) as info:
        build_services(settings)
    message = str(info.value)
    assert "revision 0099" in message and f"newest is {head()}" in message
    monkeypatch.setenv("COURTAV_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("COURTAV_DATABASE_URL", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # after the log lines
    assert err.startswith("database error: ") and "0099" in err and head() in err
    assert main(["db", "current"]) == 0
    assert "0099 (unknown to this courtav" in capsys.readouterr().out


def test_cli_db_current_and_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COURTAV_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COURTAV_DATABASE_URL", raising=False)
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out == f"none (head is {head()}: run `courtav db upgrade`)\n"
    db = Database(f"sqlite:///{tmp_path / 'courtav.db'}")
    with db.engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.commit()
    db.close()
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.startswith("0001 (head is ")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database upgraded from 0001 to {head()}\n"
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database at {head()} (head): nothing to do\n"
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out == f"{head()} (head)\n"
