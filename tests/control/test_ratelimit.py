"""The one rate limiter, counted in the database, on a clock the test moves (no waiting)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from control.core import Core
from control.models import LimitHit
from control.ratelimit import RateLimit, purge_limit_hits


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_limit_per_key_in_a_sliding_window(services: Core) -> None:
    clock = Clock()
    limit = RateLimit(services.db, "test", 2, 60, clock=clock)
    assert await limit.hit("a") == 0
    clock.advance(10)
    assert await limit.hit("a") == 0
    assert await limit.hit("a") == 50  # refused until the first hit leaves the window
    assert await limit.check("a") == 50
    assert await limit.check("b") == 0  # keys are counted apart
    clock.advance(50)
    assert await limit.hit("a") == 0  # the refused attempt was not counted
    assert await limit.check("a") == 10


async def test_one_full_key_refuses_all_and_counts_none(services: Core) -> None:
    limit = RateLimit(services.db, "test", 1, 60, clock=Clock())
    assert await limit.hit("user:x") == 0
    assert await limit.hit("user:x", "addr:1") > 0
    assert await limit.check("addr:1") == 0  # not counted while the user was full


async def test_reset_and_take_back(services: Core) -> None:
    clock = Clock()
    limit = RateLimit(services.db, "test", 2, 60, clock=clock)
    await limit.hit("a")
    await limit.hit("a")
    await limit.reset("a")
    assert await limit.check("a") == 0
    await limit.hit("a")
    clock.advance(1)
    await limit.hit("a")
    await limit.take_back("a")  # the latest one
    assert await limit.hit("a") == 0
    assert await limit.check("a") == 59


async def test_limits_apart_by_name_and_long_keys(services: Core) -> None:
    clock = Clock()
    logins = RateLimit(services.db, "login", 1, 60, clock=clock)
    signups = RateLimit(services.db, "petition.phone", 1, 60, clock=clock)
    long_key = "user:" + "x" * 10_000
    assert await logins.hit(long_key) == 0
    assert await logins.hit(long_key) > 0
    assert await signups.hit(long_key) == 0


async def test_concurrent_hits_never_pass_the_limit(services: Core) -> None:
    limit = RateLimit(services.db, "test", 3, 60)
    waits = await asyncio.gather(*(limit.hit("a") for _ in range(12)))
    assert sum(1 for w in waits if w == 0) == 3


async def test_expired_hits_are_purged(services: Core) -> None:
    clock = Clock()
    limit = RateLimit(services.db, "test", 3, 60, clock=clock)
    for key in ("a", "b", "c"):
        await limit.hit(key)
    clock.advance(61)
    await limit.hit("a")  # a's old hit goes with the write
    count = select(func.count()).select_from(LimitHit)
    assert await services.db.run(lambda s: s.scalar(count)) == 3
    assert await services.db.run(lambda s: purge_limit_hits(s, clock())) == 2
    assert await services.db.run(lambda s: s.scalar(count)) == 1
