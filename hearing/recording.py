"""The recording of live hearings: the hearing lifecycle drives the recorder through the bus.

`hearing.opened` records every feed of the hearing's room with the hearing as the recording's
reference and writes an `opened` marker; `hearing.recess`, `hearing.resumed` and
`hearing.closed` write markers; closing or adjourning stops the recordings. Court rules require
every interruption of a live hearing's recording to be explained, so a feed lost
(`stream.down`) or a recording that fails (`recording.failed`) while the hearing is live becomes
a `RecordingGap` of the hearing, closed again when recording resumes (`stream.up`). The remote
site of an arraignment (`sites/<site>/<hearing>`) is recorded and followed the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.bus import Event, EventBus
from control.db import Database, utcnow
from control.media_paths import parse_room_path, room_path
from control.policy import Principal, Target
from control.registry import CourtRegistry, RoomInfo
from hearing.bench_directory import hearing_ref
from hearing.lifecycle import LIVE, Transition, record_gap
from hearing.models import Hearing, RecordingGap
from hearing.sites import SITE_FEED, site_path
from recorder.service import RecorderConflict, RecorderService

log = logging.getLogger(__name__)

SYSTEM = Principal("hearing-lifecycle", "admin")


@dataclass
class _Live:
    """A hearing that is live in a room, and its open recording gaps per feed."""

    hearing_id: int
    case_number: str
    room: str
    case_type: str  # the recordings' retention class
    open_gaps: dict[str, int] = field(default_factory=dict)  # feed ('' = all) -> gap id
    recorded: set[str] = field(default_factory=set)  # feeds recorded at some point
    paths: dict[str, str] = field(default_factory=dict)  # feed -> stream outside the room
    # Opening and closing gaps and (re)starting recordings happen one at a time per hearing,
    # so a feed that returns while its loss is still being written closes that very gap.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HearingRecorder:
    """Records the feeds of live hearings and keeps their recording gaps; a bus handler of
    `hearing.*` transitions, `stream.up`/`stream.down` and `recording.failed`."""

    def __init__(self, db: Database, bus: EventBus, registry: CourtRegistry,
                 recorder: RecorderService) -> None:
        self.db, self.bus, self.registry, self.recorder = db, bus, registry, recorder
        self.live: dict[str, _Live] = {}  # room code -> its live hearing
        self._paths: dict[str, tuple[str, str]] = {}  # a stream outside a room -> (room, feed)
        self._stopped = False
        steps: dict[str, Callable[[Transition], Awaitable[None]]] = {
            "hearing.opened": self._opened, "hearing.recess": self._recess,
            "hearing.resumed": self._resumed, "hearing.closed": self._closed,
            "hearing.adjourned": self._adjourned}
        for kind, step in steps.items():
            bus.on(kind, self._guarded(step))
        bus.on("stream.up", self.on_stream)
        bus.on("stream.down", self.on_stream)
        bus.on("recording.failed", self.on_recording_failed)

    def is_live(self, room: str) -> bool:
        """Whether a hearing is live in the room now."""
        return room in self.live

    # ---- start-up: hearings that were live when the server stopped ----

    async def start(self) -> None:
        def load(session: Session) -> list[tuple[int, str, str, str]]:
            rows = session.scalars(select(Hearing).where(Hearing.state.in_(LIVE)))
            return [(h.id, h.case.number, h.room_code, h.case.case_type) for h in rows]

        for hid, number, room, case_type in await self.db.run(load):
            self.live[room] = _Live(hid, number, room, case_type)
            await self._record_all(self.live[room], "the server restarted")

    async def stop(self) -> None:
        self._stopped = True  # streams going down as the node stops are not gaps

    # ---- transitions ----

    def _guarded(self, step: Callable[[Transition], Awaitable[None]]
                 ) -> Callable[[Event], Awaitable[None]]:
        async def handle(event: Event) -> None:
            moved = Transition.of(event)
            try:
                await step(moved)
            except Exception as exc:
                # The transition stands (the court did open); the failure must be seen at once.
                log.exception("recording of hearing %s failed on %s", moved.hearing, event.kind)
                await self.bus.publish(Event(
                    kind="alert.raised", action="alert.view",
                    target=Target(kind="alert", court=moved.court, room=moved.room),
                    data={"alert": "hearing.hook_failed", "hearing": moved.hearing,
                          "case": moved.case, "state": moved.state, "error": str(exc)[:200]}))

        handle.__qualname__ = f"HearingRecorder.{step.__name__}"
        return handle

    async def _opened(self, moved: Transition) -> None:
        live = self.live[moved.room] = _Live(moved.hearing, moved.case, moved.room,
                                             moved.case_type)
        await self._record_all(live, "no feed of the room is live at the opening")
        await self._mark(moved, "opened", f"{moved.case} opened")

    async def _recess(self, moved: Transition) -> None:
        await self._mark(moved, "recess", "recess")

    async def _resumed(self, moved: Transition) -> None:
        live = self.live.setdefault(
            moved.room, _Live(moved.hearing, moved.case, moved.room, moved.case_type))
        await self._record_all(live, "no feed of the room is live at the resumption")
        await self._mark(moved, "resumed", "resumed")

    async def _closed(self, moved: Transition) -> None:
        await self._end(moved, "closed")

    async def _adjourned(self, moved: Transition) -> None:
        await self._end(moved, "adjourned")

    async def _end(self, moved: Transition, text: str) -> None:
        # No longer live before anything is awaited: streams that end with the hearing (the
        # remote site is let go) are not gaps.
        live = self.live.pop(moved.room, None)
        paths = live.paths if live is not None else {}
        for path in paths.values():
            self._paths.pop(path, None)
        await self._mark(moved, "closed", text)
        room = self.registry.rooms.get(moved.room)
        if room is None:
            return
        for feed in self._recording_feeds(room, hearing_ref(moved.hearing)):
            try:
                await self.recorder.stop_recording(room, feed, SYSTEM, path=paths.get(feed))
            except RecorderConflict:
                pass  # it stopped on its own meanwhile

    def _recording_feeds(self, room: RoomInfo, ref: str) -> list[str]:
        return list(self.recorder.active_for(room.code, ref))

    async def _mark(self, moved: Transition, kind: str, text: str) -> None:
        await self.recorder.mark_room(moved.room, kind, text, moved.at, SYSTEM.username)

    # ---- recording and its gaps ----

    async def _site_feeds(self, hearing_id: int) -> dict[str, str]:
        """The hearing's stream outside its room: the remote site's, if it has one."""
        code = await self.db.run(
            lambda s: s.scalar(select(Hearing.remote_site).where(Hearing.id == hearing_id)))
        return {SITE_FEED: site_path(code, hearing_id)} if code else {}

    async def _record_all(self, live: _Live, why_none: str) -> None:
        """Record every feed of the room that is live; none at all is a gap of the hearing.

        A feed that is not live yet (a second camera switched on later) is recorded when it
        comes up; only losing a feed that was recorded is an interruption."""
        room = self.registry.rooms.get(live.room)
        if room is None:
            return
        live.paths.update(await self._site_feeds(live.hearing_id))
        for feed, path in live.paths.items():
            self._paths[path] = (live.room, feed)
        recording = [feed for feed in room.feeds if await self._record(live, feed)]
        for feed in live.paths:  # the room's own feeds decide whether anything is recorded
            await self._record(live, feed)
        if not recording:
            await self._open_gap(live, "", why_none)

    async def _record(self, live: _Live, feed: str) -> bool:
        """Record `feed` for the live hearing; False when it cannot be recorded now."""
        async with live.lock:
            return await self._record_locked(live, feed)

    async def _record_locked(self, live: _Live, feed: str) -> bool:
        room = self.registry.rooms.get(live.room)
        if room is None:
            return False
        ref = hearing_ref(live.hearing_id)
        if feed in self.recorder.active(room.code) and feed not in self._recording_feeds(room, ref):
            # Recording by hand before the opening: hand it over to the hearing.
            try:
                await self.recorder.stop_recording(room, feed, SYSTEM, path=live.paths.get(feed))
            except RecorderConflict:
                pass
        if feed not in self._recording_feeds(room, ref):
            try:
                await self.recorder.start_recording(room, feed, SYSTEM, ref,
                                                    path=live.paths.get(feed),
                                                    retention_class=live.case_type or None)
            except RecorderConflict as exc:
                log.info("feed not recorded", extra={"hearing": live.hearing_id, "feed": feed,
                                                     "reason": str(exc)})
                return False
        live.recorded.add(feed)
        await self._close_gap(live, feed)
        await self._close_gap(live, "")
        return True

    async def _open_gap(self, live: _Live, feed: str, cause: str,
                        at: datetime | None = None) -> None:
        async with live.lock:
            if feed in live.open_gaps:
                return
            started = at or utcnow()
            gap = await self.db.run(
                lambda s: record_gap(s, live.hearing_id, started, feed=feed or None, cause=cause))
            live.open_gaps[feed] = gap.id
            log.warning("recording gap", extra={"hearing": live.hearing_id, "feed": feed,
                                                "cause": cause})

    async def _close_gap(self, live: _Live, feed: str) -> None:
        gap_id = live.open_gaps.pop(feed, None)
        if gap_id is None:
            return

        def close(session: Session) -> None:
            gap = session.get(RecordingGap, gap_id)
            if gap is not None and gap.ended_at is None:
                gap.ended_at = utcnow()

        await self.db.run(close)

    # ---- the media and the recorder ----

    async def on_stream(self, event: Event) -> None:
        """`stream.up` / `stream.down`: gaps of a live hearing open and close, recording
        follows."""
        if self._stopped:
            return
        path = str(event.data.get("path", ""))
        room_code, feed = self._paths.get(path) or parse_room_path(path) or ("", "")
        live = self.live.get(room_code)
        if live is None or not feed:
            return
        if event.kind == "stream.down":
            if feed in live.recorded:
                await self._open_gap(live, feed, "the feed was lost")
        else:
            await self._record(live, feed)

    async def on_recording_failed(self, event: Event) -> None:
        """`recording.failed`: a gap of the live hearing; recorded again if its stream is on."""
        room = event.target.room or ""
        live = self.live.get(room)
        if self._stopped or live is None or event.data.get("hearing") != hearing_ref(
                live.hearing_id):
            return
        feed = str(event.data.get("feed", ""))
        await self._open_gap(live, feed, f"recording failed: {event.data.get('reason', '')}")
        stream = self.recorder.streams.get(live.paths.get(feed) or room_path(live.room, feed))
        if stream is not None and stream.is_live and self.live.get(live.room) is live:
            await self._record(live, feed)


HEARING_RECORDER = web.AppKey("hearing_recorder", HearingRecorder)

__all__ = ["HEARING_RECORDER", "SYSTEM", "HearingRecorder", "hearing_ref"]
