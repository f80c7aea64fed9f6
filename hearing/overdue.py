"""One alert per hearing left open past its window.

The deadlines of live hearings are held in memory (read once at start, then kept by the
transitions and reschedules); a single task sleeps until the nearest one. Nothing polls the
database. Whether a hearing was already alerted is kept in its row, so a restart or a second
node never raises the same alert twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.iso8601 import iso
from control.policy import Target
from hearing.lifecycle import LIVE, HearingInfo
from hearing.models import Case, Hearing, HearingEvent

log = logging.getLogger(__name__)


def claim_overdue(session: Session, hearing_id: int, now: datetime) -> dict[str, Any] | None:
    """Mark the hearing alerted if it is still live past its end and not yet alerted."""
    result = session.execute(
        update(Hearing)
        .where(Hearing.id == hearing_id, Hearing.state.in_(LIVE), Hearing.ends_at <= now,
               Hearing.overdue_alerted_at.is_(None))
        .values(overdue_alerted_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.execute(
        select(Hearing.court_code, Hearing.room_code, Hearing.state, Hearing.ends_at, Case.number)
        .join(Case).where(Hearing.id == hearing_id)
    ).one()
    session.add(HearingEvent(hearing_id=hearing_id, at=now, actor="-", kind="alert.overdue",
                             detail={"ends_at": iso(row.ends_at)}))
    return {"court": row.court_code, "room": row.room_code, "state": row.state,
            "ends_at": row.ends_at, "case": row.number}


class OverdueWatch:
    """Sleeps until the nearest live hearing's end; then raises `alert.raised` once for it."""

    def __init__(self, services: Core) -> None:
        self.services = services
        self.deadlines: dict[int, datetime] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def watch(self, hearing_id: int, ends_at: datetime) -> None:
        self.deadlines[hearing_id] = ends_at
        self._changed.set()

    def forget(self, hearing_id: int) -> None:
        if self.deadlines.pop(hearing_id, None) is not None:
            self._changed.set()

    def on_transition(self, info: HearingInfo) -> None:
        if info.state in LIVE:
            self.watch(info.id, info.ends_at)
        else:
            self.forget(info.id)

    async def start(self) -> None:
        """Read the live, not yet alerted hearings once, then start the timer task."""

        def live(session: Session) -> list[tuple[int, datetime]]:
            rows = session.execute(
                select(Hearing.id, Hearing.ends_at)
                .where(Hearing.state.in_(LIVE), Hearing.overdue_alerted_at.is_(None))
            )
            return [(r.id, r.ends_at) for r in rows]

        for hearing_id, ends_at in await self.services.db.run(live):
            self.deadlines[hearing_id] = ends_at
        self._task = asyncio.create_task(self._run(), name="hearing-overdue")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            timeout = None
            if self.deadlines:
                timeout = max(0.0, (min(self.deadlines.values()) - utcnow()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
                continue
            try:
                await self.check()
            except Exception:  # a database hiccup must not end the watch
                log.exception("overdue check failed")
                await asyncio.sleep(5)

    async def check(self, now: datetime | None = None) -> list[int]:
        """Alert every watched hearing whose end has passed; returns the ids alerted now."""
        now = now or utcnow()
        alerted = []
        for hearing_id, end in [(i, e) for i, e in self.deadlines.items() if e <= now]:
            found = await self.services.db.run(
                functools.partial(claim_overdue, hearing_id=hearing_id, now=now)
            )
            # Kept until the database answered, and kept if a reschedule moved it meanwhile.
            if self.deadlines.get(hearing_id) == end:
                del self.deadlines[hearing_id]
            if found is None:
                continue
            alerted.append(hearing_id)
            self.services.bus.post(Event(
                kind="alert.raised", action="alert.view", at=now,
                target=Target(kind="alert", court=found["court"], room=found["room"]),
                data={"alert": "hearing.overdue", "hearing": hearing_id, "case": found["case"],
                      "state": found["state"], "ends_at": iso(found["ends_at"])},
            ))
        return alerted
