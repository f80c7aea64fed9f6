"""Disclosure (司法公开): broadcast approval, what is on air, and publications for the public.

A hearing is broadcast only if it is public, a court leader approved it (`hearing.approve`)
and its case is free of state secrets, privacy and minors; such a case can never be approved.
While such a hearing is live its room's main feed is disclosed: the public may view it by WHEP
(capped per stream in control.live) or HLS. Recordings are published after the presiding
judge's (or a leader's) approval, documents likewise; both are redacted whenever shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from control.bus import Event
from control.core import Core
from control.iso8601 import iso
from control.policy import Policy, Principal, Target
from hearing.access import case_staff, case_target
from hearing.cases import broadcast_blockers
from hearing.errors import HearingError
from hearing.lifecycle import ENDING, LIVE, TRANSITION_KINDS, Transition, load_hearing
from hearing.models import Case, Hearing, HearingEvent, Publication
from hearing.schedule import hearing_json
from recorder.models import Recording

log = logging.getLogger(__name__)


def on_air_rows(session: Session, room: str | None = None) -> list[Hearing]:
    """Live hearings that are public, approved and free of restrictions."""
    cond = Hearing.state.in_(LIVE) & Hearing.public.is_(True) & \
        Hearing.broadcast_approved.is_(True)
    if room is not None:
        cond = cond & (Hearing.room_code == room)
    rows = session.scalars(select(Hearing).where(cond).order_by(Hearing.starts_at, Hearing.id)
                           .options(selectinload(Hearing.case).selectinload(Case.parties)))
    return [h for h in rows if not broadcast_blockers(h.case)]


class Broadcasts:
    """Which rooms are on air now (room -> hearing id); each change is `broadcast.started` or
    `broadcast.ended` on the bus (the live media admits the public, or hangs up on it)."""

    def __init__(self, services: Core) -> None:
        self.services = services
        self.on_air: dict[str, int] = {}
        for kind in TRANSITION_KINDS:
            services.bus.on(kind, self.on_transition)
        services.bus.on("case.changed", self.on_case_changed)

    async def start(self) -> None:
        rows = await self.services.db.run(lambda s: [(h.room_code, h.id)
                                                      for h in on_air_rows(s)])
        for room, hearing_id in rows:
            await self._set(room, hearing_id)

    async def update(self, room: str) -> None:
        """Re-read the room: on air with its hearing, or off air."""
        rows = await self.services.db.run(lambda s: [h.id for h in on_air_rows(s, room)])
        await self._set(room, rows[0] if rows else None)

    async def _set(self, room: str, hearing_id: int | None) -> None:
        was = self.on_air.get(room)
        if was == hearing_id:
            return
        if hearing_id is None:
            del self.on_air[room]
        else:
            self.on_air[room] = hearing_id
        info = self.services.registry.rooms.get(room)
        target = Target(kind="room", court=info.court if info else None, room=room)
        if was is not None:
            await self.services.bus.publish(Event(
                kind="broadcast.ended", target=target, data={"room": room, "hearing": was}))
        if hearing_id is not None and info is not None:
            # Only the main (first) feed of the room is disclosed.
            await self.services.bus.publish(Event(
                kind="broadcast.started", target=target,
                data={"room": room, "hearing": hearing_id, "feed": info.feeds[0]}))

    async def on_case_changed(self, event: Event) -> None:
        """`case.changed`: a case that became restricted goes off air at once."""
        for room in list(self.on_air):
            await self.update(room)

    async def on_transition(self, event: Event) -> None:
        """`hearing.<state>`: a room goes on or off air with its hearing."""
        moved = Transition.of(event)
        if moved.state in ENDING and self.on_air.get(moved.room) == moved.hearing:
            await self._set(moved.room, None)  # at once: no new public viewer from now
        await self.update(moved.room)


def set_broadcast(session: Session, policy: Policy, who: Principal, hearing_id: int,
                  approved: bool, now: datetime) -> dict[str, Any]:
    """A court leader approves (or withdraws) the broadcast of a public hearing."""
    h = load_hearing(session, policy, who, hearing_id, lock=True, action="hearing.approve")
    if approved:
        blockers = broadcast_blockers(h.case)
        if blockers:
            raise HearingError(409, "a case involving state secrets, privacy or minors can never "
                                    "be broadcast", {"restrictions": blockers})
        if not h.public:
            raise HearingError(409, "only a public hearing can be broadcast")
        if h.state not in ("scheduled", *LIVE):
            raise HearingError(409, f"a {h.state} hearing cannot be broadcast",
                               {"state": h.state})
    if h.broadcast_approved != approved:
        h.broadcast_approved = approved
        h.broadcast_approved_by, h.broadcast_approved_at = who.username, now
        session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username,
                                 kind="broadcast.approved" if approved else "broadcast.withdrawn",
                                 detail={}))
    return hearing_json(h)


def _may_approve_publication(policy: Policy, who: Principal, case: Case, presiding: str | None,
                             staff: Iterable[str]) -> None:
    """The presiding judge (of the hearing or the case), or a court leader in reach."""
    target = case_target(case, staff)
    policy.require(who, "hearing.view", target, hide=True)
    if policy.can(who, "hearing.approve", target):
        return
    if who.username and who.username == presiding and policy.can(who, "hearing.mark", target):
        return
    raise HearingError(403, "only the presiding judge or a court leader may publish")


def _unrestricted(case: Case) -> None:
    blockers = broadcast_blockers(case)
    if blockers:
        raise HearingError(409, "a case involving state secrets, privacy or minors is not "
                                "published", {"restrictions": blockers})


def publish_document(session: Session, policy: Policy, who: Principal, case_id: int,
                     title: str, text: str, now: datetime) -> Publication:
    case = session.get(Case, case_id, options=[selectinload(Case.parties)])
    if case is None:
        raise HearingError(404, "not found")
    _may_approve_publication(policy, who, case, case.presiding_judge, case_staff(session, case))
    _unrestricted(case)
    pub = Publication(kind="document", case_id=case.id, court_code=case.court_code, title=title,
                      body=text, approved_by=who.username, approved_at=now)
    session.add(pub)
    session.flush()
    return pub


def publish_recording(session: Session, policy: Policy, who: Principal, case_id: int,
                      recording_id: int, title: str, now: datetime) -> Publication:
    """A closed recording of a public hearing of the case, once that hearing has ended."""
    rec = session.get(Recording, recording_id)
    ref = rec.hearing_ref if rec is not None else None
    hid = int(ref.removeprefix("hearing:")) if ref and ref.startswith("hearing:") \
        and ref.removeprefix("hearing:").isdigit() else None
    h = session.get(Hearing, hid, options=[selectinload(Hearing.seats)]) if hid else None
    if rec is None or h is None or h.case_id != case_id:
        raise HearingError(404, "no recording of a hearing of this case",
                           {"recording": recording_id})
    case = h.case
    _may_approve_publication(policy, who, case, h.presiding_judge, case_staff(session, case))
    _unrestricted(case)
    if not h.public:
        raise HearingError(409, "only the recording of a public hearing is published")
    if h.state not in ENDING or rec.state == "recording":
        raise HearingError(409, "a recording is published after its hearing has ended",
                           {"state": h.state, "recording": rec.state})
    pub = Publication(kind="recording", case_id=case.id, hearing_id=h.id, recording_id=rec.id,
                      court_code=case.court_code, title=title or h.title,
                      approved_by=who.username, approved_at=now)
    session.add(pub)
    session.flush()
    return pub


def withdraw(session: Session, policy: Policy, who: Principal, pub_id: int,
             now: datetime) -> Publication:
    pub = session.get(Publication, pub_id)
    case = session.get(Case, pub.case_id) if pub is not None else None
    if pub is None or case is None:
        raise HearingError(404, "not found")
    presiding = case.presiding_judge
    if pub.hearing_id is not None:
        h = session.get(Hearing, pub.hearing_id)
        presiding = h.presiding_judge if h is not None else presiding
    _may_approve_publication(policy, who, case, presiding, case_staff(session, case))
    if pub.withdrawn_at is None:
        pub.withdrawn_by, pub.withdrawn_at = who.username, now
    return pub


def publication_json(pub: Publication) -> dict[str, Any]:
    """The staff's view: as approved, unredacted."""
    return {"id": pub.id, "kind": pub.kind, "case_id": pub.case_id, "hearing": pub.hearing_id,
            "recording": pub.recording_id, "court": pub.court_code, "title": pub.title,
            "approved_by": pub.approved_by, "approved_at": iso(pub.approved_at),
            "withdrawn_by": pub.withdrawn_by, "withdrawn_at": iso(pub.withdrawn_at)}


BROADCASTS = web.AppKey("broadcasts", Broadcasts)
