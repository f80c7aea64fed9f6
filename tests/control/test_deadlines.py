"""Deadlines fire by themselves at the nearest time, once, and survive a failing handler."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from control.db import utcnow
from control.deadlines import Deadlines


class Fired:
    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[tuple[list[str], datetime]] = []
        self.fail_times = fail_times
        self.changed = asyncio.Event()

    async def __call__(self, keys: list[str], now: datetime) -> None:
        self.calls.append((sorted(keys), now))
        self.changed.set()
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("database away")

    async def next(self, within: float = 2.0) -> list[str]:
        await asyncio.wait_for(self.changed.wait(), within)
        self.changed.clear()
        return self.calls[-1][0]


async def test_fires_in_order_of_time_and_only_once() -> None:
    fired = Fired()
    timers: Deadlines[str] = Deadlines(fired)
    now = utcnow()
    timers.set("later", now + timedelta(milliseconds=300))
    timers.set("soon", now + timedelta(milliseconds=50))
    timers.set("gone", now + timedelta(milliseconds=100))
    timers.cancel("gone")
    timers.start()
    try:
        assert await fired.next() == ["soon"]
        assert await fired.next() == ["later"]
        assert len(timers) == 0 and timers.fired == 2
        with_nothing_due = asyncio.wait_for(fired.changed.wait(), 0.3)
        try:
            await with_nothing_due
            raise AssertionError("fired with nothing due")
        except TimeoutError:
            pass
    finally:
        await timers.stop()


async def test_a_deadline_moved_earlier_wakes_the_timer() -> None:
    fired = Fired()
    timers: Deadlines[str] = Deadlines(fired)
    timers.set("h1", utcnow() + timedelta(hours=1))
    timers.start()
    try:
        await asyncio.sleep(0)  # the timer is asleep until the hour
        timers.set("h1", utcnow())
        assert await fired.next() == ["h1"]
    finally:
        await timers.stop()


async def test_a_failing_handler_is_retried_not_lost() -> None:
    fired = Fired(fail_times=1)
    timers: Deadlines[str] = Deadlines(fired, retry_s=0.05)
    timers.set("t", utcnow())
    timers.start()
    try:
        assert await fired.next() == ["t"]  # fails
        assert await fired.next() == ["t"]  # tried again
        assert "t" not in timers and len(fired.calls) == 2
    finally:
        await timers.stop()


async def test_pop_due_takes_what_is_due_at_a_given_time() -> None:
    timers: Deadlines[int] = Deadlines(Fired())  # type: ignore[arg-type]
    now = utcnow()
    timers.set(1, now - timedelta(seconds=1))
    timers.set(2, now + timedelta(hours=1))
    assert timers.pop_due(now) == [1] and list(timers) == [2]
    assert timers.next_due() == now + timedelta(hours=1)
