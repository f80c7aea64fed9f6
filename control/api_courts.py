"""The court tree and courtroom registry with live status, filtered by the policy."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from control.catalog import RoomQuery
from control.errors import ApiError
from control.http import core_of, principal, query_int, require, require_user
from control.monitoring import ROOM_STATES
from control.policy import Target
from control.province import COURT_CODE, ROOM_CODE

routes = web.RouteTableDef()

MAX_PAGE = 1000


@routes.get("/api/courts")
async def courts(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    visible = svc.policy.visible_courts(who)
    reg = svc.registry
    counts = {code: len(reg.rooms_of((code,))) for code in visible}

    def node(code: str) -> dict[str, Any]:
        c = reg.courts[code]
        return {
            "code": c.code,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "level": c.level,
            "case_prefix": c.case_prefix,
            "parent": c.parent,
            "rooms": counts[code],
            "children": [node(child) for child in c.children if child in visible],
        }

    roots = [code for code in reg.courts if code in visible and reg.courts[code].parent
             not in visible]
    return web.json_response({"courts": [node(code) for code in roots]},
                             dumps=_dumps)


@routes.get("/api/courtrooms")
async def courtrooms(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    visible = svc.policy.visible_courts(who, "room.status")
    court = request.query.get("court", "")
    if court:
        if not COURT_CODE.match(court) or court not in svc.registry.courts or court not in visible:
            raise ApiError(404, "unknown court", {"court": court[:32]})
        visible = visible & svc.registry.subtree(court)
    status = request.query.get("status") or None
    if status is not None and status not in ROOM_STATES:
        raise ApiError(400, "unknown status", {"allowed": list(ROOM_STATES)})
    text = request.query.get("q", "").strip()
    if len(text) > 64:
        raise ApiError(400, "query parameter 'q' is longer than 64 characters")
    query = RoomQuery(
        courts=visible,
        status=status,
        text=text,
        limit=query_int(request, "limit", MAX_PAGE, 1, MAX_PAGE),
        offset=query_int(request, "offset", 0, 0, 1_000_000),
    )
    page = svc.catalog.page(query)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(body=page.gzipped, content_type="application/json",
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return web.Response(body=page.body, content_type="application/json",
                        headers={"Vary": "Accept-Encoding"})


@routes.get("/api/courtrooms/{code}")
async def courtroom(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    svc = core_of(request)
    room = svc.registry.rooms.get(code) if ROOM_CODE.match(code) else None
    if room is None:
        await require_user(request)
        raise ApiError(404, "unknown courtroom", {"code": code[:32]})
    await require(request, "room.status", Target(kind="room", court=room.court, room=code),
                  hide=True)
    who = await principal(request)
    body = svc.catalog.describe(room, svc.monitor.get(code))
    court = svc.registry.courts[room.court]
    body["court_name_zh"], body["court_name_en"] = court.name_zh, court.name_en
    body["may_view"] = svc.policy.can(
        who, "room.view", Target(kind="room", court=room.court, room=code)
    )
    return web.json_response(body, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
