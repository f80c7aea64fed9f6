"""The life of a hearing: scheduled → opened → recess ↔ resumed → closed (or adjourned, cancelled).

Every transition is checked against the table below, written with its log row in one database
transaction, then audited and published on the bus as `hearing.<state>` (`hearing.opened` ...);
the parts that react to it (recording, overdue watch, broadcasts, arraignment, alerts) are
handlers of that event kind, and `transition` returns once they have run. Court rules require
the whole hearing to be recorded: a hearing with a recording gap that the presiding judge has
not explained cannot end.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.iso8601 import iso, parse_iso
from control.policy import Policy, Principal, Target
from hearing.access import hearing_target
from hearing.errors import HearingError
from hearing.models import Hearing, HearingEvent, RecordingGap

log = logging.getLogger(__name__)

SCHEDULED, OPENED, RECESS, RESUMED = "scheduled", "opened", "recess", "resumed"
CLOSED, ADJOURNED, CANCELLED = "closed", "adjourned", "cancelled"

TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    SCHEDULED: (OPENED, CANCELLED),
    OPENED: (RECESS, CLOSED, ADJOURNED),
    RECESS: (RESUMED, ADJOURNED),
    RESUMED: (RECESS, CLOSED, ADJOURNED),
    CLOSED: (),
    ADJOURNED: (),
    CANCELLED: (),
}
STATES: Final = tuple(TRANSITIONS)
LIVE: Final = (OPENED, RECESS, RESUMED)
# States that hold their room and bench: a conflict for anything else in that window.
ACTIVE: Final = (SCHEDULED, *LIVE)
# Ending a live hearing needs every recording gap explained.
ENDING: Final = (CLOSED, ADJOURNED)


def allowed(state: str) -> tuple[str, ...]:
    return TRANSITIONS.get(state, ())


def check_transition(state: str, to: str) -> None:
    """Raise 400 for an unknown state, 409 naming the allowed ones for an illegal move."""
    if to not in TRANSITIONS:
        raise HearingError(400, "unknown hearing state", {"allowed": list(STATES)})
    if to not in allowed(state):
        raise HearingError(409, f"a hearing cannot go from {state} to {to}",
                           {"state": state, "to": to, "allowed": list(allowed(state))})


@dataclass(frozen=True)
class HearingInfo:
    """A hearing as it stands after a transition; what hooks and the recorder receive."""

    id: int
    case_id: int
    case_number: str
    court: str
    room: str
    state: str
    previous: str
    at: datetime
    starts_at: datetime
    ends_at: datetime
    presiding_judge: str
    public: bool
    case_type: str = ""
    feeds: tuple[str, ...] = ()


# The bus event kinds of transitions, one per state a hearing can move to.
TRANSITION_KINDS: Final = ("hearing.opened", "hearing.recess", "hearing.resumed",
                           "hearing.closed", "hearing.adjourned", "hearing.cancelled")


@dataclass(frozen=True)
class Transition:
    """A transition as its `hearing.<state>` event carries it (JSON, so it may cross nodes)."""

    hearing: int
    case: str
    court: str
    room: str
    state: str
    previous: str
    at: datetime
    ends_at: datetime
    case_type: str = ""  # civil, criminal, ...: how long its recordings are kept

    @classmethod
    def of(cls, event: Event) -> Transition:
        d = event.data
        return cls(int(d["hearing"]), str(d["case"]), event.target.court or "",
                   event.target.room or "", str(d["state"]), str(d["previous"]), event.at,
                   parse_iso(str(d["ends_at"])), str(d.get("case_type") or ""))


def load_hearing(session: Session, policy: Policy, who: Principal, hearing_id: int,
                 lock: bool = False, action: str = "hearing.view") -> Hearing:
    """The hearing if `who` may see it (404 otherwise) and do `action` (403); `lock` holds its
    row (PostgreSQL)."""
    h = session.get(Hearing, hearing_id, with_for_update=lock or None,
                    options=[selectinload(Hearing.seats), selectinload(Hearing.case)])
    if h is None:
        raise HearingError(404, "not found")
    target = hearing_target(h)
    policy.require(who, "hearing.view", target, hide=True)
    if action != "hearing.view":
        policy.require(who, action, target)
    return h


def ensure_may_steer(policy: Policy, who: Principal, h: Hearing, to: str) -> None:
    """Clerks of the court (hearing.schedule) steer any hearing; a judge only as presiding."""
    target = hearing_target(h)
    if policy.can(who, "hearing.schedule", target):
        return
    if to == CANCELLED:
        raise HearingError(403, "cancelling is scheduling", {"action": "hearing.schedule"})
    policy.require(who, "hearing.mark", target)
    if who.username != h.presiding_judge:
        raise HearingError(403, "only the presiding judge or a clerk of the court may do this")


def unexplained_gaps(session: Session, hearing_id: int) -> list[int]:
    return list(session.scalars(
        select(RecordingGap.id).where(RecordingGap.hearing_id == hearing_id,
                                      RecordingGap.explanation.is_(None))
        .order_by(RecordingGap.id)
    ))


def apply_transition(session: Session, policy: Policy, who: Principal, hearing_id: int, to: str,
                     reason: str, now: datetime) -> tuple[HearingInfo, Target]:
    """Move the hearing to `to` in the caller's transaction; every refusal leaves no trace."""
    h = load_hearing(session, policy, who, hearing_id, lock=True)
    ensure_may_steer(policy, who, h, to)
    check_transition(h.state, to)
    if to in ENDING:
        gaps = unexplained_gaps(session, h.id)
        if gaps:
            raise HearingError(409, "recording gaps must be explained by the presiding judge "
                                    "before the hearing ends", {"unexplained_gaps": gaps})
    previous = h.state
    h.state, h.state_changed_at = to, now
    if to == OPENED:
        h.opened_at = now
    elif to in ENDING:
        h.closed_at = now
    session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username, kind="transition",
                             from_state=previous, to_state=to, detail={"reason": reason}))
    info = HearingInfo(h.id, h.case_id, h.case.number, h.court_code, h.room_code, to, previous,
                       now, h.starts_at, h.ends_at, h.presiding_judge, h.public,
                       h.case.case_type)
    return info, hearing_target(h)


def record_gap(session: Session, hearing_id: int, started_at: datetime,
               ended_at: datetime | None = None, feed: str | None = None,
               cause: str = "") -> RecordingGap:
    """Write a recording gap of a hearing (the recorder calls this when recording breaks)."""
    gap = RecordingGap(hearing_id=hearing_id, started_at=started_at, ended_at=ended_at,
                       feed=feed, cause=cause[:128])
    session.add(gap)
    session.flush()
    return gap


def gap_json(gap: RecordingGap) -> dict[str, Any]:
    return {
        "id": gap.id, "feed": gap.feed, "started_at": iso(gap.started_at),
        "ended_at": iso(gap.ended_at), "cause": gap.cause, "explanation": gap.explanation,
        "explained_by": gap.explained_by, "explained_at": iso(gap.explained_at),
        "signature": gap.signature,
    }


def gap_signature(case_number: str, gap: RecordingGap, text: str, signer: str,
                  at: datetime) -> str:
    """SHA-256 over a canonical JSON of what the judge signs: the gap and the explanation."""
    body = json.dumps(
        [gap.hearing_id, case_number, gap.id, gap.feed, iso(gap.started_at), iso(gap.ended_at),
         gap.cause, text, signer, iso(at)],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def apply_explanation(session: Session, policy: Policy, who: Principal, hearing_id: int,
                      gap_id: int, text: str, now: datetime) -> tuple[dict[str, Any], Hearing]:
    """Sign the presiding judge's explanation of one gap; once signed it never changes."""
    h = load_hearing(session, policy, who, hearing_id, lock=True)
    gap = session.get(RecordingGap, gap_id, with_for_update=True)
    if gap is None or gap.hearing_id != h.id:
        raise HearingError(404, "not found")
    policy.require(who, "hearing.mark", hearing_target(h))
    if who.username != h.presiding_judge:
        raise HearingError(403, "only the presiding judge may explain a recording gap")
    if gap.explanation is not None:
        raise HearingError(409, "this gap is already explained", gap_json(gap))
    gap.explanation, gap.explained_by, gap.explained_at = text, who.username, now
    gap.signature = gap_signature(h.case.number, gap, text, who.username, now)
    session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username, kind="gap.explained",
                             detail={"gap": gap.id, "signature": gap.signature}))
    return gap_json(gap), h


class Lifecycle:
    """Runs transitions and gap explanations: database, audit, bus, hooks, in that order."""

    def __init__(self, services: Core, lock: asyncio.Lock) -> None:
        self.services, self.lock = services, lock

    async def transition(self, who: Principal, hearing_id: int, to: str, reason: str = "",
                         address: str = "") -> HearingInfo:
        svc = self.services
        now = utcnow()
        async with self.lock:
            info, target = await svc.db.run(
                lambda s: apply_transition(s, svc.policy, who, hearing_id, to, reason, now)
            )
        room = svc.registry.rooms.get(info.room)
        info = replace(info, feeds=room.feeds if room else ())
        await svc.audit.record(
            who, f"hearing.{to}", f"hearing:{info.id}", court=info.court, address=address,
            detail={"case": info.case_number, "from": info.previous, "to": to, "reason": reason},
        )
        # Awaited: when the request returns, recording has started (or its failure is known).
        await svc.bus.publish(Event(
            kind=f"hearing.{to}", target=target, action="hearing.view", at=now,
            data={"hearing": info.id, "case": info.case_number, "state": to,
                  "previous": info.previous, "ends_at": iso(info.ends_at),
                  "case_type": info.case_type},
        ))
        return info

    async def explain_gap(self, who: Principal, hearing_id: int, gap_id: int, text: str,
                          address: str = "") -> dict[str, Any]:
        svc = self.services
        now = utcnow()
        async with self.lock:
            body, h = await svc.db.run(
                lambda s: apply_explanation(s, svc.policy, who, hearing_id, gap_id, text, now)
            )
        await svc.audit.record(
            who, "hearing.gap_explained", f"hearing:{hearing_id}", court=h.court_code,
            address=address, detail={"gap": gap_id, "signature": body["signature"]},
        )
        return body
