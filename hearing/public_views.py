"""What the public sees: the schedule, hearings on air and publications, redacted throughout.

Every text that leaves here went through a `Redactor` of its case (the parties' names as the
SPC 2016 rules say, ID numbers, phones, accounts, plates and address details removed). Cases
with state secrets, privacy or minors are left out even if a flag changed after the fact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from control.iso8601 import iso
from control.media_paths import room_path
from control.policy import PUBLIC, Policy
from control.registry import CourtRegistry
from hearing.access import hearing_target
from hearing.cases import broadcast_blockers
from hearing.errors import HearingError
from hearing.models import Case, Hearing, Publication
from hearing.redaction import Person, RedactionRules, Redactor
from recorder.models import Recording

MAX_SCHEDULE = 2000


def case_redactor(case: Case, rules: RedactionRules) -> Redactor:
    return Redactor([Person(p.name, p.role, p.kind, p.minor) for p in case.parties], rules)


def _court(registry: CourtRegistry, code: str) -> dict[str, Any]:
    node = registry.courts.get(code)
    return {"code": code, "name_zh": node.name_zh if node else "",
            "name_en": node.name_en if node else ""}


def _room(registry: CourtRegistry, code: str) -> dict[str, Any]:
    info = registry.rooms.get(code)
    return {"code": code, "name_zh": info.name_zh if info else "",
            "name_en": info.name_en if info else ""}


def public_case_json(case: Case, r: Redactor) -> dict[str, Any]:
    return {"number": case.number, "type": case.case_type, "cause": r.redact(case.cause),
            "parties": [{"role": p.role, "kind": p.kind, "name": r.redact(p.name)}
                        for p in case.parties]}


def public_hearing_json(h: Hearing, registry: CourtRegistry, rules: RedactionRules,
                        on_air: bool) -> dict[str, Any]:
    r = case_redactor(h.case, rules)
    return {"id": h.id, "case": public_case_json(h.case, r), "title": r.redact(h.title),
            "court": _court(registry, h.court_code), "room": _room(registry, h.room_code),
            "starts_at": iso(h.starts_at), "ends_at": iso(h.ends_at), "state": h.state,
            "on_air": on_air}


def public_schedule(session: Session, policy: Policy, registry: CourtRegistry,
                    rules: RedactionRules, courts: frozenset[str] | None, start: datetime,
                    end: datetime, on_air: dict[str, int]) -> list[dict[str, Any]]:
    """Public hearings in [start, end), cancelled ones left out, by start time."""
    cond = Hearing.public.is_(True) & (Hearing.state != "cancelled") & \
        (Hearing.starts_at < end) & (Hearing.ends_at > start)
    if courts is not None:
        cond = cond & Hearing.court_code.in_(sorted(courts))
    rows = session.scalars(select(Hearing).where(cond).order_by(Hearing.starts_at, Hearing.id)
                           .limit(MAX_SCHEDULE)
                           .options(selectinload(Hearing.case).selectinload(Case.parties),
                                    selectinload(Hearing.seats)))
    return [public_hearing_json(h, registry, rules, on_air.get(h.room_code) == h.id)
            for h in rows if disclosed(policy, h)]


def disclosed(policy: Policy, h: Hearing) -> bool:
    """The one policy has the last word (the public sees what is disclosed), and a case
    with state secrets, privacy or minors is never shown even if a flag changed late."""
    return policy.can(PUBLIC, "hearing.view", hearing_target(h)) and not broadcast_blockers(h.case)


def on_air_json(session: Session, policy: Policy, registry: CourtRegistry,
                rules: RedactionRules, on_air: dict[str, int]) -> list[dict[str, Any]]:
    """The hearings on air now, in the order they started."""
    ids = sorted(set(on_air.values()))
    rows = session.scalars(select(Hearing).where(Hearing.id.in_(ids))
                           .order_by(Hearing.opened_at, Hearing.id)
                           .options(selectinload(Hearing.case).selectinload(Case.parties),
                                    selectinload(Hearing.seats)))
    out = []
    for h in rows:
        if not disclosed(policy, h) or on_air.get(h.room_code) != h.id:
            continue
        body = public_hearing_json(h, registry, rules, True)
        info = registry.rooms.get(h.room_code)
        feed = info.feeds[0] if info else "main"
        body.update(whep=f"/whep/{room_path(h.room_code, feed)}",
                    hls=f"/api/public/live/{h.id}/playlist.m3u8")
        out.append(body)
    return out


def _published(session: Session, pub_id: int, kind: str) -> tuple[Publication, Case]:
    pub = session.get(Publication, pub_id)
    case = session.get(Case, pub.case_id, options=[selectinload(Case.parties)]) \
        if pub is not None else None
    if pub is None or case is None or pub.kind != kind or pub.withdrawn_at is not None \
            or broadcast_blockers(case):
        raise HearingError(404, "not found")
    return pub, case


def publication_public_json(pub: Publication, case: Case, registry: CourtRegistry,
                            rules: RedactionRules) -> dict[str, Any]:
    r = case_redactor(case, rules)
    body = {"id": pub.id, "kind": pub.kind, "title": r.redact(pub.title),
            "case": public_case_json(case, r), "court": _court(registry, pub.court_code),
            "published_at": iso(pub.approved_at)}
    if pub.kind == "document":
        body["document"] = f"/api/public/documents/{pub.id}"
    else:
        body["playlist"] = f"/api/public/recordings/{pub.id}/playlist.m3u8"
    return body


def list_publications(session: Session, registry: CourtRegistry, rules: RedactionRules,
                      kind: str | None, courts: frozenset[str] | None, limit: int,
                      offset: int) -> dict[str, Any]:
    cond: ColumnElement[bool] = Publication.withdrawn_at.is_(None)
    if kind is not None:
        cond = cond & (Publication.kind == kind)
    if courts is not None:
        cond = cond & Publication.court_code.in_(sorted(courts))
    total = session.scalar(select(func.count()).select_from(Publication).where(cond)) or 0
    rows = session.execute(
        select(Publication, Case).join(Case, Case.id == Publication.case_id).where(cond)
        .order_by(Publication.approved_at.desc(), Publication.id.desc())
        .limit(limit).offset(offset).options(selectinload(Case.parties))).all()
    items = [publication_public_json(pub, case, registry, rules) for pub, case in rows
             if not broadcast_blockers(case)]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def public_document(session: Session, registry: CourtRegistry, rules: RedactionRules,
                    pub_id: int) -> dict[str, Any]:
    pub, case = _published(session, pub_id, "document")
    body = publication_public_json(pub, case, registry, rules)
    body["text"] = case_redactor(case, rules).redact(pub.body)
    return body


def published_recording(session: Session, pub_id: int) -> Recording:
    pub, _case = _published(session, pub_id, "recording")
    rec = session.get(Recording, pub.recording_id) if pub.recording_id is not None else None
    if rec is None:
        raise HearingError(404, "not found")
    return rec
