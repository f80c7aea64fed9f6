"""A room about to host a hearing must be live: `feeds_down` while it is dark before the start.

The hearings scheduled in the next hours are read once at start (and again at the horizon's
half-way mark), then kept by the schedule's events (`hearing.scheduled`, `hearing.rescheduled`,
a hearing leaving `scheduled`). The two edges of each hearing's lead window (start - lead, start)
are timers, and a room's feed going up or down re-checks that room. Nothing polls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from control.alerts import UPCOMING_LEAD, AlertBook, Upcoming
from control.bus import Event, EventBus
from control.db import utcnow
from control.deadlines import Deadlines
from control.iso8601 import parse_iso

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=12)
RELOAD = "reload"  # the timer key of the next read of the schedule

# (within) -> the hearings scheduled to start between now and now + within.
UpcomingQuery = Callable[[timedelta], Awaitable[list[Upcoming]]]


class UpcomingWatch:
    """Raises and clears `feeds_down` for rooms whose hearing is about to start while dark."""

    def __init__(self, bus: EventBus, alerts: AlertBook, main_feed_live: Callable[[str], bool],
                 query: UpcomingQuery, *, lead: timedelta = UPCOMING_LEAD,
                 horizon: timedelta = HORIZON) -> None:
        self.alerts, self.main_feed_live, self.query = alerts, main_feed_live, query
        self.lead, self.horizon = lead, horizon
        self.hearings: dict[str, Upcoming] = {}  # ref -> the scheduled hearing
        self.edges: Deadlines[str] = Deadlines(self._due, name="upcoming-hearings")
        self.checks = 0
        bus.on("hearing.*", self._on_hearing)
        bus.on("stream.up", self._on_stream)
        bus.on("stream.down", self._on_stream)

    async def start(self) -> None:
        await self._reload(utcnow())
        self.edges.start()

    async def stop(self) -> None:
        await self.edges.stop()

    async def _reload(self, now: datetime) -> None:
        rows = await self.query(self.horizon)
        for ref in [r for r in self.hearings if r not in {u.ref for u in rows}]:
            self._drop(ref)
        for item in rows:
            self._keep(item, now)
        self.edges.set(RELOAD, now + self.horizon / 2)
        await self.check(now)

    def _keep(self, item: Upcoming, now: datetime) -> None:
        """Hold `item` with a timer at its next window edge; forget it once it has started."""
        if item.start <= now or item.start > now + self.horizon:
            self._drop(item.ref)
            return
        self.hearings[item.ref] = item
        enter = item.start - self.lead
        self.edges.set(item.ref, enter if now < enter else item.start)

    def _drop(self, ref: str) -> None:
        self.hearings.pop(ref, None)
        self.edges.cancel(ref)

    async def _due(self, keys: list[str], now: datetime) -> None:
        if RELOAD in keys:
            await self._reload(now)
            return
        for ref in keys:
            item = self.hearings.get(ref)
            if item is not None:
                self._keep(item, now)
        await self.check(now)

    async def check(self, now: datetime | None = None) -> None:
        """Bring the `feeds_down` alerts in line with the held hearings and the feeds now."""
        self.checks += 1
        await self.alerts.check_upcoming(list(self.hearings.values()), self.main_feed_live,
                                         now or utcnow())

    async def _on_hearing(self, event: Event) -> None:
        hearing, state = event.data.get("hearing"), event.data.get("state")
        if not isinstance(hearing, int) or not isinstance(state, str):
            return  # not a change of the hearing's schedule or state
        ref = f"hearing:{hearing}"
        now = utcnow()
        if state == "scheduled" and event.target.room:
            try:
                start = parse_iso(event.data.get("starts_at"), "starts_at")
            except ValueError:
                log.warning("hearing event without a start", extra={"hearing": hearing})
                return
            self._keep(Upcoming(event.target.room, start, ref), now)
        elif ref in self.hearings:
            self._drop(ref)
        else:
            return
        await self.check(now)

    async def _on_stream(self, event: Event) -> None:
        room = event.target.room
        if room and any(u.room == room for u in self.hearings.values()):
            await self.check()
