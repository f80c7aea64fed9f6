"""Cases and their parties: filing, changes, search; personal data shown only to those entitled."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from control.db import utcnow
from control.iso8601 import iso
from control.policy import Policy, Principal, Target
from hearing.access import Reach, case_staff, case_target, may_see_personal_data
from hearing.bench import check_person
from hearing.case_number import CaseNumber
from hearing.errors import HearingError
from hearing.models import (
    CASE_STATUSES,
    PARTY_KINDS,
    PARTY_ROLES,
    RESTRICTIONS,
    Case,
    Hearing,
    HearingSeat,
    Party,
)

MAX_PARTIES = 200


@dataclass(frozen=True)
class PartyInput:
    """A party as entered; personal fields may be empty."""

    role: str
    kind: str
    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    minor: bool = False

    def check(self) -> None:
        if self.role not in PARTY_ROLES:
            raise HearingError(400, "unknown party role", {"allowed": list(PARTY_ROLES)})
        if self.kind not in PARTY_KINDS:
            raise HearingError(400, "unknown party kind", {"allowed": list(PARTY_KINDS)})
        if not self.name.strip():
            raise HearingError(400, "a party needs a name")
        if self.minor and self.kind != "natural":
            raise HearingError(400, "only a natural person can be a minor")


@dataclass(frozen=True)
class CaseQuery:
    """A search over the cases one may see."""

    courts: frozenset[str] | None = None
    number: str = ""
    party: str = ""
    status: str | None = None
    case_type: str | None = None
    limit: int = 50
    offset: int = 0


def check_status(status: str) -> None:
    if status not in CASE_STATUSES:
        raise HearingError(400, "unknown case status", {"allowed": list(CASE_STATUSES)})


def check_restriction(restriction: str | None) -> None:
    if restriction is not None and restriction not in RESTRICTIONS:
        raise HearingError(400, "unknown restriction", {"allowed": list(RESTRICTIONS)})


def broadcast_blockers(case: Case) -> list[str]:
    """Why a case's hearings can never be public or broadcast (state secrets, privacy, minors)."""
    reasons = [case.restriction] if case.restriction else []
    if any(p.minor for p in case.parties) and "minors" not in reasons:
        reasons.append("minors")
    return reasons


def party_json(p: Party, personal: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": p.id, "role": p.role, "kind": p.kind, "name": p.name,
                            "minor": p.minor}
    if personal:
        body.update(id_number=p.id_number, phone=p.phone, address=p.address)
    else:
        body.update(id_number=None, phone=None, address=None, personal_data_withheld=True)
    return body


def case_json(case: Case, personal: bool, parties: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": case.id, "number": case.number, "year": case.year, "type": case.case_type,
        "type_code": case.type_code, "cause": case.cause, "court": case.court_code,
        "presiding_judge": case.presiding_judge, "clerk": case.clerk, "status": case.status,
        "restriction": case.restriction, "created_by": case.created_by,
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
    }
    if parties:
        body["parties"] = [party_json(p, personal) for p in case.parties]
    return body


def _check_people(session: Session, court: str, judge: str | None, clerk: str | None) -> None:
    if judge is not None:
        check_person(session, judge, "judge", court, "presiding_judge")
    if clerk is not None:
        check_person(session, clerk, "clerk", court, "clerk")


def _add_parties(case: Case, parties: list[PartyInput]) -> None:
    if len(case.parties) + len(parties) > MAX_PARTIES:
        raise HearingError(400, f"a case has at most {MAX_PARTIES} parties")
    for p in parties:
        p.check()
        case.parties.append(Party(role=p.role, kind=p.kind, name=p.name.strip(),
                                  id_number=p.id_number, phone=p.phone, address=p.address,
                                  minor=p.minor))


def create_case(session: Session, policy: Policy, who: Principal, number: CaseNumber,
                court: str, cause: str, judge: str | None, clerk: str | None, status: str,
                restriction: str | None, parties: list[PartyInput]) -> dict[str, Any]:
    """File a case with its parties in the caller's transaction; 409 if the number exists."""
    policy.require(who, "hearing.schedule", Target(kind="hearing", court=court))
    check_status(status)
    check_restriction(restriction)
    _check_people(session, court, judge, clerk)
    text = str(number)
    if session.scalar(select(Case.id).where(Case.number == text)) is not None:
        raise HearingError(409, "a case with this number exists", {"number": text})
    case = Case(number=text, year=number.year, type_code=number.type_code,
                case_type=number.case_type, cause=cause, court_code=court,
                presiding_judge=judge, clerk=clerk, status=status, restriction=restriction,
                created_by=who.username, parties=[])
    _add_parties(case, parties)
    session.add(case)
    try:
        session.flush()
    except IntegrityError:  # filed by someone else between the check and the insert
        raise HearingError(409, "a case with this number exists", {"number": text}) from None
    return case_json(case, personal=True)


def load_case(session: Session, policy: Policy, who: Principal, case_id: int,
              action: str = "hearing.view") -> tuple[Case, frozenset[str]]:
    """The case and its staff if `who` may see it (404 otherwise) and do `action` (403)."""
    case = session.get(Case, case_id, options=[selectinload(Case.parties)])
    if case is None:
        raise HearingError(404, "not found")
    staff = case_staff(session, case)
    target = case_target(case, staff)
    policy.require(who, "hearing.view", target, hide=True)
    if action != "hearing.view":
        policy.require(who, action, target)
    return case, staff


def get_case(session: Session, policy: Policy, who: Principal, case_id: int) -> dict[str, Any]:
    case, staff = load_case(session, policy, who, case_id)
    personal = may_see_personal_data(policy, who, case_target(case, staff))
    body = case_json(case, personal)
    body["hearings"] = [
        {"id": h.id, "room": h.room_code, "starts_at": iso(h.starts_at),
         "ends_at": iso(h.ends_at), "state": h.state}
        for h in case.hearings
    ]
    body["broadcast_blockers"] = broadcast_blockers(case)
    return body


def update_case(session: Session, policy: Policy, who: Principal, case_id: int,
                changes: dict[str, Any]) -> dict[str, Any]:
    """Change cause, judge, clerk, status or restriction; the number never changes."""
    case, _ = load_case(session, policy, who, case_id, "hearing.schedule")
    if "status" in changes:
        check_status(changes["status"])
    if "restriction" in changes:
        check_restriction(changes["restriction"])
    _check_people(session, case.court_code, changes.get("presiding_judge"), changes.get("clerk"))
    for key in ("cause", "presiding_judge", "clerk", "status", "restriction"):
        if key in changes:
            setattr(case, key, changes[key])
    if case.restriction or any(p.minor for p in case.parties):
        _withdraw_from_public(session, case)
    case.updated_at = utcnow()
    session.flush()
    staff = case_staff(session, case)
    return case_json(case, may_see_personal_data(policy, who, case_target(case, staff)))


def _withdraw_from_public(session: Session, case: Case) -> None:
    """A case that became restricted takes its coming hearings off the public schedule, and
    stops the broadcast of any that is live."""
    for h in session.scalars(select(Hearing).where(Hearing.case_id == case.id,
                                                   Hearing.state == "scheduled")):
        h.public = h.broadcast_approved = False
    for h in session.scalars(select(Hearing).where(
            Hearing.case_id == case.id, Hearing.state.in_(("opened", "recess", "resumed")))):
        h.broadcast_approved = False


def add_parties(session: Session, policy: Policy, who: Principal, case_id: int,
                parties: list[PartyInput]) -> list[dict[str, Any]]:
    case, _ = load_case(session, policy, who, case_id, "hearing.schedule")
    before = len(case.parties)
    _add_parties(case, parties)
    if any(p.minor for p in parties):
        _withdraw_from_public(session, case)
    case.updated_at = utcnow()
    session.flush()
    return [party_json(p, personal=True) for p in case.parties[before:]]


def list_parties(session: Session, policy: Policy, who: Principal,
                 case_id: int) -> list[dict[str, Any]]:
    case, staff = load_case(session, policy, who, case_id)
    personal = may_see_personal_data(policy, who, case_target(case, staff))
    return [party_json(p, personal) for p in case.parties]


def search_cases(session: Session, policy: Policy, who: Principal, reach: Reach,
                 query: CaseQuery) -> dict[str, Any]:
    """One page of the cases `who` may see, newest first, with the total."""
    cond = reach.case_filter()
    if query.courts is not None:
        cond = cond & Case.court_code.in_(sorted(query.courts))
    if query.number:
        cond = cond & Case.number.contains(query.number, autoescape=True)
    if query.party:
        named = select(Party.case_id).where(Party.name.contains(query.party, autoescape=True))
        cond = cond & Case.id.in_(named)
    if query.status:
        cond = cond & (Case.status == query.status)
    if query.case_type:
        cond = cond & (Case.case_type == query.case_type)
    total = session.scalar(select(func.count()).select_from(Case).where(cond)) or 0
    rows = list(session.scalars(
        select(Case).where(cond).options(selectinload(Case.parties))
        .order_by(Case.id.desc()).limit(query.limit).offset(query.offset)
    ))
    seated: dict[int, set[str]] = defaultdict(set)
    for case_id, username in session.execute(
        select(Hearing.case_id, HearingSeat.username).join(HearingSeat)
        .where(Hearing.case_id.in_([c.id for c in rows]))
    ):
        seated[case_id].add(username)
    items = []
    for case in rows:
        staff = {n for n in (case.presiding_judge, case.clerk) if n} | seated[case.id]
        target = case_target(case, staff)
        if not policy.can(who, "hearing.view", target):  # the SQL filter mirrors the policy
            continue
        items.append(case_json(case, may_see_personal_data(policy, who, target)))
    return {"total": total, "limit": query.limit, "offset": query.offset, "items": items}
