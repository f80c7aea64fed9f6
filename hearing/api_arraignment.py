"""Arraignment API: the site's hearings, identity on camera, the record and its signature, and
private consultations.

Routes called by a remote site authenticate with its credential (Bearer); a consultation is
opened with a lawyer's one-time code; everything else is asked of the one policy.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from control.bus import Event
from control.db import utcnow
from control.http import bearer_token, client_address, core_of, field, read_fields, require_user
from control.iso8601 import iso
from control.media_paths import room_path
from control.policy import Principal
from hearing import consultation as consult
from hearing.access import hearing_target
from hearing.arraignment import ARRAIGNMENT, site_may_connect, site_path
from hearing.errors import HearingError
from hearing.http import no_store_reply, path_id, text
from hearing.lifecycle import LIVE, OPENED, RESUMED, SCHEDULED, load_hearing
from hearing.models import Hearing, HearingEvent, HearingSignature, Party, RemoteSite
from hearing.signature import (
    DEFENDANT_ROLES,
    SIGNING_WINDOW,
    Png,
    decode_png,
    defendants,
    may_sign,
    record_sha256,
    record_text,
    signature_json,
)
from hearing.sites import looks_like_credential, require_site, site_principal

routes = web.RouteTableDef()
SITE_LOOKAHEAD = timedelta(days=7)


def _linked(session: Session, site: RemoteSite, hearing_id: int) -> Hearing:
    """The hearing if it is linked to `site`; other hearings do not exist for a site."""
    h = session.get(Hearing, hearing_id,
                    options=[selectinload(Hearing.seats), selectinload(Hearing.case)])
    if h is None or h.remote_site != site.code:
        raise HearingError(404, "not found")
    return h


# ---- the site's own view ----

@routes.get("/api/site/hearings")
async def site_hearings(request: web.Request) -> web.Response:
    """The site's arraignments: coming within a week, live, or ended and open for signing."""
    svc = core_of(request)
    site = await require_site(svc, request)
    now = utcnow()

    def load(session: Session) -> list[dict[str, Any]]:
        rows = session.scalars(
            select(Hearing).where(
                Hearing.remote_site == site.code,
                or_(Hearing.state.in_(LIVE),
                    (Hearing.state == SCHEDULED) & (Hearing.ends_at > now)
                    & (Hearing.starts_at <= now + SITE_LOOKAHEAD),
                    Hearing.closed_at >= now - SIGNING_WINDOW))
            .options(selectinload(Hearing.case)).order_by(Hearing.starts_at).limit(50))
        consultations = consult.open_for_site(session, site.code, now)
        out = []
        for h in rows:
            signed = set(session.scalars(select(HearingSignature.party_id)
                                         .where(HearingSignature.hearing_id == h.id)))
            room = svc.registry.rooms.get(h.room_code)
            out.append({
                "id": h.id, "case": h.case.number, "court": h.court_code, "room": h.room_code,
                "room_name": room.name_zh if room else "", "state": h.state,
                "starts_at": iso(h.starts_at), "ends_at": iso(h.ends_at),
                "publish_path": site_path(site.code, h.id),
                "courtroom_path": room_path(h.room_code, room.feeds[0]) if room else None,
                "may_connect": site_may_connect(h, now), "may_sign": may_sign(h, now),
                "defendants": [{"id": p.id, "name": p.name,
                                "signed": p.id in signed}
                               for p in defendants(session, h.case_id)],
                "consultations": [c for c in consultations if c["hearing"] == h.id],
            })
        return out

    return no_store_reply({"site": {"code": site.code, "name": site.name},
                           "hearings": await svc.db.run(load)})


# ---- identity on camera ----

@routes.post("/api/hearings/{id}/identity")
async def confirm_identity(request: web.Request) -> web.Response:
    """The clerk confirms on camera who the defendant is; a marker names the party, never
    their ID number."""
    who = await require_user(request)
    hearing_id = path_id(request)
    body = await read_fields(request, {"party_id", "note"})
    party_id = field(body, "party_id", int)
    note = text(body, "note", 200)
    svc = core_of(request)
    now = utcnow()

    def write(session: Session) -> tuple[dict[str, Any], Hearing]:
        h = load_hearing(session, svc.policy, who, hearing_id, lock=True, action="hearing.mark")
        if h.state not in (OPENED, RESUMED):
            raise HearingError(409, "identity is confirmed on camera while the hearing sits",
                               {"state": h.state})
        party = session.get(Party, party_id)
        if party is None or party.case_id != h.case_id or party.role not in DEFENDANT_ROLES:
            raise HearingError(400, "not a defendant of this case", {"party_id": party_id})
        detail = {"party": party.id, "name": party.name, "note": note}
        session.add(HearingEvent(hearing_id=h.id, at=now, actor=who.username, kind="identity",
                                 detail=detail))
        return detail, h

    detail, h = await svc.db.run(write)
    text_ = f"identity confirmed: {detail['name']} (party {detail['party']})"
    marked = await request.config_dict[ARRAIGNMENT].recorder.mark_room(
        h.room_code, "bookmark", text_, now, who.username)
    await svc.audit.record(who, "hearing.identity_confirmed", f"hearing:{h.id}",
                           court=h.court_code, address=client_address(request),
                           detail={"party": detail["party"]})
    return no_store_reply({"hearing": h.id, "at": iso(now), "by": who.username, **detail,
                           "marked_recordings": marked}, 201)


# ---- the record and its signature ----

@routes.get("/api/hearings/{id}/record")
async def record(request: web.Request) -> web.Response:
    """The hearing record text and its SHA-256: for the linked site and for staff."""
    svc = core_of(request)
    hearing_id = path_id(request)
    site = await require_site(svc, request) if looks_like_credential(
        bearer_token(request)) else None
    who = None if site is not None else await require_user(request)
    now = utcnow()

    def load(session: Session) -> dict[str, Any]:
        if site is not None:
            h = _linked(session, site, hearing_id)
            if h.state not in LIVE and not may_sign(h, now):
                raise HearingError(403, "the record is open to the site while the hearing "
                                        "sits and for a while after it ends",
                                   {"state": h.state})
        else:
            assert who is not None
            h = load_hearing(session, svc.policy, who, hearing_id)
        body = record_text(session, h)
        signed = session.scalars(select(HearingSignature).where(
            HearingSignature.hearing_id == h.id).order_by(HearingSignature.id))
        return {"hearing": h.id, "state": h.state, "text": body, "sha256": record_sha256(body),
                "may_sign": may_sign(h, now),
                "defendants": [{"id": p.id, "name": p.name}
                               for p in defendants(session, h.case_id)],
                "signatures": [signature_json(s) for s in signed]}

    return no_store_reply(await svc.db.run(load))


def _store(session: Session, site: RemoteSite, hearing_id: int, png: Png, wanted_sha: str,
           party_id: int | None, now: datetime, address: str) -> tuple[dict[str, Any], Hearing]:
    h = _linked(session, site, hearing_id)
    if not may_sign(h, now):
        raise HearingError(409, "the record is signed after the hearing ends, within "
                                f"{int(SIGNING_WINDOW.total_seconds() // 3600)} hours",
                           {"state": h.state})
    people = {p.id: p for p in defendants(session, h.case_id)}
    if party_id is None and len(people) == 1:
        party_id = next(iter(people))
    if party_id not in people:
        raise HearingError(400, "name the defendant who signs (party_id)",
                           {"defendants": sorted(people)})
    body = record_text(session, h)
    current = record_sha256(body)
    if wanted_sha != current:
        raise HearingError(409, "the record has changed since it was shown; show it again",
                           {"record_sha256": current})
    if session.scalar(select(HearingSignature.id).where(
            HearingSignature.hearing_id == h.id, HearingSignature.party_id == party_id)):
        raise HearingError(409, "this defendant has already signed the record")
    sig = HearingSignature(hearing_id=h.id, party_id=party_id, site_code=site.code,
                           record_sha256=current, record_text=body, png=png.data,
                           png_sha256=hashlib.sha256(png.data).hexdigest(), width=png.width,
                           height=png.height, signed_at=now, address=address[:64])
    session.add(sig)
    session.add(HearingEvent(hearing_id=h.id, at=now, actor=f"site:{site.code}", kind="signed",
                             detail={"party": party_id, "record_sha256": current}))
    session.flush()
    return signature_json(sig), h


@routes.post("/api/hearings/{id}/signature")
async def sign(request: web.Request) -> web.Response:
    """The defendant's signature, drawn at the site, of the record whose SHA-256 is given."""
    svc = core_of(request)
    site = await require_site(svc, request)
    hearing_id = path_id(request)
    body = await read_fields(request, {"png", "record_sha256", "party_id"})
    wanted = text(body, "record_sha256", 64, required=True)
    party_id = field(body, "party_id", int, required=False)
    png = await asyncio.to_thread(decode_png, body.get("png"))
    now, address = utcnow(), client_address(request)
    signed, h = await svc.db.run(
        lambda s: _store(s, site, hearing_id, png, wanted, party_id, now, address))
    await svc.audit.record(site_principal(site), "hearing.signed", f"hearing:{h.id}",
                           court=h.court_code, address=address,
                           detail={"party": signed["party"],
                                   "record_sha256": signed["record_sha256"],
                                   "png_sha256": signed["png_sha256"]})
    svc.bus.post(Event(kind="hearing.signed", target=hearing_target(h),
                          action="hearing.view",
                          data={"hearing": h.id, "party": signed["party"]}))
    return no_store_reply(signed, 201)


@routes.get("/api/hearings/{id}/signatures")
async def signatures(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    hearing_id = path_id(request)

    def load(session: Session) -> list[dict[str, Any]]:
        load_hearing(session, svc.policy, who, hearing_id)
        rows = session.scalars(select(HearingSignature).where(
            HearingSignature.hearing_id == hearing_id).order_by(HearingSignature.id))
        return [{**signature_json(s), "record_text": s.record_text} for s in rows]

    return no_store_reply({"items": await svc.db.run(load)})


@routes.get("/api/hearings/{id}/signatures/{sig_id}/image")
async def signature_image(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    hearing_id, sig_id = path_id(request), path_id(request, "sig_id")

    def load(session: Session) -> bytes:
        load_hearing(session, svc.policy, who, hearing_id)
        sig = session.get(HearingSignature, sig_id)
        if sig is None or sig.hearing_id != hearing_id:
            raise HearingError(404, "not found")
        return sig.png

    png = await svc.db.run(load)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, no-store",
                                 "X-Content-Type-Options": "nosniff"})


# ---- private consultation ----

@routes.post("/api/hearings/{id}/consultation-codes")
async def issue_code(request: web.Request) -> web.Response:
    """A one-time code for the defendant's lawyer (who schedules the hearing issues it)."""
    who = await require_user(request)
    hearing_id = path_id(request)
    body = await read_fields(request, {"party_id"})
    party_id = field(body, "party_id", int)
    svc = core_of(request)
    now = utcnow()

    def write(session: Session) -> tuple[dict[str, Any], str, Hearing]:
        h = load_hearing(session, svc.policy, who, hearing_id, lock=True,
                         action="hearing.schedule")
        issued, code = consult.issue_code(session, h, party_id, who.username, now)
        return issued, code, h

    issued, code, h = await svc.db.run(write)
    await svc.audit.record(who, "consultation.code_issued", f"hearing:{h.id}",
                           court=h.court_code, address=client_address(request),
                           detail={"party": party_id})
    return no_store_reply({**issued, "code": code}, 201)


@routes.post("/api/hearings/{id}/consultations")
async def open_consultation(request: web.Request) -> web.Response:
    """The lawyer spends their code (Bearer) on a consultation and gets its private key."""
    svc = core_of(request)
    hearing_id = path_id(request)
    code = bearer_token(request)
    if not code.startswith(consult.CODE_PREFIX):
        raise HearingError(401, "a consultation code is required",
                           headers={"WWW-Authenticate": "Bearer"})
    now = utcnow()
    opened, key = await svc.db.run(lambda s: consult.redeem_code(s, hearing_id, code, now))
    lawyer = Principal(f"lawyer:{opened['party']}", "lawyer")
    await svc.audit.record(lawyer, "consultation.opened", f"hearing:{hearing_id}",
                           address=client_address(request),
                           detail={"consultation": opened["id"], "site": opened["site"]})
    return no_store_reply({**opened, "lawyer_key": key}, 201)


@routes.delete("/api/hearings/{id}/consultations/{cid}")
async def end_consultation(request: web.Request) -> web.Response:
    svc = core_of(request)
    hearing_id, cid = path_id(request), request.match_info["cid"]
    if not consult.CONSULT_PATH.match(f"consult/{cid}/site"):
        raise HearingError(404, "not found")
    ended = await request.config_dict[consult.CONSULTATIONS].end(request, hearing_id, cid)
    by = str(ended["ended_by"])
    await svc.audit.record(Principal(by, by.partition(":")[0]), "consultation.ended",
                           f"hearing:{hearing_id}", address=client_address(request),
                           detail={"consultation": cid})
    return no_store_reply(ended)
