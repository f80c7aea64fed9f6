"""Hearings API: schedule, list, read, reschedule, transitions, the log and recording gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.core import Core
from control.http import client_address, core_of, field, query_int, read_fields, require_user
from control.iso8601 import iso, parse_iso
from control.policy import Principal
from hearing.access import hearing_target, reach
from hearing.bench import MAX_PANEL, Bench
from hearing.errors import HearingError
from hearing.http import (
    court_scope,
    desk,
    optional_name,
    path_id,
    reply,
    room_scope,
    text,
)
from hearing.lifecycle import STATES, gap_json, load_hearing
from hearing.models import HearingEvent, RecordingGap
from hearing.schedule import HearingQuery, Slot, find_hearings, hearing_json

routes = web.RouteTableDef()

MAX_PAGE = 500
_CHANGEABLE = {"room", "starts_at", "ends_at", "presiding_judge", "panel", "clerk", "public",
               "title", "remote_site"}


def _panel(body: dict[str, Any]) -> tuple[str, ...]:
    raw = body.get("panel") or []
    if not isinstance(raw, list) or len(raw) > MAX_PANEL or not all(
        isinstance(p, str) and 0 < len(p) <= 64 for p in raw
    ):
        raise HearingError(400, f"'panel' must be a list of at most {MAX_PANEL} usernames")
    return tuple(raw)


def _public(body: dict[str, Any]) -> bool:
    return bool(field(body, "public", bool, required=False))


def _remote_site(body: dict[str, Any]) -> str | None:
    """The remote site of an arraignment; null or absent: none."""
    return field(body, "remote_site", str, required=False, max_len=24) or None


@routes.post("/api/hearings")
async def schedule(request: web.Request) -> web.Response:
    who = await require_user(request)
    body = await read_fields(request, _CHANGEABLE | {"case_id", "case_number"})
    case_id = field(body, "case_id", int, required=False)
    if case_id is None:
        case_id = await desk(request).case_id_of(text(body, "case_number", 64, required=True))
    slot = Slot(
        room=text(body, "room", 24, required=True),
        starts_at=parse_iso(body.get("starts_at"), "field 'starts_at'"),
        ends_at=parse_iso(body.get("ends_at"), "field 'ends_at'"),
        bench=Bench(optional_name(body, "presiding_judge") or "",
                    optional_name(body, "clerk") or "", _panel(body)),
    )
    created = await desk(request).schedule(who, case_id, slot, _public(body),
                                           text(body, "title", 256), client_address(request),
                                           remote_site=_remote_site(body))
    return reply(created, 201)


@routes.get("/api/hearings")
async def listing(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    where = reach(svc.policy, who)
    states = tuple(s for s in request.query.get("state", "").split(",") if s)
    if not set(states) <= set(STATES):
        raise HearingError(400, "unknown state", {"allowed": list(STATES)})
    q = HearingQuery(
        courts=court_scope(request, where), room=room_scope(request, where),
        starts=_instant_query(request, "from"), ends=_instant_query(request, "to"),
        states=states, case_id=query_int(request, "case", 0, 0, 2**62) or None,
        limit=query_int(request, "limit", 100, 1, MAX_PAGE),
        offset=query_int(request, "offset", 0, 0, 10_000_000),
    )

    def page(session: Session) -> dict[str, Any]:
        total, rows = find_hearings(session, svc.policy, who, where, q)
        return {"total": total, "limit": q.limit, "offset": q.offset,
                "items": [hearing_json(h) for h in rows]}

    return reply(await svc.db.run(page))


def _instant_query(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    return None if not raw else parse_iso(raw, f"field {name!r}")


def _detail(session: Session, who: Principal, hearing_id: int,
            svc: Core) -> dict[str, Any]:
    h = load_hearing(session, svc.policy, who, hearing_id)
    body = hearing_json(h)
    gaps = session.scalars(select(RecordingGap).where(RecordingGap.hearing_id == h.id)
                           .order_by(RecordingGap.id))
    body["gaps"] = [gap_json(g) for g in gaps]
    target = hearing_target(h)
    body["may"] = {
        "schedule": svc.policy.can(who, "hearing.schedule", target),
        "steer": svc.policy.can(who, "hearing.schedule", target) or (
            svc.policy.can(who, "hearing.mark", target) and who.username == h.presiding_judge),
    }
    return body


@routes.get("/api/hearings/{id}")
async def read_hearing(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    hearing_id = path_id(request)
    return reply(await svc.db.run(lambda s: _detail(s, who, hearing_id, svc)))


@routes.patch("/api/hearings/{id}")
async def reschedule(request: web.Request) -> web.Response:
    who = await require_user(request)
    hearing_id = path_id(request)
    body = await read_fields(request, _CHANGEABLE)
    changes: dict[str, Any] = {}
    for key in ("starts_at", "ends_at"):
        if key in body:
            changes[key] = parse_iso(body[key], f"field {key!r}")
    for key in ("presiding_judge", "clerk"):
        if key in body:
            changes[key] = text(body, key, 64, required=True)
    if "room" in body:
        changes["room"] = text(body, "room", 24, required=True)
    if "title" in body:
        changes["title"] = text(body, "title", 256)
    if "panel" in body:
        changes["panel"] = _panel(body)
    if "public" in body:
        changes["public"] = _public(body)
    if "remote_site" in body:
        changes["remote_site"] = _remote_site(body)
    if not changes:
        raise HearingError(400, "nothing to change", {"allowed": sorted(_CHANGEABLE)})
    updated = await desk(request).reschedule(who, hearing_id, changes, client_address(request))
    return reply(updated)


@routes.post("/api/hearings/{id}/transitions")
async def transition(request: web.Request) -> web.Response:
    who = await require_user(request)
    hearing_id = path_id(request)
    body = await read_fields(request, {"to", "reason"})
    to = text(body, "to", 16, required=True)
    reason = text(body, "reason", 512)
    lifecycle = desk(request).lifecycle
    await lifecycle.transition(who, hearing_id, to, reason, client_address(request))
    svc = core_of(request)
    return reply(await svc.db.run(lambda s: _detail(s, who, hearing_id, svc)))


@routes.get("/api/hearings/{id}/events")
async def log(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    hearing_id = path_id(request)

    def events(session: Session) -> list[dict[str, Any]]:
        load_hearing(session, svc.policy, who, hearing_id)
        rows = session.scalars(select(HearingEvent).where(HearingEvent.hearing_id == hearing_id)
                               .order_by(HearingEvent.id))
        return [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "from": e.from_state,
                 "to": e.to_state, "detail": e.detail} for e in rows]

    return reply({"events": await svc.db.run(events)})


@routes.get("/api/hearings/{id}/gaps")
async def gaps(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    hearing_id = path_id(request)
    detail = await svc.db.run(lambda s: _detail(s, who, hearing_id, svc))
    return reply({"gaps": detail["gaps"]})


@routes.post("/api/hearings/{id}/gaps/{gap_id}/explanation")
async def explain_gap(request: web.Request) -> web.Response:
    who = await require_user(request)
    hearing_id, gap_id = path_id(request), path_id(request, "gap_id")
    body = await read_fields(request, {"explanation"})
    explanation = text(body, "explanation", 2000, required=True).strip()
    if not explanation:
        raise HearingError(400, "the explanation is empty")
    signed = await desk(request).lifecycle.explain_gap(
        who, hearing_id, gap_id, explanation, client_address(request))
    return reply(signed, 201)

