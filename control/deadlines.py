"""Deadlines are timers, not polling loops: one task sleeps until the nearest one.

Used wherever something must happen at a known time (a hearing overdue, a petition ticket that
expires, a hearing about to start in a dark room). The deadlines live in memory; their owner
reads them from the database once at start and keeps them from its own changes and events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator
from datetime import datetime
from typing import Generic, TypeVar

from control.db import utcnow

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

RETRY_S = 5.0  # after a failed `on_due`, so a database outage does not spin


class Deadlines(Generic[K]):
    """Keyed deadlines; at each one `on_due(keys, now)` runs with every key that is due.

    A key is forgotten before `on_due` runs; `on_due` sets it again if it wants another turn.
    A failing `on_due` is logged and its keys are tried again after `retry_s`."""

    def __init__(self, on_due: Callable[[list[K], datetime], Awaitable[object]],
                 name: str = "deadlines", clock: Callable[[], datetime] = utcnow,
                 retry_s: float = RETRY_S) -> None:
        self._on_due, self._name, self._clock = on_due, name, clock
        self.retry_s = retry_s
        self._at: dict[K, datetime] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0

    def set(self, key: K, at: datetime) -> None:
        """Fire `key` at `at` (replacing its earlier deadline)."""
        if self._at.get(key) != at:
            self._at[key] = at
            self._changed.set()

    def cancel(self, key: K) -> None:
        if self._at.pop(key, None) is not None:
            self._changed.set()

    def get(self, key: K) -> datetime | None:
        return self._at.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._at))

    def pop_due(self, now: datetime) -> list[K]:
        """Forget and return the keys due at `now` (for a caller that runs them itself)."""
        due = [k for k, at in self._at.items() if at <= now]
        for key in due:
            del self._at[key]
        return due

    def next_due(self) -> datetime | None:
        return min(self._at.values()) if self._at else None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            nearest = self.next_due()
            wait = None if nearest is None else (nearest - self._clock()).total_seconds()
            if wait is None or wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
                continue
            now = self._clock()
            due = self.pop_due(now)
            self.fired += len(due)
            try:
                await self._on_due(due, now)
            except Exception:
                log.exception("%s: handling %d due deadline(s) failed", self._name, len(due))
                for key in due:
                    self._at.setdefault(key, now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self.retry_s)
