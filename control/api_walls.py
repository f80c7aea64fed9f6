"""Monitoring wall routes: personal layouts, shared walls and their tiles, live feeds of rooms.

    GET    /api/walls/mine                 the caller's saved layouts (newest first)
    PUT    /api/walls/mine/{name}          save a layout {size, tiles: [{room, feed}|null], tour}
    DELETE /api/walls/mine/{name}
    GET    /api/walls/feeds?rooms=A,B      which feeds of these rooms are live now
    GET    /api/walls                      shared walls the caller may use
    POST   /api/walls                      create one {name, court, size} (admins, presidents)
    GET    /api/walls/{id}
    PUT    /api/walls/{id}                 rename or resize {name?, size?} (admins, presidents)
    DELETE /api/walls/{id}                 (admins, presidents)
    POST   /api/walls/{id}/tiles/{n}       push {room, feed?} or {alert: id} onto tile n
    DELETE /api/walls/{id}/tiles/{n}       clear tile n
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from control.alerts import AlertView, visible_alert
from control.db import utcnow
from control.errors import ApiError
from control.http import core_of, field, read_json, require_user
from control.live import LIVE
from control.media_paths import room_path
from control.models import Alert, WallLayout
from control.policy import Principal, Target
from control.province import COURT_CODE, ROOM_CODE
from control.walls import MAX_LAYOUTS, WallBoard, WallView, layout_json

WALLS = web.AppKey("walls", WallBoard)
MAX_FEED_ROOMS = 64
routes = web.RouteTableDef()


def _board(request: web.Request) -> WallBoard:
    return request.config_dict[WALLS]


def _name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 64:
        raise ApiError(400, "a name has 1 to 64 characters")
    return name


async def _wall_user(request: web.Request) -> Principal:
    who = await require_user(request)
    _board(request).rules.may_use(who)
    return who


# ---- personal layouts ----

@routes.get("/api/walls/mine")
async def my_layouts(request: web.Request) -> web.Response:
    who = await _wall_user(request)
    rows = await core_of(request).db.run(lambda s: [layout_json(r) for r in s.scalars(
        select(WallLayout).where(WallLayout.user_id == who.user_id)
        .order_by(WallLayout.updated_at.desc(), WallLayout.id.desc()))])
    return web.json_response({"layouts": rows})


@routes.put("/api/walls/mine/{name}")
async def save_layout(request: web.Request) -> web.Response:
    who = await _wall_user(request)
    name = _name(request.match_info["name"])
    size, tiles, tour = _board(request).rules.layout(who, await read_json(request))

    def write(session: Session) -> dict[str, Any]:
        row = session.scalars(select(WallLayout).where(
            WallLayout.user_id == who.user_id, WallLayout.name == name)).one_or_none()
        if row is None:
            count = session.scalar(select(func.count()).select_from(WallLayout)
                                   .where(WallLayout.user_id == who.user_id)) or 0
            if count >= MAX_LAYOUTS:
                raise ApiError(409, f"at most {MAX_LAYOUTS} layouts per user")
            assert who.user_id is not None
            row = WallLayout(user_id=who.user_id, name=name)
            session.add(row)
        row.size, row.tiles, row.tour, row.updated_at = size, tiles, tour, utcnow()
        session.flush()
        return layout_json(row)

    return web.json_response(await core_of(request).db.run(write))


@routes.delete("/api/walls/mine/{name}")
async def delete_layout(request: web.Request) -> web.Response:
    who = await _wall_user(request)
    name = _name(request.match_info["name"])
    gone = await core_of(request).db.run(lambda s: getattr(s.execute(delete(WallLayout).where(
        WallLayout.user_id == who.user_id, WallLayout.name == name)), "rowcount", 0))
    if not gone:
        raise ApiError(404, "unknown layout")
    return web.Response(status=204)


# ---- live feeds, for choosing a tile's stream ----

@routes.get("/api/walls/feeds")
async def live_feeds(request: web.Request) -> web.Response:
    who = await _wall_user(request)
    svc, streams = core_of(request), request.config_dict[LIVE].streams
    codes = [c for c in request.query.get("rooms", "").split(",") if c]
    if len(codes) > MAX_FEED_ROOMS:
        raise ApiError(400, f"at most {MAX_FEED_ROOMS} rooms")
    out: dict[str, list[str]] = {}
    for code in codes:
        room = svc.registry.rooms.get(code) if ROOM_CODE.match(code) else None
        if room is None or not svc.policy.can(
                who, "room.status", Target(kind="room", court=room.court, room=code)):
            continue  # rooms out of scope are left out, as unknown ones
        out[code] = [f for f in room.feeds if (s := streams.get(room_path(code, f))) is not None
                     and s.is_live]
    return web.json_response({"feeds": out})


# ---- shared walls ----

async def _wall(request: web.Request) -> tuple[Principal, WallView]:
    who = await require_user(request)
    board = _board(request)
    raw = request.match_info["id"]
    view = await board.get(int(raw)) if len(raw) <= 12 else None
    return who, board.usable(who, view)


@routes.get("/api/walls")
async def list_walls(request: web.Request) -> web.Response:
    who = await require_user(request)
    walls = await _board(request).visible(who)
    return web.json_response({"walls": [w.to_json() for w in walls]})


@routes.post("/api/walls")
async def create_wall(request: web.Request) -> web.Response:
    who = await _wall_user(request)
    board = _board(request)
    body = await read_json(request)
    name = _name(field(body, "name", str, max_len=64))
    court = field(body, "court", str, max_len=16)
    if not COURT_CODE.match(court):
        raise ApiError(404, "unknown court", {"court": court[:32]})
    view = await board.create(who, name, court, board.rules.size(body.get("size", 16)))
    return web.json_response(view.to_json(), status=201)


@routes.get(r"/api/walls/{id:\d+}")
async def get_wall(request: web.Request) -> web.Response:
    _who, view = await _wall(request)
    return web.json_response(view.to_json())


@routes.put(r"/api/walls/{id:\d+}")
async def change_wall(request: web.Request) -> web.Response:
    who, view = await _wall(request)
    board = _board(request)
    view = board.owned(who, view)
    body = await read_json(request)
    raw_name = field(body, "name", str, required=False, max_len=64)
    size = board.rules.size(body["size"]) if body.get("size") is not None else None
    changed = await board.change(who, view, size=size,
                                 name=_name(raw_name) if raw_name is not None else None)
    return web.json_response(changed.to_json())


@routes.delete(r"/api/walls/{id:\d+}")
async def delete_wall(request: web.Request) -> web.Response:
    who, view = await _wall(request)
    board = _board(request)
    await board.delete(who, board.owned(who, view))
    return web.Response(status=204)


def _tile(request: web.Request) -> int:
    raw = request.match_info["n"]
    if len(raw) > 3:
        raise ApiError(404, "no such tile")
    return int(raw)


@routes.post(r"/api/walls/{id:\d+}/tiles/{n:\d+}")
async def push_tile(request: web.Request) -> web.Response:
    who, view = await _wall(request)
    tile = _tile(request)
    board, svc = _board(request), core_of(request)
    body = await read_json(request)
    if body.get("alert") is not None:
        alert_id = field(body, "alert", int)
        found = await svc.db.run(
            lambda s: AlertView.of(r) if (r := s.get(Alert, alert_id)) else None)
        alert = visible_alert(found, who, svc)
        if not svc.registry.is_within(alert.court, view.court):
            raise ApiError(404, "unknown alert")
        value = {**board.rules.room_tile(who, {"room": alert.room, "feed": alert.feed or None},
                                         within=view.court), "alert": alert.id}
    else:
        value = board.rules.room_tile(who, body, within=view.court)
    changed = await board.change(who, view, tile=tile, value=value)
    return web.json_response(changed.to_json())


@routes.delete(r"/api/walls/{id:\d+}/tiles/{n:\d+}")
async def clear_tile(request: web.Request) -> web.Response:
    who, view = await _wall(request)
    changed = await _board(request).change(who, view, tile=_tile(request), value=None)
    return web.json_response(changed.to_json())
