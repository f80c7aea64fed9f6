"""Wires the media plane into the control plane: policy for WHIP/WHEP, events, audit, demo.

Stream paths of courtrooms are `rooms/<room-code>/<feed>` (control.media_paths). The media
package knows none of this; here, in one place, each of its stream events becomes a bus event
(`stream.up`, `stream.down` ...: private for paths outside `rooms/`) and each session an audit
row. Room status follows `stream.up`/`stream.down` like every other reaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from control.bus import Event
from control.core import Core
from control.errors import ApiError
from control.http import require
from control.media_paths import parse_room_path, room_of_path, room_path
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

THUMBNAIL_TTL_S = 3.0


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
        # Who may publish or view streams outside `rooms/`: first path part -> check, given
        # by the package that owns those paths (remote sites, petitions) through serve_paths.
        self._authorizers: dict[str, Authorizer] = {}
        # Viewers of room feeds that are not users (a remote site watching its courtroom).
        self._guests: list[RoomGuest] = []
        # Rooms on air (a live public hearing approved for broadcast) -> the feed disclosed to
        # the public, kept from `broadcast.started` / `broadcast.ended`.
        self.on_air: dict[str, str] = {}
        services.bus.on("stream.up", self._room_status)
        services.bus.on("stream.down", self._room_status)
        services.bus.on("broadcast.started", self._broadcast_started)
        services.bus.on("broadcast.ended", self._broadcast_ended)

    def serve_paths(self, prefix: str, authorize: Authorizer) -> None:
        """Let the package that owns `<prefix>/...` stream paths decide who may use them."""
        if prefix in self._authorizers or prefix == "rooms":
            raise ValueError(f"stream paths {prefix}/ already have an authorizer")
        self._authorizers[prefix] = authorize

    def admit_guests(self, guest: RoomGuest) -> None:
        """Let `guest` admit viewers of room feeds that are not users (a remote site)."""
        self._guests.append(guest)

    def disclosed(self, room: str, feed: str) -> bool:
        """Whether the public may view this feed now."""
        return self.on_air.get(room) == feed

    def _broadcast_started(self, event: Event) -> None:
        if event.target.room is not None:
            self.on_air[event.target.room] = str(event.data.get("feed", ""))

    async def _broadcast_ended(self, event: Event) -> None:
        """The public's viewers of the room are hung up on."""
        room = event.target.room
        if room is None:
            return
        self.on_air.pop(room, None)
        doomed = [s for s in self.server.sessions.values()
                  if room_of_path(s.path) == room and s.role == "read" and s.subject == "public"]
        await asyncio.gather(*(s.close("the broadcast ended") for s in doomed),
                             return_exceptions=True)

    def resolve(self, path: str) -> tuple[RoomInfo, str]:
        """The room and feed a stream path names, or a 404."""
        parsed = parse_room_path(path)
        room = self.services.registry.rooms.get(parsed[0]) if parsed else None
        if parsed is None or room is None or parsed[1] not in room.feeds:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        return room, parsed[1]

    async def authorize(self, request: web.Request, action: str, path: str) -> str:
        """The one policy decides WHIP (room.publish) and WHEP (room.view)."""
        other = self._authorizers.get(path.partition("/")[0])
        if other is not None:
            return await other(request, action, path)
        room, feed = self.resolve(path)
        act = "room.publish" if action == "publish" else "room.view"
        if act == "room.view":
            for guest in self._guests:
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
        """The one place the media plane's stream events become bus events (`stream.up`,
        `stream.down`, `stream.viewer_joined` ...), for every path. A courtroom feed's event
        carries its room; any other path's is private: internal handlers only."""
        parsed = parse_room_path(event.path)
        room = self.services.registry.rooms.get(parsed[0]) if parsed else None
        data: dict[str, object] = {"path": event.path, "holder": self.services.settings.node.id,
                                   **dict(event.detail)}
        if parsed is None or room is None:
            target = Target(kind="feed", private=True)
        else:
            target = Target(kind="feed", court=room.court, room=room.code, feed=parsed[1])
            data["feed"] = parsed[1]
        self.services.bus.post(Event(kind=f"stream.{event.kind}", target=target, data=data))

    def room_live(self, room: str) -> bool:
        """Whether any feed of the room is live now."""
        info = self.services.registry.rooms.get(room)
        return info is not None and any(
            (s := self.streams.get(room_path(room, f))) is not None and s.is_live
            for f in info.feeds)

    def _room_status(self, event: Event) -> None:
        """A room is live while any of its feeds is (unless it records or is at fault)."""
        room = event.target.room
        if room is None or room not in self.services.registry.rooms:
            return
        live = self.room_live(room)
        current = self.services.monitor.get(room).status
        if live and current == "idle":
            self.services.monitor.set_status(room, "live")
        elif not live and current in ("live", "recording"):
            self.services.monitor.set_status(room, "idle")

    def _session_event(self, event: SessionEvent) -> None:
        parsed = parse_room_path(event.path)
        room = self.services.registry.rooms.get(parsed[0]) if parsed else None
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
