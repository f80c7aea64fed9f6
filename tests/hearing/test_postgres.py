"""The hearing tables and the booking locks on PostgreSQL, with two nodes booking at once."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from control.app import build_services
from control.auth import add_user
from control.config import Settings
from control.policy import Principal
from hearing.bench import Bench
from hearing.errors import HearingError
from hearing.models import Hearing
from hearing.schedule import Slot
from hearing.service import HearingService
from tests.conftest import PASSWORD, in_ci
from tests.hearing.conftest import at

URL = os.environ.get("COURTAV_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not URL:
        if in_ci():
            pytest.fail("CI=true but COURTAV_TEST_POSTGRES_URL is not set (.ci/run starts one)")
        pytest.skip("set COURTAV_TEST_POSTGRES_URL to run against PostgreSQL")
    name = f"courtav_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_two_nodes_cannot_double_book(settings: Settings, pg_url: str) -> None:
    pg = replace(settings, database_url=pg_url)
    one, two = build_services(pg), build_services(pg)
    try:
        with one.db.session() as s:
            for name, role in [("judge.a", "judge"), ("judge.b", "judge"), ("clerk.a", "clerk"),
                               ("clerk.b", "clerk")]:
                add_user(s, one.registry, name, role, "HL0102", PASSWORD)
        admin = Principal("admin", "admin", None, 1)
        nodes = [HearingService(one), HearingService(two)]  # separate locks, one database
        first = await nodes[0].file_case(admin, "（2024）黑0102民初1号", "", "judge.a", "clerk.a",
                                         "filed", None, [])
        second = await nodes[1].file_case(admin, "（2024）黑0102民初2号", "", "judge.b",
                                          "clerk.b", "filed", None, [])
        for attempt in range(3):  # the same room, the same window, from both nodes at once
            start, end = at(3 * attempt), at(3 * attempt + 2)
            results = await asyncio.gather(
                nodes[0].schedule(admin, first["id"], Slot("HL0102-01", start, end,
                                                           Bench("judge.a", "clerk.a")),
                                  False, ""),
                nodes[1].schedule(admin, second["id"], Slot("HL0102-01", start, end,
                                                            Bench("judge.b", "clerk.b")),
                                  False, ""),
                return_exceptions=True,
            )
            refused = [r for r in results if isinstance(r, HearingError)]
            assert len(refused) == 1 and refused[0].status == 409, results
        with one.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Hearing)) == 3
            hearing_id = s.scalar(select(func.min(Hearing.id)))
        assert hearing_id is not None
        # Both nodes open the same hearing at once: the row lock lets exactly one through.
        opened = await asyncio.gather(
            *(n.lifecycle.transition(admin, hearing_id, "opened") for n in nodes),
            return_exceptions=True,
        )
        refused = [r for r in opened if isinstance(r, HearingError)]
        assert len(refused) == 1 and refused[0].status == 409, opened
        await nodes[1].lifecycle.transition(admin, hearing_id, "closed")
    finally:
        one.db.close()
        two.db.close()
