"""Wires the media plane into the control plane: policy for WHIP/WHEP, events, audit, demo.

Stream paths of courtrooms are `rooms/<room-code>/<feed>`. The media package knows none of
this; here each stream event becomes a room status and a bus event, each session an audit row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from control.bus import Event
from control.core import Core
from control.errors import ApiError
from control.http import require
from control.policy import Principal, Target
from control.registry import RoomInfo
from media import MediaServer, MediaSettings, SessionEvent, StreamEvent, StreamRegistry
from media.sources import PatternSpec, TestPatternSource
from media.thumbnail import keyframe_to_jpeg

log = logging.getLogger(__name__)

# (request, "publish" | "view", path) -> the subject for the session's audit, or raise ApiError.
Authorizer = Callable[[web.Request, str, str], Awaitable[str]]
# (request, room, feed) -> a subject if the request's credential, not a user's, may view the
# feed (a remote site during its hearing), else None.
RoomGuest = Callable[[web.Request, RoomInfo, str], Awaitable[str | None]]

ROOM_PATH = re.compile(r"^rooms/([A-Z0-9]{2,10}-[A-Z0-9]{1,6})/([a-z][a-z0-9_]{0,15})$")
THUMBNAIL_TTL_S = 3.0


def room_path(room: str, feed: str) -> str:
    return f"rooms/{room}/{feed}"


@dataclass
class _Thumb:
    jpeg: bytes
    made: float


class LiveMedia:
    """The media server of this node, with the control plane's policy, bus and audit."""

    def __init__(self, services: Core) -> None:
        self.services = services
        ice = services.settings.ice
        self.settings = MediaSettings(
            ice_hosts=ice.hosts or None,
            udp_port_min=ice.udp_port_min or None,
            udp_port_max=ice.udp_port_max or None,
            ice_servers=ice.servers,
        )
        self.streams = StreamRegistry(on_event=self._stream_event)
        self.server = MediaServer(self.settings, self.streams, self._authorize_media,
                                  on_session=self._session_event)
        self.patterns: list[TestPatternSource] = []
        self._thumbs: dict[str, _Thumb] = {}
        self._audits: set[asyncio.Task[None]] = set()
        self._principals: dict[str, Principal] = {}
        # Who may publish or view streams outside `rooms/`: first path part -> check, added
        # by the package that owns those paths (remote sites, petitions).
        self.authorizers: dict[str, Authorizer] = {}
        # Other parts of the node told of every stream event (the hearing recorder).
        self.stream_listeners: list[Callable[[StreamEvent], None]] = []
        # Viewers of room feeds that are not users (a remote site watching its courtroom).
        self.room_guests: list[RoomGuest] = []
        # Whether a room's feed is disclosed to the public now (room, feed) -> bool: set by
        # `hearing` to "a live public hearing approved for broadcast"; nothing by default.
        self.disclosed: Callable[[str, str], bool] = lambda room, feed: False

    def resolve(self, path: str) -> tuple[RoomInfo, str]:
        """The room and feed a stream path names, or a 404."""
        m = ROOM_PATH.match(path)
        room = self.services.registry.rooms.get(m.group(1)) if m else None
        if m is None or room is None or m.group(2) not in room.feeds:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        return room, m.group(2)

    async def authorize(self, request: web.Request, action: str, path: str) -> str:
        """The one policy decides WHIP (room.publish) and WHEP (room.view)."""
        other = self.authorizers.get(path.partition("/")[0])
        if other is not None:
            return await other(request, action, path)
        room, feed = self.resolve(path)
        act = "room.publish" if action == "publish" else "room.view"
        if act == "room.view":
            for guest in self.room_guests:
                if (subject := await guest(request, room, feed)) is not None:
                    return subject
        disclosed = act == "room.view" and self.disclosed(room.code, feed)
        who = await require(request, act, Target(kind="feed", court=room.court, room=room.code,
                                                 feed=feed, disclosed=disclosed), hide=True)
        if who.is_anonymous and request.method == "POST":
            self._check_viewer_cap(path)
        subject = who.username or "public"
        self._principals[subject] = who  # so the session's audit row carries role and court
        return subject

    async def _authorize_media(self, request: web.Request, action: str, path: str) -> str:
        """`authorize` for the media plane, which knows aiohttp's errors but not ours."""
        try:
            return await self.authorize(request, action, path)
        except ApiError as exc:
            raise exc.as_http() from None

    def public_viewers(self, path: str) -> int:
        return sum(1 for s in self.server.sessions.values()
                   if s.path == path and s.role == "read" and s.subject == "public")

    def _check_viewer_cap(self, path: str) -> None:
        """The public shares a bounded number of WHEP sessions per stream ([hearing] cap)."""
        cap = self.services.settings.hearing.public_viewer_cap
        if self.public_viewers(path) >= cap:
            raise ApiError(503, "the public viewer limit of this broadcast is reached",
                           {"cap": cap}, headers={"Retry-After": "30"})

    def _stream_event(self, event: StreamEvent) -> None:
        for listener in self.stream_listeners:
            listener(event)
        m = ROOM_PATH.match(event.path)
        room = self.services.registry.rooms.get(m.group(1)) if m else None
        if m is None or room is None:
            return
        if event.kind in ("up", "down"):
            live = any(
                (s := self.streams.get(room_path(room.code, f))) is not None and s.is_live
                for f in room.feeds
            )
            current = self.services.monitor.get(room.code).status
            if live and current == "idle":
                self.services.monitor.set_status(room.code, "live")
            elif not live and current in ("live", "recording"):
                self.services.monitor.set_status(room.code, "idle")
        self.services.bus.post(Event(
            kind=f"stream.{event.kind}",
            target=Target(kind="feed", court=room.court, room=room.code, feed=m.group(2)),
            data={"path": event.path, "feed": m.group(2), **dict(event.detail)},
        ))

    def _session_event(self, event: SessionEvent) -> None:
        m = ROOM_PATH.match(event.path)
        room = self.services.registry.rooms.get(m.group(1)) if m else None
        action = ("publish" if event.role == "publish" else "view") + (
            ".end" if event.ended is not None else ".start")
        who = self._principals.get(event.subject) or Principal(event.subject, "public")
        detail: dict[str, object] = {"session": event.session_id, "started": event.started}
        if event.ended is not None:
            detail.update(ended=event.ended, seconds=round(event.ended - event.started, 3),
                          reason=event.reason)
        task = asyncio.ensure_future(self.services.audit.record(
            who, f"live.{action}", event.path, court=room.court if room else who.court,
            address=event.remote or "", detail=detail))
        self._audits.add(task)
        task.add_done_callback(self._audits.discard)

    async def thumbnail(self, room: RoomInfo, feed: str) -> bytes | None:
        """A JPEG of the feed's latest keyframe, decoded at most once per few seconds."""
        path = room_path(room.code, feed)
        now = time.monotonic()
        cached = self._thumbs.get(path)
        if cached and now - cached.made < THUMBNAIL_TTL_S:
            return cached.jpeg
        stream = self.streams.get(path)
        if stream is None:
            return None
        packet = stream.latest_keyframe()
        video = next((t for t in stream.tracks if t.kind == "video"), None)
        if packet is None or video is None:
            return None
        jpeg = await asyncio.to_thread(keyframe_to_jpeg, packet, video, max_width=480)
        if jpeg is not None:
            self._thumbs[path] = _Thumb(jpeg, now)
        return jpeg

    async def start(self) -> None:
        await self.server.start()
        demo = self.services.settings.demo
        if not demo.enabled:
            return
        for code in demo.test_pattern_rooms:
            room = self.services.registry.rooms.get(code)
            if room is None:
                log.warning("demo room %s is not in the province file", code)
                continue
            source = TestPatternSource(self.streams, room_path(code, room.feeds[0]),
                                       PatternSpec(f"{room.code} {room.name_en}"))
            await source.start()
            self.patterns.append(source)

    async def stop(self) -> None:
        for source in self.patterns:
            await source.stop()
        await self.server.stop()
        for task in list(self._audits):
            with contextlib.suppress(Exception):
                await task
        self.streams.close()


LIVE = web.AppKey("live", LiveMedia)
routes = web.RouteTableDef()


@routes.get("/api/courtrooms/{code}/feeds/{feed}/thumbnail.jpg")
async def thumbnail(request: web.Request) -> web.Response:
    live = request.config_dict[LIVE]
    room, feed = live.resolve(room_path(request.match_info["code"], request.match_info["feed"]))
    await require(request, "room.view", Target(kind="feed", court=room.court, room=room.code,
                                               feed=feed), hide=True)
    jpeg = await live.thumbnail(room, feed)
    if jpeg is None:
        raise ApiError(404, "no picture yet", {"room": room.code, "feed": feed})
    return web.Response(body=jpeg, content_type="image/jpeg",
                        headers={"Cache-Control": f"private, max-age={int(THUMBNAIL_TTL_S)}"})
