"""Recorder HTTP API: search, details, verify, HLS playback, markers and recording control.

Every recording is checked against the one policy as `Target(kind="recording", ...)`; one the
caller may not see is a 404, so its existence does not leak. Portions withheld from the caller
(recorder/portions.py) are left out of playlists, segment downloads and marker lists.
`routes` also carries the tables of routes_exports, routes_portions and routes_custody.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Final

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.bus import Event
from control.db import utcnow
from control.errors import ApiError
from control.http import core_of, field, query_int, read_json, require, require_user
from control.iso8601 import MILLIS, iso, parse_iso
from control.policy import Principal, Target
from control.province import COURT_CODE, ROOM_CODE
from control.registry import RoomInfo
from recorder import routes_custody, routes_exports, routes_portions
from recorder.access import audit as _audit
from recorder.access import query_text as _query
from recorder.access import recorder, segment_response, visible_recording, withheld
from recorder.integrity import load_chain, verify_chain
from recorder.models import MARKER_KINDS, Marker
from recorder.playback import (
    SearchQuery,
    build_playlist,
    marker_json,
    parse_point,
    recorded_span,
    recording_json,
    search_recordings,
)
from recorder.storage import INIT_NAME, SEGMENT_NAME

routes = web.RouteTableDef()

MAX_PAGE: Final = 200
MAX_MARKERS: Final = 2000
CLOCK_SLACK = timedelta(seconds=2)
HLS_TYPE: Final = "application/vnd.apple.mpegurl"


@routes.get("/api/recordings")
async def search(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    courts = svc.policy.visible_courts(who, "recording.view")
    hearings = None
    if courts and not svc.policy.can(who, "recording.view",
                                     Target(kind="recording", court=who.court)):
        # Visible only where they sit on the bench (judges): narrow to those hearings.
        hearings = await recorder(request).staff.hearings_of(who.username)
    court = _query(request, "court", 16)
    if court is not None:
        if not COURT_CODE.match(court) or court not in courts:
            raise ApiError(404, "unknown court", {"court": court})
        courts = courts & svc.registry.subtree(court)
    room = _query(request, "room", 24)
    if room is not None and not ROOM_CODE.match(room):
        raise ApiError(400, "query parameter 'room' is not a room code")
    start = parse_iso(raw, "from") if (raw := _query(request, "from")) else None
    end = parse_iso(raw, "to") if (raw := _query(request, "to")) else None
    if start is not None and end is not None and end <= start:
        raise ApiError(400, "'to' must be after 'from'")
    marker = _query(request, "marker", 16)
    if marker is not None and marker not in MARKER_KINDS:
        raise ApiError(400, "unknown marker kind", {"allowed": list(MARKER_KINDS)})
    query = SearchQuery(
        courts=None if courts == frozenset(svc.registry.courts) else courts,
        hearings=hearings, room=room, hearing=_query(request, "hearing"), start=start, end=end,
        marker=marker, text=_query(request, "q"),
        # Those who may seal wherever they may view are entitled to every portion they see.
        skip_withheld=not courts <= svc.policy.visible_courts(who, "recording.seal"),
        limit=query_int(request, "limit", 50, 1, MAX_PAGE),
        offset=query_int(request, "offset", 0, 0, 1_000_000),
    )
    if not courts:
        return web.json_response({"total": 0, "items": [], "limit": query.limit,
                                  "offset": query.offset})
    total, rows = await svc.db.run(lambda s: search_recordings(s, query))
    return web.json_response({"total": total, "items": [recording_json(r) for r in rows],
                              "limit": query.limit, "offset": query.offset})


@routes.get("/api/recordings/{id}")
async def detail(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    hidden = await withheld(request, who, rec)

    def markers(session: Session) -> list[Marker]:
        return list(session.scalars(select(Marker).where(Marker.recording_id == rec.id)
                                    .order_by(Marker.at).limit(MAX_MARKERS)))

    rows = await core_of(request).db.run(markers)
    return web.json_response({**recording_json(rec), "markers": [
        marker_json(m) for m in rows if not hidden.holds(m.at)]})


@routes.get("/api/recordings/{id}/verify")
async def verify(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    svc = core_of(request)
    head, count, links = await svc.db.run(lambda s: load_chain(s, rec.id))
    root = recorder(request).root
    report = await asyncio.to_thread(verify_chain, root, rec.id, head, count, links)
    body = report.to_json()
    await _audit(request, who, "recording.verify", rec.id, rec.court,
                 {"ok": report.ok, "problems": len(report.problems),
                  "first_bad_sequence": body["first_bad_sequence"]})
    if not report.ok:
        svc.bus.post(Event(
            "alert.raised", Target(kind="alert", court=rec.court, room=rec.room),
            {"source": "recorder", "severity": "critical", "recording": rec.id,
             "message": "recording failed its integrity check",
             "first_bad_sequence": body["first_bad_sequence"]}, action="alert.view"))
    return web.json_response(body)


@routes.get("/api/recordings/{id}/playlist.m3u8")
async def playlist(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    svc = core_of(request)
    raw_from, raw_to = _query(request, "from"), _query(request, "to")
    try:
        start = parse_point(raw_from, "from", rec.started_at) if raw_from else None
        end = parse_point(raw_to, "to", rec.started_at) if raw_to else None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if start is not None and end is not None and end <= start:
        raise ApiError(400, "'to' must be after 'from'")
    if start is not None or end is not None:
        span = await svc.db.run(lambda s: recorded_span(s, rec.id))
        if span is None or (start is not None and start >= span[1]) or (
                end is not None and end <= span[0]):
            raise ApiError(400, "the range is outside the recording",
                           {"recorded": [iso(s, MILLIS) for s in span] if span else None})
    hidden = await withheld(request, who, rec)
    text, count = await svc.db.run(lambda s: build_playlist(s, rec, start, end, hidden.spans))
    if who.username and recorder(request).first_play(who.username, rec.id,
                                                     f"{raw_from}-{raw_to}"):
        await _audit(request, who, "recording.play", rec.id, rec.court,
                     {"from": raw_from, "to": raw_to, "segments": count})
    live = rec.state == "recording"
    return web.Response(text=text, content_type=HLS_TYPE, headers={
        "Cache-Control": "private, no-cache" if live else "private, max-age=60"})


@routes.get("/api/recordings/{id}/segments/{name}")
async def segment(request: web.Request) -> web.StreamResponse:
    if not (SEGMENT_NAME.match(request.match_info["name"])
            or INIT_NAME.match(request.match_info["name"])):
        await require_user(request)
        raise ApiError(404, "not found")
    who, rec = await visible_recording(request)
    return await segment_response(request, rec, await withheld(request, who, rec),
                                  "private, max-age=86400")


@routes.post("/api/recordings/{id}/markers")
async def add_marker(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    svc = core_of(request)
    target = await recorder(request).target(rec)
    if not (svc.policy.can(who, "hearing.mark", target)
            or svc.policy.can(who, "room.record", target)):
        raise ApiError(403, "forbidden", {"action": "hearing.mark"})
    body = await read_json(request)
    kind = field(body, "kind", str, max_len=16)
    if kind not in MARKER_KINDS:
        raise ApiError(400, "unknown marker kind", {"allowed": list(MARKER_KINDS)})
    text = field(body, "text", str, required=False, max_len=500) or ""
    raw_at = field(body, "at", str, required=False, max_len=40)
    at: datetime = utcnow()
    if raw_at is not None:
        at = parse_iso(raw_at, "at")
    if not rec.started_at - CLOCK_SLACK <= at <= (rec.ended_at or utcnow()) + CLOCK_SLACK:
        raise ApiError(400, "'at' is outside the recording")
    marker = await recorder(request).add_marker(rec, kind, text, at, who.username)
    await _audit(request, who, "recording.marker", rec.id, rec.court,
                 {"kind": kind, "at": iso(at, MILLIS), "marker": marker.id})
    return web.json_response(marker_json(marker), status=201)


async def _room(request: web.Request) -> tuple[Principal, RoomInfo]:
    code = request.match_info["code"]
    room = core_of(request).registry.rooms.get(code) if ROOM_CODE.match(code) else None
    if room is None:
        await require_user(request)
        raise ApiError(404, "unknown courtroom")
    who = await require(request, "room.status", Target(kind="room", court=room.court,
                                                       room=room.code), hide=True)
    return who, room


@routes.get("/api/courtrooms/{code}/recording")
async def room_recording(request: web.Request) -> web.Response:
    _who, room = await _room(request)
    return web.json_response({"room": room.code, "recording": recorder(request).active(room.code)})


@routes.post("/api/courtrooms/{code}/recording")
async def control_recording(request: web.Request) -> web.Response:
    who, room = await _room(request)
    await require(request, "room.record", Target(kind="room", court=room.court, room=room.code))
    body = await read_json(request)
    action = field(body, "action", str, max_len=8)
    if action not in ("start", "stop"):
        raise ApiError(400, "field 'action' must be 'start' or 'stop'")
    feed = field(body, "feed", str, required=False, max_len=16) or room.feeds[0]
    if feed not in room.feeds:
        raise ApiError(400, "unknown feed", {"feeds": list(room.feeds)})
    hearing = field(body, "hearing", str, required=False, max_len=64)
    svc = recorder(request)
    if action == "start":
        rec = await svc.start_recording(room, feed, who, hearing)
    else:
        rec = await svc.stop_recording(room, feed, who)
    await _audit(request, who, f"recording.{action}", rec.id, room.court,
                 {"room": room.code, "feed": feed, "hearing": hearing})
    return web.json_response(recording_json(rec), status=201 if action == "start" else 200)


# One table for control/app.py to mount: the other route modules' routes join this one.
for _table in (routes_exports.routes, routes_portions.routes, routes_custody.routes):
    for _route in _table:
        if isinstance(_route, web.RouteDef):
            routes.route(_route.method, _route.path, **_route.kwargs)(_route.handler)
