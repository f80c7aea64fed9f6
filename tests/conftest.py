"""Shared fixtures: a province database built once per run, copied fresh for each test."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from control.app import build_services, create_app
from control.auth import add_user
from control.config import AuthSettings, DemoSettings, Settings, load_settings
from control.core import Core
from control.db import Database
from tests.browser import browser  # noqa: F401  (a fixture for every browser test)

# One account per role, at courts chosen so tests can speak of own/child/parent/sibling.
TEST_USERS = {
    "admin": ("admin", None),
    "pres.hl": ("president", "HL"),
    "pres.harbin": ("president", "HL01"),
    "pres.daoli": ("president", "HL0102"),
    "judge.daoli": ("judge", "HL0102"),
    "clerk.daoli": ("clerk", "HL0102"),
    "sec.harbin": ("security", "HL01"),
    "sec.daoli": ("security", "HL0102"),
}
PASSWORD = "correct horse battery"


def make_settings(data_dir: Path, **env: str) -> Settings:
    # Media traffic in tests stays on loopback: advertise 127.0.0.1 only.
    settings = load_settings(env={"COURTAV_DATA_DIR": str(data_dir),
                                  "COURTAV_ICE_HOSTS": "127.0.0.1", **env})
    return replace(
        settings,
        auth=AuthSettings(failure_delay_ms=0, lockout_failures=5, lockout_window_s=60),
        demo=DemoSettings(enabled=False),
    )


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the whole province and the test users, built once per run."""
    data = tmp_path_factory.mktemp("template")
    svc = build_services(make_settings(data))
    with svc.db.session() as session:
        for name, (role, court) in TEST_USERS.items():
            add_user(session, svc.registry, name, role, court, PASSWORD)
    svc.db.close()
    return data


@pytest.fixture
def settings(template_dir: Path, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(template_dir, data)
    return make_settings(data)


_OPEN_DATABASES: list[Database] = []


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    """Autouse, so set up first and torn down last: after the test's app has shut down
    (which still writes to the database, e.g. the recorder indexing its last segments)."""
    yield
    while _OPEN_DATABASES:
        _OPEN_DATABASES.pop().close()


@pytest.fixture
def services(settings: Settings) -> Core:
    svc = build_services(settings)
    _OPEN_DATABASES.append(svc.db)
    return svc


@pytest.fixture
async def client(aiohttp_client, settings: Settings, services: Core) -> TestClient:
    return await aiohttp_client(create_app(settings, services))


async def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    resp = await client.post("/api/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["token"]


@pytest.fixture
async def tokens(client: TestClient) -> dict[str, str]:
    result = {name: await login(client, name) for name in TEST_USERS}
    client.session.cookie_jar.clear()  # requests carry only the credentials a test gives
    return result


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


POSTGRES_URL = os.environ.get("COURTAV_TEST_POSTGRES_URL", "")


@contextlib.contextmanager
def fresh_postgres(prefix: str, what: str) -> Iterator[str]:
    """A fresh PostgreSQL database named `<prefix>_<random>`, dropped afterwards. Locally it
    skips without COURTAV_TEST_POSTGRES_URL; under CI=true it fails instead."""
    if not POSTGRES_URL:
        if in_ci():
            pytest.fail("CI=true but COURTAV_TEST_POSTGRES_URL is not set (.ci/run starts one)")
        pytest.skip(f"set COURTAV_TEST_POSTGRES_URL to run {what}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (CI must have one)."""
    with fresh_postgres("courtav_test", "against PostgreSQL") as url:
        yield url
