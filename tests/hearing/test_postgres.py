"""The hearing tables and the booking locks on PostgreSQL, with two nodes booking at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from control.app import build_services
from control.auth import add_user
from control.config import Settings
from control.policy import Principal
from hearing.bench import Bench
from hearing.errors import HearingError
from hearing.models import Hearing
from hearing.schedule import Slot
from hearing.service import HearingService
from tests.conftest import PASSWORD
from tests.hearing.conftest import at

pytestmark = pytest.mark.postgres


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
