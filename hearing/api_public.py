"""Public API (no account): the hearing schedule, hearings on air, publications; all redacted.

Live hearings are watched by WHEP on `rooms/<room>/<main feed>` (control.live admits the public
there while the room is on air, up to `[hearing] public_viewer_cap` per stream) or by HLS over
the hearing's running recording; published recordings play by HLS.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from control.http import core_of, query_int
from control.iso8601 import iso
from control.live import LIVE
from control.policy import PUBLIC
from control.province import COURT_CODE
from hearing.api_schedule import utc_offset, window
from hearing.bench_directory import hearing_ref
from hearing.disclosure import BROADCASTS
from hearing.errors import HearingError
from hearing.http import desk, path_id, reply
from hearing.public_views import (
    list_publications,
    on_air_json,
    public_document,
    public_schedule,
    published_recording,
)
from recorder.access import segment_response, withheld
from recorder.models import Recording
from recorder.playback import build_playlist
from recorder.service import RECORDER

routes = web.RouteTableDef()

HLS_TYPE: Final = "application/vnd.apple.mpegurl"
MAX_PAGE: Final = 100
# Anything public is the same for everyone: shared caches may keep it briefly.
_SHORT: Final = {"Cache-Control": "public, max-age=5"}


def _courts(request: web.Request) -> frozenset[str] | None:
    court = request.query.get("court", "")
    if not court:
        return None
    registry = core_of(request).registry
    if not COURT_CODE.match(court) or court not in registry.courts:
        raise HearingError(404, "unknown court", {"court": court[:16]})
    return registry.subtree(court)


@routes.get("/api/public/schedule")
async def schedule(request: web.Request) -> web.Response:
    svc = core_of(request)
    offset = utc_offset(request.query.get("tz"), desk(request).utc_offset)
    start, end = window(request.query.get("day"), request.query.get("week"), offset)
    courts, rules = _courts(request), desk(request).rules
    on_air = dict(request.config_dict[BROADCASTS].on_air)
    items = await svc.db.run(lambda s: public_schedule(s, svc.policy, svc.registry, rules,
                                                       courts, start, end, on_air))
    return reply({"from": iso(start), "to": iso(end), "court": request.query.get("court") or None,
                  "total": len(items), "hearings": items}, headers=_SHORT)


@routes.get("/api/public/live")
async def on_air(request: web.Request) -> web.Response:
    svc = core_of(request)
    rules, live = desk(request).rules, request.config_dict[LIVE]
    air = dict(request.config_dict[BROADCASTS].on_air)
    items = await svc.db.run(lambda s: on_air_json(s, svc.policy, svc.registry, rules, air))
    cap = svc.settings.hearing.public_viewer_cap
    for item in items:
        path = item["whep"].removeprefix("/whep/")
        item.update(viewers=live.public_viewers(path), viewer_cap=cap)
    return reply({"hearings": items}, headers=_SHORT)


async def _live_recording(request: web.Request) -> Recording:
    """The running recording of the main feed of a hearing on air, else 404."""
    hearing_id = path_id(request)
    svc = core_of(request)
    air = request.config_dict[BROADCASTS].on_air
    room = next((r for r, h in air.items() if h == hearing_id), None)
    info = svc.registry.rooms.get(room) if room else None
    rec_id = request.config_dict[RECORDER].active_for(info.code, hearing_ref(hearing_id)).get(
        info.feeds[0]) if info else None
    rec = await svc.db.run(lambda s: s.get(Recording, rec_id)) if rec_id else None
    if rec is None:
        raise HearingError(404, "this hearing is not on air")
    return rec


async def _published(request: web.Request) -> Recording:
    pub_id = path_id(request)
    return await core_of(request).db.run(lambda s: published_recording(s, pub_id))


async def _playlist(request: web.Request, rec: Recording, cache: str) -> web.Response:
    hidden = await withheld(request, PUBLIC, rec)  # confidential and sealed portions
    text, _count = await core_of(request).db.run(
        lambda s: build_playlist(s, rec, None, None, hidden.spans))
    return web.Response(text=text, content_type=HLS_TYPE, headers={"Cache-Control": cache})


async def _segment(request: web.Request, rec: Recording) -> web.StreamResponse:
    return await segment_response(request, rec, await withheld(request, PUBLIC, rec),
                                  "public, max-age=86400")


@routes.get("/api/public/live/{id}/playlist.m3u8")
async def live_playlist(request: web.Request) -> web.Response:
    return await _playlist(request, await _live_recording(request), "public, max-age=1")


@routes.get("/api/public/live/{id}/segments/{name}")
async def live_segment(request: web.Request) -> web.StreamResponse:
    return await _segment(request, await _live_recording(request))


@routes.get("/api/public/publications")
async def publications(request: web.Request) -> web.Response:
    svc = core_of(request)
    kind = request.query.get("kind") or None
    if kind not in (None, "document", "recording"):
        raise HearingError(400, "unknown kind", {"allowed": ["document", "recording"]})
    courts, rules = _courts(request), desk(request).rules
    limit = query_int(request, "limit", 20, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 1_000_000)
    page = await svc.db.run(lambda s: list_publications(s, svc.registry, rules, kind, courts,
                                                        limit, offset))
    return reply(page, headers=_SHORT)


@routes.get("/api/public/documents/{id}")
async def document(request: web.Request) -> web.Response:
    svc = core_of(request)
    pub_id, rules = path_id(request), desk(request).rules
    doc = await svc.db.run(lambda s: public_document(s, svc.registry, rules, pub_id))
    return reply(doc, headers=_SHORT)


@routes.get("/api/public/recordings/{id}/playlist.m3u8")
async def recording_playlist(request: web.Request) -> web.Response:
    return await _playlist(request, await _published(request), "public, max-age=60")


@routes.get("/api/public/recordings/{id}/segments/{name}")
async def recording_segment(request: web.Request) -> web.StreamResponse:
    return await _segment(request, await _published(request))
