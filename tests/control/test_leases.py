"""Leases of once-only jobs: one holder at a time, taken over once the holder's lease expires
(on SQLite and PostgreSQL; the clock is moved by the test, nothing waits)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from control.db import Database
from control.leases import Leases
from control.migrate import upgrade

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leases.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    database = Database(url)
    upgrade(database)
    yield database
    database.close()


async def test_one_of_two_racing_nodes_acquires(db: Database) -> None:
    clock = Clock()
    a, b = Leases(db, "a", clock), Leases(db, "b", clock)
    for i in range(5):  # every race on a fresh name has exactly one winner
        name = f"job-{i}"
        won = await asyncio.gather(a.acquire(name, 60), b.acquire(name, 60))
        assert sorted(won) == [False, True]
    assert await a.acquire("job-0", 60) is False  # held, by a or b: not taken again


async def test_an_expired_lease_is_taken_over(db: Database) -> None:
    clock = Clock()
    a, b = Leases(db, "a", clock), Leases(db, "b", clock)
    assert await a.acquire("retention", 60)
    assert not await b.acquire("retention", 60)
    clock.now += timedelta(seconds=30)
    assert await a.renew("retention", 60)  # a lives: held until 09:01:30
    clock.now += timedelta(seconds=59)
    assert not await b.acquire("retention", 60)
    assert await b.holder_of("retention") == "a"
    clock.now += timedelta(seconds=1)  # a went silent: its lease ran out
    assert await b.holder_of("retention") is None
    assert await b.acquire("retention", 60)
    assert await a.holder_of("retention") == "b"
    assert not await a.renew("retention", 60)  # a came back: it is b's now


async def test_a_released_lease_is_free_at_once(db: Database) -> None:
    clock = Clock()
    a, b = Leases(db, "a", clock), Leases(db, "b", clock)
    assert await a.acquire("placement", 600)
    await b.release("placement")  # not b's to give up
    assert not await b.acquire("placement", 600)
    await a.release("placement")
    assert await b.acquire("placement", 600)
