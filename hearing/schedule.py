"""The hearing schedule: booking a courtroom and a bench for a window, refusing double bookings.

A hearing that is scheduled or live holds its room and every person on its bench for its window
(half-open: one may start the minute another ends). Bookings lock the room's and the people's
rows first (PostgreSQL) and run under the service's lock (SQLite), so two clerks cannot book
the same judge at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from control.alerts import Upcoming
from control.db import Database, utcnow
from control.iso8601 import iso
from control.models import Courtroom, User
from control.policy import Policy, Principal, Target
from control.registry import CourtRegistry
from hearing.access import Reach, case_staff, case_target, hearing_target
from hearing.bench import Bench, check_bench
from hearing.cases import broadcast_blockers
from hearing.errors import HearingError
from hearing.lifecycle import ACTIVE, LIVE, allowed, load_hearing
from hearing.models import Case, Hearing, HearingEvent, HearingSeat
from hearing.sites import check_link

MAX_DURATION: Final = timedelta(hours=12)
UPCOMING_WINDOW: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class Conflict:
    """A booking that collides with the one asked for: the room, or a person on both benches."""

    hearing_id: int
    case_number: str
    room: str
    starts_at: datetime
    ends_at: datetime
    reason: str  # room | presiding_judge | panel | clerk
    who: str | None = None

    def json(self) -> dict[str, Any]:
        return {"hearing": self.hearing_id, "case": self.case_number, "room": self.room,
                "starts_at": iso(self.starts_at), "ends_at": iso(self.ends_at),
                "reason": self.reason, "who": self.who}

    def sentence(self) -> str:
        what = "courtroom " + self.room if self.reason == "room" else f"{self.who}"
        return (f"{what} is already booked for hearing {self.hearing_id} of {self.case_number} "
                f"from {iso(self.starts_at)} to {iso(self.ends_at)}")


@dataclass(frozen=True)
class Slot:
    """Where, when and who: what a booking asks for."""

    room: str
    starts_at: datetime
    ends_at: datetime
    bench: Bench


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end) share a moment."""
    return a_start < b_end and b_start < a_end


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise HearingError(400, "ends_at must be after starts_at")
    if ends_at - starts_at > MAX_DURATION:
        raise HearingError(400, f"a hearing lasts at most {MAX_DURATION.seconds // 3600} hours; "
                                "schedule each day separately")
    if ends_at <= now:
        raise HearingError(400, "the window has already passed")


_SEAT_REASON: Final = {"presiding": "presiding_judge", "panel": "panel", "clerk": "clerk"}


def find_conflicts(session: Session, room: str, starts_at: datetime, ends_at: datetime,
                   people: Iterable[str], exclude: int | None = None) -> list[Conflict]:
    """Active hearings that hold `room` or any of `people` during [starts_at, ends_at)."""
    window = (Hearing.starts_at < ends_at) & (Hearing.ends_at > starts_at) & \
        Hearing.state.in_(ACTIVE)
    if exclude is not None:
        window = window & (Hearing.id != exclude)
    found: list[Conflict] = []
    for h, number in session.execute(
        select(Hearing, Case.number).join(Case).where(window, Hearing.room_code == room)
        .order_by(Hearing.starts_at, Hearing.id)
    ):
        found.append(Conflict(h.id, number, h.room_code, h.starts_at, h.ends_at, "room"))
    names = sorted(set(people))
    for h, number, username, seat in session.execute(
        select(Hearing, Case.number, HearingSeat.username, HearingSeat.seat)
        .join(Case, Case.id == Hearing.case_id).join(HearingSeat)
        .where(window, HearingSeat.username.in_(names))
        .order_by(Hearing.starts_at, Hearing.id, HearingSeat.id)
    ):
        found.append(Conflict(h.id, number, h.room_code, h.starts_at, h.ends_at,
                              _SEAT_REASON.get(seat, seat), username))
    return found


def refuse_conflicts(session: Session, slot: Slot, exclude: int | None = None) -> None:
    # Hold the room's and the people's rows first so concurrent bookings queue (PostgreSQL).
    session.execute(select(Courtroom.code).where(Courtroom.code == slot.room).with_for_update())
    session.execute(select(User.id).where(User.username.in_(sorted(slot.bench.people)))
                    .order_by(User.username).with_for_update())
    conflicts = find_conflicts(session, slot.room, slot.starts_at, slot.ends_at,
                               slot.bench.people, exclude)
    if conflicts:
        raise HearingError(409, conflicts[0].sentence(),
                           {"conflicts": [c.json() for c in conflicts]})


def hearing_json(h: Hearing) -> dict[str, Any]:
    return {
        "id": h.id, "case": {"id": h.case.id, "number": h.case.number, "cause": h.case.cause,
                             "type": h.case.case_type},
        "court": h.court_code, "room": h.room_code, "title": h.title,
        "starts_at": iso(h.starts_at), "ends_at": iso(h.ends_at),
        "presiding_judge": h.presiding_judge, "panel": h.panel, "clerk": h.clerk,
        "public": h.public, "broadcast_approved": h.broadcast_approved,
        "broadcast_approved_by": h.broadcast_approved_by, "state": h.state,
        "allowed": list(allowed(h.state)), "state_changed_at": iso(h.state_changed_at),
        "opened_at": iso(h.opened_at), "closed_at": iso(h.closed_at),
        "remote_site": h.remote_site,
        "created_by": h.created_by, "created_at": iso(h.created_at),
    }


def _check_room(registry: CourtRegistry, room: str, court: str) -> None:
    info = registry.rooms.get(room)
    if info is None:
        raise HearingError(400, "unknown courtroom", {"room": room[:32]})
    if info.court != court:
        raise HearingError(400, "the courtroom belongs to another court",
                           {"room": room, "court": info.court, "case_court": court})


def _check_public(case: Case, public: bool) -> None:
    blockers = broadcast_blockers(case)
    if public and blockers:
        raise HearingError(400, "this case is heard in private", {"restrictions": blockers})


def _fill_bench(bench: Bench, case: Case) -> Bench:
    """An empty presiding judge or clerk seat is taken by the case's own."""
    judge = bench.presiding_judge or case.presiding_judge
    clerk = bench.clerk or case.clerk
    if not judge or not clerk:
        missing = "presiding_judge" if not judge else "clerk"
        raise HearingError(400, f"missing field {missing!r} (the case names none)")
    return replace(bench, presiding_judge=judge, clerk=clerk)


def schedule_hearing(session: Session, policy: Policy, registry: CourtRegistry, who: Principal,
                     case_id: int, slot: Slot, public: bool, title: str,
                     now: datetime, remote_site: str | None = None,
                     ) -> tuple[dict[str, Any], Target]:
    """Book a new hearing of a case; the case's judge and clerk fill empty seats."""
    case = session.get(Case, case_id, options=[selectinload(Case.parties)])
    if case is None:
        raise HearingError(404, "not found")
    policy.require(who, "hearing.view", case_target(case, case_staff(session, case)), hide=True)
    policy.require(who, "hearing.schedule", Target(kind="hearing", court=case.court_code))
    slot = replace(slot, bench=_fill_bench(slot.bench, case))
    _check_room(registry, slot.room, case.court_code)
    check_window(slot.starts_at, slot.ends_at, now)
    check_bench(session, slot.bench, case.court_code)
    _check_public(case, public)
    site = check_link(session, registry, remote_site, case.court_code)
    refuse_conflicts(session, slot)
    h = Hearing(case=case, court_code=case.court_code, room_code=slot.room, title=title,
                starts_at=slot.starts_at, ends_at=slot.ends_at, public=public, state="scheduled",
                state_changed_at=now, created_by=who.username, created_at=now, remote_site=site,
                seats=[HearingSeat(username=u, seat=s) for u, s in slot.bench.seats()])
    session.add(h)
    session.flush()
    session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username, kind="scheduled",
                             to_state="scheduled",
                             detail={"room": slot.room, "starts_at": iso(slot.starts_at),
                                     "ends_at": iso(slot.ends_at)}))
    return hearing_json(h), hearing_target(h)


def _set_seats(h: Hearing, bench: Bench) -> None:
    """Change seats in place: a person who stays keeps their row (unique per hearing)."""
    wanted = dict(bench.seats())
    h.seats = [s for s in h.seats if s.username in wanted]
    for seat in h.seats:
        seat.seat = wanted.pop(seat.username)
    h.seats.extend(HearingSeat(username=u, seat=s) for u, s in wanted.items())


def reschedule_hearing(session: Session, policy: Policy, registry: CourtRegistry,
                       who: Principal, hearing_id: int, changes: dict[str, Any],
                       now: datetime) -> tuple[dict[str, Any], Target]:
    """Move, re-staff or retitle a hearing; a live one may only have its end moved."""
    h = load_hearing(session, policy, who, hearing_id, lock=True, action="hearing.schedule")
    if h.state not in ACTIVE:
        raise HearingError(409, f"a {h.state} hearing cannot be changed", {"state": h.state})
    if h.state in LIVE and set(changes) - {"ends_at", "title"}:
        raise HearingError(409, "a live hearing may only have its end time or title changed",
                           {"state": h.state})
    bench = Bench(changes.get("presiding_judge", h.presiding_judge),
                  changes.get("clerk", h.clerk), tuple(changes.get("panel", h.panel)))
    slot = Slot(changes.get("room", h.room_code), changes.get("starts_at", h.starts_at),
                changes.get("ends_at", h.ends_at), bench)
    public = changes.get("public", h.public)
    before = hearing_json(h)
    old = Slot(h.room_code, h.starts_at, h.ends_at, Bench(h.presiding_judge, h.clerk,
                                                           tuple(h.panel)))
    if slot != old:  # a title or disclosure change books nothing new
        _check_room(registry, slot.room, h.court_code)
        check_window(slot.starts_at, slot.ends_at, now)
        if bench != old.bench:
            check_bench(session, bench, h.court_code)
        refuse_conflicts(session, slot, exclude=h.id)
    _check_public(h.case, public)
    h.room_code, h.starts_at, h.ends_at = slot.room, slot.starts_at, slot.ends_at
    h.public, h.title = public, changes.get("title", h.title)
    if "remote_site" in changes:
        h.remote_site = check_link(session, registry, changes["remote_site"], h.court_code)
    if not public:
        h.broadcast_approved = False
    _set_seats(h, bench)
    session.flush()
    after = hearing_json(h)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username, kind="rescheduled",
                             detail=diff))
    return after, hearing_target(h)


@dataclass(frozen=True)
class HearingQuery:
    """Hearings overlapping [starts, ends) in the given courts, room, state and case."""

    courts: frozenset[str] | None = None
    room: str | None = None
    starts: datetime | None = None
    ends: datetime | None = None
    states: tuple[str, ...] = ()
    case_id: int | None = None
    limit: int = 100
    offset: int = 0


def find_hearings(session: Session, policy: Policy, who: Principal, reach: Reach,
                  q: HearingQuery) -> tuple[int, list[Hearing]]:
    """The total and one page of the hearings `who` may see, by start time."""
    cond = reach.hearing_filter()
    if q.courts is not None:
        cond = cond & Hearing.court_code.in_(sorted(q.courts))
    if q.room is not None:
        cond = cond & (Hearing.room_code == q.room)
    if q.ends is not None:
        cond = cond & (Hearing.starts_at < q.ends)
    if q.starts is not None:
        cond = cond & (Hearing.ends_at > q.starts)
    if q.states:
        cond = cond & Hearing.state.in_(q.states)
    if q.case_id is not None:
        cond = cond & (Hearing.case_id == q.case_id)
    total = session.scalar(select(func.count()).select_from(Hearing).where(cond)) or 0
    rows = session.scalars(
        select(Hearing).where(cond)
        .options(selectinload(Hearing.seats), selectinload(Hearing.case))
        .order_by(Hearing.starts_at, Hearing.id).limit(q.limit).offset(q.offset)
    )
    # The SQL filter mirrors the policy; the policy still has the last word on each row.
    return total, [h for h in rows if policy.can(who, "hearing.view", hearing_target(h))]


def schedule_view(session: Session, policy: Policy, who: Principal, reach: Reach,
                  registry: CourtRegistry, q: HearingQuery) -> list[dict[str, Any]]:
    """The window's hearings (cancelled left out) grouped by courtroom, in registry order."""
    _, hearings = find_hearings(session, policy, who, reach, q)
    by_room: dict[str, list[dict[str, Any]]] = {}
    for h in hearings:
        if h.state != "cancelled":
            by_room.setdefault(h.room_code, []).append(hearing_json(h))
    rooms = [r for r in registry.rooms.values() if r.code in by_room]
    return [{"room": r.code, "court": r.court, "name_zh": r.name_zh, "name_en": r.name_en,
             "hearings": by_room[r.code]} for r in rooms]


async def upcoming_hearings(db: Database, within: timedelta = UPCOMING_WINDOW) -> list[Upcoming]:
    """Scheduled hearings starting soon: monitoring checks that their rooms are live."""
    now = utcnow()

    def load(session: Session) -> list[Upcoming]:
        rows = session.execute(
            select(Hearing.id, Hearing.room_code, Hearing.starts_at)
            .where(Hearing.state == "scheduled", Hearing.starts_at >= now,
                   Hearing.starts_at <= now + within))
        return [Upcoming(room, start, f"hearing:{hid}") for hid, room, start in rows]

    return await db.run(load)
