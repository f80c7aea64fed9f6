"""One alert per hearing left open past its window.

The deadlines of live hearings are timers (`control.deadlines`), read once at start and then
kept by the transitions and reschedules. Nothing polls the database. Whether a hearing was
already alerted is kept in its row, so a restart or a second node never raises it twice.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.deadlines import Deadlines
from control.iso8601 import iso
from control.policy import Target
from hearing.lifecycle import LIVE, TRANSITION_KINDS, Transition
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
    """A timer at each live hearing's end; when it fires, `alert.raised` once for the hearing."""

    def __init__(self, services: Core) -> None:
        self.services = services
        self.deadlines: Deadlines[int] = Deadlines(self._due, name="hearing-overdue")
        for kind in TRANSITION_KINDS:
            services.bus.on(kind, self.on_transition)

    def watch(self, hearing_id: int, ends_at: datetime) -> None:
        self.deadlines.set(hearing_id, ends_at)

    def forget(self, hearing_id: int) -> None:
        self.deadlines.cancel(hearing_id)

    def on_transition(self, event: Event) -> None:
        """`hearing.<state>`: a live hearing's end is watched, an ended one's forgotten."""
        moved = Transition.of(event)
        if moved.state in LIVE:
            self.watch(moved.hearing, moved.ends_at)
        else:
            self.forget(moved.hearing)

    async def start(self) -> None:
        """Read the live, not yet alerted hearings once, then start the timer."""

        def live(session: Session) -> list[tuple[int, datetime]]:
            rows = session.execute(
                select(Hearing.id, Hearing.ends_at)
                .where(Hearing.state.in_(LIVE), Hearing.overdue_alerted_at.is_(None))
            )
            return [(r.id, r.ends_at) for r in rows]

        for hearing_id, ends_at in await self.services.db.run(live):
            self.deadlines.set(hearing_id, ends_at)
        self.deadlines.start()

    async def stop(self) -> None:
        await self.deadlines.stop()

    async def _due(self, hearing_ids: list[int], now: datetime) -> None:
        await self.alert(hearing_ids, now)

    async def check(self, now: datetime | None = None) -> list[int]:
        """Alert every watched hearing whose end has passed at `now`; the ids alerted now."""
        now = now or utcnow()
        return await self.alert(self.deadlines.pop_due(now), now)

    async def alert(self, hearing_ids: list[int], now: datetime | None = None) -> list[int]:
        """Alert each of `hearing_ids` still live past its end; returns the ids alerted now."""
        now = now or utcnow()
        alerted = []
        for hearing_id in hearing_ids:
            found = await self.services.db.run(
                functools.partial(claim_overdue, hearing_id=hearing_id, now=now)
            )
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
