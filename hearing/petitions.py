"""Remote petitions: a public sign-up, a court's reception queue, one two-way session each.

A citizen with no account signs up with name, phone, ID number and subject and gets a ticket:
an unguessable bearer token (only its SHA-256 is stored) that grants that one petition and
nothing else. Reception staff of the court (policy action `petition.receive`) accept the next
petitioner in order; both then publish and view each other by WHIP/WHEP on
`petitions/<id>/petitioner` and `petitions/<id>/reception` (see `petition_media`). Ending the
session writes the outcome and the ticket is dead from then on; a ticket never answered
expires after `[hearing] petition_ticket_ttl_min`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import web
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.deadlines import Deadlines
from control.iso8601 import iso
from control.policy import Principal, Target
from control.ratelimit import RateLimit
from control.registry import RoomInfo
from hearing.errors import HearingError
from hearing.models import PETITION_STATES, Petition
from hearing.petition_form import SignUp

log = logging.getLogger(__name__)

WAITING, IN_SESSION, ENDED, LEFT, EXPIRED = PETITION_STATES
PETITIONER, RECEPTION = "petitioner", "reception"
SIDES: Final = (PETITIONER, RECEPTION)
RECEPTION_SUFFIX: Final = "PET"
MAX_LISTED = 500
SYSTEM = Principal("petition-desk", "admin")



def ticket_digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def stream_path(petition_id: int, side: str) -> str:
    return f"petitions/{petition_id}/{side}"


def petition_ref(petition_id: int) -> str:
    """What a petition session's recordings carry as their `hearing_ref`."""
    return f"petition:{petition_id}"


@dataclass(frozen=True)
class LiveSession:
    """An accepted petition, held in memory so WHIP/WHEP checks touch no database."""

    id: int
    court: str
    ticket_hash: str
    receiver: str


def _waiting(court: str, now: datetime) -> ColumnElement[bool]:
    return (Petition.court_code == court) & (Petition.state == WAITING) & \
        (Petition.expires_at > now)


def _count_waiting(session: Session, court: str, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Petition)
                              .where(_waiting(court, now))) or 0)


def _position(session: Session, p: Petition, now: datetime) -> int | None:
    if p.state != WAITING:
        return None
    ahead = session.scalar(select(func.count()).select_from(Petition)
                           .where(_waiting(p.court_code, now), Petition.id < p.id)) or 0
    return int(ahead) + 1


def ticket_json(p: Petition, position: int | None, waiting: int) -> dict[str, Any]:
    """What the ticket holder sees: their own place and, once accepted, their stream paths."""
    body: dict[str, Any] = {
        "id": p.id, "court": p.court_code, "state": p.state, "position": position,
        "waiting": waiting, "created_at": iso(p.created_at), "expires_at": iso(p.expires_at),
    }
    if p.state == IN_SESSION:
        body.update(publish=stream_path(p.id, PETITIONER), view=stream_path(p.id, RECEPTION))
    return body


def staff_json(p: Petition, position: int | None = None) -> dict[str, Any]:
    """What the court's reception sees, personal data included."""
    body: dict[str, Any] = {
        "id": p.id, "court": p.court_code, "state": p.state, "position": position,
        "name": p.name, "phone": p.phone, "id_number": p.id_number, "subject": p.subject,
        "created_at": iso(p.created_at), "expires_at": iso(p.expires_at),
        "accepted_by": p.accepted_by, "accepted_at": iso(p.accepted_at),
        "ended_by": p.ended_by, "ended_at": iso(p.ended_at), "outcome": p.outcome,
    }
    if p.state == IN_SESSION:
        body.update(publish=stream_path(p.id, RECEPTION), view=stream_path(p.id, PETITIONER))
    return body


class PetitionDesk:
    """The reception queues of this node's courts, their rate limits and live sessions."""

    def __init__(self, services: Core) -> None:
        self.services = services
        cfg = services.settings.hearing
        self.ttl = timedelta(minutes=cfg.petition_ticket_ttl_min)
        self.queue_max = cfg.petition_queue_max
        db = services.db
        self.by_address = RateLimit(db, "petition.address", cfg.petition_signups_per_address,
                                    cfg.petition_window_s)
        self.by_phone = RateLimit(db, "petition.phone", cfg.petition_signups_per_phone,
                                  cfg.petition_window_s)
        self.lock = asyncio.Lock()
        self.sessions: dict[int, LiveSession] = {}
        # Each waiting ticket's expiry is a timer: nothing sweeps the table.
        self.expiry: Deadlines[int] = Deadlines(self._expire, name="petition-expiry")

    async def start(self) -> None:
        rows = await self.services.db.run(lambda s: [
            LiveSession(p.id, p.court_code, p.ticket_hash, p.accepted_by or "")
            for p in s.scalars(select(Petition).where(Petition.state == IN_SESSION))])
        self.sessions = {r.id: r for r in rows}
        waiting = await self.services.db.run(lambda s: list(s.execute(
            select(Petition.id, Petition.expires_at).where(Petition.state == WAITING))))
        for pid, expires_at in waiting:
            self.expiry.set(pid, expires_at)
        self.expiry.start()

    async def stop(self) -> None:
        await self.expiry.stop()

    # ---- where petitions go ----

    def reception_room(self, court: str) -> RoomInfo | None:
        """Where a court's petition recordings are filed: its reception, `<court>-PET`.

        Not a courtroom: its feeds are the two sides of a session, and no courtroom's
        status, markers or alerts ever include it (the recorder sees its streams are
        not `rooms/...`)."""
        node = self.services.registry.courts.get(court)
        if node is None:
            return None
        return RoomInfo(f"{court}-{RECEPTION_SUFFIX}", court, f"{node.name_zh}诉讼服务远程接访",
                        f"{node.name_en} remote petition reception", SIDES)

    def courts(self) -> list[dict[str, Any]]:
        """Courts that receive remote petitions, in province order."""
        return [{"code": c.code, "parent": c.parent, "level": c.level, "name_zh": c.name_zh,
                 "name_en": c.name_en} for c in self.services.registry.courts.values()]

    # ---- the petitioner ----

    async def check_address(self, address: str) -> None:
        """Every sign-up attempt from an address counts, valid or not (429 beyond the limit)."""
        await self._throttle(self.by_address, address, "address")

    async def _throttle(self, window: RateLimit, key: str, what: str) -> None:
        """Count an attempt of `key` on every node's shared counter, or refuse it (429)."""
        wait = await window.hit(key)
        if wait > 0:
            seconds = math.ceil(wait)
            raise HearingError(429, f"too many petition sign-ups from this {what}; try later",
                               {"retry_after": seconds}, {"Retry-After": str(seconds)})

    async def sign_up(self, form: SignUp, address: str) -> tuple[str, dict[str, Any]]:
        """A new place at the end of the court's queue: (ticket, what the holder sees)."""
        if form.court not in self.services.registry.courts:
            raise HearingError(404, "this court takes no remote petitions",
                               {"court": form.court[:16]})
        await self._throttle(self.by_phone, form.phone, "phone number")
        ticket = secrets.token_urlsafe(32)
        now = utcnow()

        def create(session: Session) -> dict[str, Any]:
            waiting = _count_waiting(session, form.court, now)
            if waiting >= self.queue_max:
                raise HearingError(503, "the reception queue of this court is full; try later",
                                   {"waiting": waiting}, {"Retry-After": "300"})
            p = Petition(court_code=form.court, ticket_hash=ticket_digest(ticket),
                         name=form.name, phone=form.phone, id_number=form.id_number,
                         subject=form.subject, state=WAITING, address=address[:64],
                         created_at=now, expires_at=now + self.ttl)
            session.add(p)
            session.flush()
            return ticket_json(p, waiting + 1, waiting + 1)

        async with self.lock:
            body = await self.services.db.run(create)
        self.expiry.set(body["id"], now + self.ttl)
        await self._changed(body["id"], form.court, WAITING, "", self._holder(body["id"]),
                            address, now)
        return ticket, body

    @staticmethod
    def _holder(petition_id: int) -> Principal:
        return Principal(f"petitioner:{petition_id}", "public")

    def _load_ticket(self, session: Session, ticket: str, now: datetime) -> Petition:
        if not ticket:
            raise HearingError(401, "a petition ticket is required")
        p = None if len(ticket) > 128 else session.scalar(
            select(Petition).where(Petition.ticket_hash == ticket_digest(ticket)))
        if p is None:
            raise HearingError(404, "unknown ticket")
        if p.state == WAITING and p.expires_at <= now:
            raise HearingError(410, "this ticket has expired", {"state": EXPIRED})
        if p.state not in (WAITING, IN_SESSION):
            raise HearingError(410, "this ticket has expired", {"state": p.state})
        return p

    async def status(self, ticket: str) -> dict[str, Any]:
        now = utcnow()

        def look(session: Session) -> dict[str, Any]:
            p = self._load_ticket(session, ticket, now)
            return ticket_json(p, _position(session, p, now),
                               _count_waiting(session, p.court_code, now))

        return await self.services.db.run(look)

    async def leave(self, ticket: str, address: str) -> None:
        """The petitioner leaves the queue; their ticket is dead from then on."""
        now = utcnow()

        def go(session: Session) -> tuple[int, str]:
            p = self._load_ticket(session, ticket, now)
            if p.state != WAITING:
                raise HearingError(409, "the session has begun; the reception ends it",
                                   {"state": p.state})
            p.state, p.ended_at = LEFT, now
            return p.id, p.court_code

        async with self.lock:
            pid, court = await self.services.db.run(go)
        await self._changed(pid, court, LEFT, WAITING, self._holder(pid), address, now)

    # ---- the reception ----

    def ensure_receiver(self, who: Principal, court: str) -> None:
        """Reception work of `court`: 404 for a court out of sight, 403 for the wrong role."""
        policy = self.services.policy
        target = Target(kind="court", court=court)
        if court not in self.services.registry.courts or not policy.can(who, "court.view",
                                                                         target):
            raise HearingError(404, "unknown court", {"court": court[:16]})
        if not policy.can(who, "petition.receive", target):
            raise HearingError(403, "forbidden", {"action": "petition.receive"})

    async def queue(self, who: Principal, court: str) -> dict[str, Any]:
        self.ensure_receiver(who, court)
        now = utcnow()
        room = self.reception_room(court)

        def load(session: Session) -> dict[str, Any]:
            waiting = session.scalars(select(Petition).where(_waiting(court, now))
                                      .order_by(Petition.id).limit(MAX_LISTED))
            talking = session.scalars(select(Petition).where(
                Petition.court_code == court, Petition.state == IN_SESSION).order_by(Petition.id))
            return {"court": court, "room": room.code if room else None,
                    "waiting": [staff_json(p, i) for i, p in enumerate(waiting, 1)],
                    "in_session": [staff_json(p) for p in talking],
                    "total_waiting": _count_waiting(session, court, now)}

        return await self.services.db.run(load)

    async def accept_next(self, who: Principal, court: str, address: str) -> dict[str, Any]:
        """Take the first petitioner in line into a session with `who`."""
        self.ensure_receiver(who, court)
        now = utcnow()

        def take(session: Session) -> tuple[dict[str, Any], LiveSession]:
            busy = session.scalar(select(Petition.id).where(
                Petition.state == IN_SESSION, Petition.accepted_by == who.username))
            if busy is not None:
                raise HearingError(409, "end your current petition session first",
                                   {"petition": busy})
            p = session.scalars(select(Petition).where(_waiting(court, now))
                                .order_by(Petition.id).limit(1)
                                .with_for_update(skip_locked=True)).first()
            if p is None:
                raise HearingError(409, "nobody is waiting", {"court": court})
            p.state, p.accepted_by, p.accepted_at = IN_SESSION, who.username, now
            live = LiveSession(p.id, p.court_code, p.ticket_hash, who.username)
            return staff_json(p), live

        async with self.lock:
            body, live = await self.services.db.run(take)
            self.sessions[live.id] = live
        await self._changed(live.id, court, IN_SESSION, WAITING, who, address, now)
        return body

    async def detail(self, who: Principal, petition_id: int) -> dict[str, Any]:
        now = utcnow()

        def load(session: Session) -> dict[str, Any]:
            p = session.get(Petition, petition_id)
            if p is None:
                raise HearingError(404, "not found")
            self._ensure_sees(who, p.court_code)
            return staff_json(p, _position(session, p, now))

        return await self.services.db.run(load)

    def _ensure_sees(self, who: Principal, court: str) -> None:
        if not self.services.policy.can(who, "petition.receive", Target(kind="court",
                                                                        court=court)):
            raise HearingError(404, "not found")

    async def end(self, who: Principal, petition_id: int, outcome: str,
                  address: str) -> dict[str, Any]:
        """Close a session with its written outcome; the ticket expires with it."""
        now = utcnow()

        def finish(session: Session) -> dict[str, Any]:
            p = session.get(Petition, petition_id, with_for_update=True)
            if p is None:
                raise HearingError(404, "not found")
            self._ensure_sees(who, p.court_code)
            if p.state != IN_SESSION:
                raise HearingError(409, "this petition is not in a session", {"state": p.state})
            p.state, p.ended_by, p.ended_at, p.outcome = ENDED, who.username, now, outcome
            return staff_json(p)

        async with self.lock:
            body = await self.services.db.run(finish)
            self.sessions.pop(petition_id, None)
        await self._changed(petition_id, body["court"], ENDED, IN_SESSION, who, address, now,
                            outcome)
        return body

    async def expire_due(self, now: datetime | None = None) -> int:
        """Every waiting ticket past its time at `now` becomes `expired`; returns how many."""
        at = now or utcnow()
        due = await self.services.db.run(lambda s: list(s.scalars(select(Petition.id).where(
            Petition.state == WAITING, Petition.expires_at <= at))))
        return await self._expire(due, at)

    async def _expire(self, ids: list[int], now: datetime) -> int:
        """The waiting tickets among `ids` that are past their time become `expired`."""

        def expire(batch: list[int], session: Session) -> list[tuple[int, str]]:
            rows = list(session.scalars(select(Petition).where(
                Petition.id.in_(batch), Petition.state == WAITING, Petition.expires_at <= now)))
            for p in rows:
                p.state, p.ended_at = EXPIRED, now
            return [(p.id, p.court_code) for p in rows]

        gone: list[tuple[int, str]] = []
        for i in range(0, len(ids), MAX_LISTED):
            batch = ids[i:i + MAX_LISTED]
            async with self.lock:
                gone += await self.services.db.run(functools.partial(expire, batch))
        for pid, court in gone:
            await self._changed(pid, court, EXPIRED, WAITING, SYSTEM, "", now)
        return len(gone)

    async def _changed(self, pid: int, court: str, state: str, previous: str, who: Principal,
                       address: str, at: datetime, outcome: str = "") -> None:
        """Audit, then `petition.<state>` on the bus (`petition.ended` ends its media)."""
        svc = self.services
        if state != WAITING:
            self.expiry.cancel(pid)
        await svc.audit.record(who, f"petition.{state}", f"petition:{pid}", court=court,
                               address=address, detail={"from": previous or None})
        await svc.bus.publish(Event(
            kind=f"petition.{state}", target=Target(kind="court", court=court),
            action="petition.receive", at=at,
            data={"petition": pid, "state": state, "previous": previous, "by": who.username,
                  "outcome": outcome}))


PETITIONS = web.AppKey("petitions", PetitionDesk)
