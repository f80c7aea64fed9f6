"""Alerts: one open alert per room, feed and kind; stored, raised and cleared on the bus,
acknowledged with a comment, escalated while a hearing is live in the room.

Open alerts are mirrored in memory (for the operations view and metrics, and to de-duplicate
without a query); every change is written first, then published. A room with an open critical
alert has the status "fault" until it clears.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.errors import ApiError
from control.iso8601 import iso
from control.models import Alert
from control.policy import Principal, Target

log = logging.getLogger(__name__)

SEVERITIES = ("warning", "major", "critical")
ALERT_STATES = ("open", "acknowledged", "cleared")
KIND_SEVERITY = {
    "video_loss": "critical", "frozen": "major", "black": "major", "blank": "major",
    "blur": "warning", "silence": "warning", "bitrate": "warning", "feeds_down": "critical",
}
FAULT_SEVERITY = "critical"
REOPEN_S = 60.0  # a condition back this soon reopens its alert instead of adding a row
UPCOMING_LEAD = timedelta(minutes=10)




def thumbnail_url(room: str, feed: str) -> str | None:
    return f"/api/courtrooms/{room}/feeds/{feed}/thumbnail.jpg" if feed else None


@dataclass(frozen=True)
class AlertView:
    """An alert as stored, detached from its session."""

    id: int
    court: str
    room: str
    feed: str
    kind: str
    severity: str
    state: str
    source: str
    value: float | None
    detail: str
    escalated: bool
    reopened: int
    since: datetime
    cleared_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    ack_comment: str

    @classmethod
    def of(cls, row: Alert) -> AlertView:
        return cls(row.id, row.court, row.room, row.feed, row.kind, row.severity, row.state,
                   row.source, row.value, row.detail, row.escalated, row.reopened,
                   row.raised_at, row.cleared_at, row.acked_by, row.acked_at, row.ack_comment)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.room, self.feed, self.kind)

    @property
    def target(self) -> Target:
        return Target(kind="alert", court=self.court, room=self.room, feed=self.feed or None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "court": self.court, "room": self.room, "feed": self.feed,
            "kind": self.kind, "severity": self.severity, "state": self.state,
            "source": self.source, "value": self.value, "detail": self.detail,
            "escalated": self.escalated, "reopened": self.reopened, "since": iso(self.since),
            "cleared_at": iso(self.cleared_at), "acked_by": self.acked_by,
            "acked_at": iso(self.acked_at), "ack_comment": self.ack_comment,
            "thumbnail": thumbnail_url(self.room, self.feed),
        }


def escalate(severity: str) -> str:
    """One step up: a fault in a room where a hearing is live matters more."""
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]


@dataclass(frozen=True)
class Upcoming:
    """A scheduled hearing: where and when it starts (`ref` names it in alerts)."""

    room: str
    start: datetime
    ref: str = ""


def hearings_at_risk(upcoming: Iterable[Upcoming], now: datetime,
                     main_feed_live: Callable[[str], bool],
                     lead: timedelta = UPCOMING_LEAD) -> dict[str, Upcoming]:
    """Rooms with a hearing starting within `lead` whose main feed is not live (earliest one)."""
    risky: dict[str, Upcoming] = {}
    for item in upcoming:
        if now <= item.start <= now + lead and not main_feed_live(item.room):
            if item.room not in risky or item.start < risky[item.room].start:
                risky[item.room] = item
    return risky


@dataclass(frozen=True)
class AlertQuery:
    courts: frozenset[str]
    kind: str | None = None
    state: str | None = None  # open | acknowledged | cleared | active (open or acknowledged)
    room: str | None = None
    limit: int = 100
    offset: int = 0


def query_alerts(session: Session, q: AlertQuery) -> tuple[int, list[AlertView]]:
    """A page of alerts, newest first, with the total that matched."""
    where: list[ColumnElement[bool]] = [Alert.court.in_(q.courts)]
    if q.kind:
        where.append(Alert.kind == q.kind)
    if q.room:
        where.append(Alert.room == q.room)
    if q.state == "active":
        where.append(Alert.cleared_at.is_(None))
    elif q.state:
        where.append(Alert.state == q.state)
    total = session.scalar(select(func.count()).select_from(Alert).where(*where)) or 0
    rows = session.scalars(select(Alert).where(*where).order_by(Alert.id.desc())
                           .limit(q.limit).offset(q.offset))
    return total, [AlertView.of(r) for r in rows]


class AlertBook:
    """Raises, clears, acknowledges and escalates alerts; one change at a time."""

    def __init__(self, services: Core, *, hearing_live: Callable[[str], bool] | None = None,
                 room_live: Callable[[str], bool] | None = None) -> None:
        self.services = services
        # Is a hearing live in this room now (the hearing package answers)?
        self.hearing_live: Callable[[str], bool] = hearing_live or (lambda room: False)
        # Is any feed of this room live (to restore a room's status)? The live media answers.
        self.room_live: Callable[[str], bool] = room_live or (lambda room: False)
        self.open: dict[tuple[str, str, str], AlertView] = {}
        self.version = 0
        self._lock = asyncio.Lock()
        self._recent: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._faulted: dict[str, str] = {}  # room -> its status before our fault
        services.bus.on("hearing.opened", self._hearing_opened)

    async def load(self) -> None:
        """Mirror the alerts left open (by an earlier run or another node)."""
        rows = await self.services.db.run(lambda s: [AlertView.of(r) for r in s.scalars(
            select(Alert).where(Alert.cleared_at.is_(None)))])
        self.open = {a.key: a for a in rows}
        self.version += 1
        for room in {a.room for a in rows}:
            self._sync_room(room)

    def open_in(self, room: str) -> list[AlertView]:
        return [a for a in self.open.values() if a.room == room]

    async def raise_alert(self, room: str, feed: str, kind: str, *, value: float | None = None,
                          detail: str = "", source: str = "probe") -> AlertView:
        """Open an alert, or return the one already open for this room, feed and kind."""
        info = self.services.registry.rooms[room]
        async with self._lock:
            key = (room, feed, kind)
            existing = self.open.get(key)
            if existing is not None:
                return existing
            severity = KIND_SEVERITY.get(kind, "warning")
            escalated = self.hearing_live(room)
            if escalated:
                severity = escalate(severity)
            now = utcnow()
            recent = self._recent.pop(key, None)
            reopen = recent[0] if recent and time.monotonic() - recent[1] < REOPEN_S else None

            def write(session: Session) -> AlertView:
                row = session.get(Alert, reopen) if reopen is not None else None
                if row is not None and row.cleared_at is not None:
                    row.cleared_at, row.reopened = None, row.reopened + 1
                    row.state = "acknowledged" if row.acked_by else "open"
                    row.severity = severity if escalated else max(
                        row.severity, severity, key=SEVERITIES.index)
                    row.escalated = row.escalated or escalated
                    row.value, row.detail = value, detail[:256]
                else:
                    row = Alert(court=info.court, room=room, feed=feed, kind=kind,
                                severity=severity, state="open", source=source, value=value,
                                detail=detail[:256], escalated=escalated, raised_at=now)
                    session.add(row)
                session.flush()
                return AlertView.of(row)

            try:
                view = await self.services.db.run(write)
            except IntegrityError:  # another node opened it first: adopt theirs
                view = await self.services.db.run(lambda s: AlertView.of(s.scalars(
                    select(Alert).where(Alert.room == room, Alert.feed == feed,
                                        Alert.kind == kind, Alert.cleared_at.is_(None))).one()))
            self._changed(view, "alert.raised")
            return view

    async def clear_alert(self, room: str, feed: str, kind: str) -> AlertView | None:
        """Close the open alert of this room, feed and kind (None if there was none)."""
        async with self._lock:
            current = self.open.get((room, feed, kind))
            if current is None:
                return None
            view = await self._update(current.id, cleared_at=utcnow(), state="cleared")
            self._recent[current.key] = (current.id, time.monotonic())
            if len(self._recent) > 10_000:  # bounded: forget the oldest half
                self._recent = dict(list(self._recent.items())[5_000:])
            self._changed(view, "alert.cleared")
            return view

    async def clear_source(self, source: str) -> int:
        """Clear every open alert raised by `source` (its raiser restarted and will re-raise)."""
        stale = [a for a in self.open.values() if a.source == source]
        for alert in stale:
            await self.clear_alert(alert.room, alert.feed, alert.kind)
        return len(stale)

    async def acknowledge(self, alert_id: int, who: Principal, comment: str) -> AlertView:
        """Record who has taken an alert in hand, with their comment (once per alert)."""
        async with self._lock:
            found = await self.services.db.run(
                lambda s: AlertView.of(r) if (r := s.get(Alert, alert_id)) else None)
            if found is None:
                raise ApiError(404, "unknown alert", {"id": alert_id})
            if found.acked_by is not None:
                raise ApiError(409, "already acknowledged",
                               {"by": found.acked_by, "at": iso(found.acked_at)})
            state = found.state if found.state == "cleared" else "acknowledged"
            view = await self._update(alert_id, acked_by=who.username, acked_at=utcnow(),
                                      ack_comment=comment[:500], state=state)
            self._changed(view, "alert.acknowledged")
        await self.services.audit.record(who, "alert.ack", f"alert/{alert_id}",
                                         court=view.court, detail={"comment": comment[:500]})
        return view

    async def _hearing_opened(self, event: Event) -> None:
        if event.target.room is not None:
            await self.hearing_started(event.target.room)

    async def hearing_started(self, room: str) -> list[AlertView]:
        """Escalate the room's open alerts: a live hearing is now affected."""
        async with self._lock:
            out = []
            for alert in [a for a in self.open.values() if a.room == room and not a.escalated]:
                view = await self._update(alert.id, escalated=True,
                                          severity=escalate(alert.severity))
                self._changed(view, "alert.escalated")
                out.append(view)
            return out

    async def check_upcoming(self, upcoming: Iterable[Upcoming],
                             main_feed_live: Callable[[str], bool],
                             now: datetime | None = None) -> dict[str, Upcoming]:
        """Raise `feeds_down` for rooms at risk and clear it where the risk has passed."""
        now = now or utcnow()
        risky = hearings_at_risk(upcoming, now, main_feed_live)
        for room, item in risky.items():
            if room not in self.services.registry.rooms:
                continue
            minutes = max(0.0, (item.start - now).total_seconds() / 60)
            await self.raise_alert(
                room, "", "feeds_down", value=round(minutes, 1), source="schedule",
                detail=f"hearing {item.ref or ''} starts at {iso(item.start)}; main feed down")
        for alert in [a for a in self.open.values() if a.kind == "feeds_down"]:
            if alert.room not in risky:
                await self.clear_alert(alert.room, alert.feed, alert.kind)
        return risky

    async def _update(self, alert_id: int, **values: Any) -> AlertView:
        def write(session: Session) -> AlertView:
            row = session.get(Alert, alert_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
            return AlertView.of(row)

        return await self.services.db.run(write)

    def _changed(self, view: AlertView, kind: str) -> None:
        mirrored = self.open.get(view.key)
        if view.cleared_at is None:
            self.open[view.key] = view
        elif mirrored is not None and mirrored.id == view.id:
            del self.open[view.key]  # an old cleared alert acked later leaves a newer one be
        self.version += 1
        self.services.bus.post(Event(kind=kind, target=view.target, data=view.to_json(),
                                        action="alert.view"))
        self._sync_room(view.room)

    def _sync_room(self, room: str) -> None:
        """Fault while a critical alert is open; afterwards, back to what the room is doing."""
        monitor = self.services.monitor
        current = monitor.get(room)
        faults = [a for a in self.open_in(room) if a.severity == FAULT_SEVERITY]
        if faults:
            worst = faults[0]
            detail = f"alert: {worst.kind}" + (f" on {worst.feed}" if worst.feed else "")
            if current.status != "fault":
                self._faulted[room] = current.status
            if current.status != "fault" or current.detail.startswith("alert:"):
                monitor.set_status(room, "fault", detail)
            return
        before = self._faulted.pop(room, None)
        if before is None or current.status != "fault" or not current.detail.startswith("alert:"):
            return  # not our fault (the recorder's, say): leave it to its owner
        live = self.room_live(room)
        if before == "idle" and live:
            before = "live"
        elif before in ("live", "recording") and not live:
            before = "idle"
        monitor.set_status(room, before)


def visible_alert(view: AlertView | None, who: Principal, services: Core,
                  action: str = "alert.view") -> AlertView:
    """The alert if `who` may do `action` on it, else 404 (its existence does not leak)."""
    if view is None or not services.policy.can(who, action, view.target):
        raise ApiError(404, "unknown alert")
    return view
