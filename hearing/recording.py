"""The hearing lifecycle drives the recorder, and the recorder learns who sits on which bench.

Opening a hearing records every feed of its room with the hearing as the recording's reference
and writes an `opened` marker; recess, resume and close write markers; closing or adjourning
stops the recordings. Court rules require every interruption of a live hearing's recording to be
explained, so a feed that is lost or a recording that fails while the hearing is live becomes a
`RecordingGap` of the hearing (closed again when recording resumes). A hearing's streams outside
its room (the remote site of an arraignment, `extra_feeds`) are recorded and followed the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.alerts import Upcoming
from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.media_paths import parse_room_path, room_path
from control.policy import Principal
from control.registry import RoomInfo
from hearing.lifecycle import LIVE, HearingInfo, record_gap
from hearing.models import Case, Hearing, HearingSeat, Petition, RecordingGap
from recorder.index import Recording
from recorder.service import RecorderConflict, RecorderService

log = logging.getLogger(__name__)

STAFF_TTL_S = 5.0
UPCOMING_WINDOW = timedelta(minutes=15)
SYSTEM = Principal("hearing-lifecycle", "admin")


def hearing_ref(hearing_id: int) -> str:
    return f"hearing:{hearing_id}"


def petition_id_of(ref: str | None) -> int | None:
    if not ref or not ref.startswith("petition:"):
        return None
    tail = ref.removeprefix("petition:")
    return int(tail) if tail.isdigit() else None


def hearing_id_of(ref: str | None) -> int | None:
    if not ref or not ref.startswith("hearing:"):
        return None
    tail = ref.removeprefix("hearing:")
    return int(tail) if tail.isdigit() else None


@dataclass
class _Live:
    """A hearing that is live in a room, and its open recording gaps per feed."""

    hearing_id: int
    case_number: str
    room: str
    open_gaps: dict[str, int] = field(default_factory=dict)  # feed ('' = all) -> gap id
    recorded: set[str] = field(default_factory=set)  # feeds recorded at some point
    paths: dict[str, str] = field(default_factory=dict)  # feed -> stream outside the room
    # Opening and closing gaps and (re)starting recordings happen one at a time per hearing,
    # so a feed that returns while its loss is still being written closes that very gap.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HearingRecording:
    """`LifecycleHooks` for the hearing desk and `HearingStaff` for the recorder."""

    def __init__(self, services: Core, recorder: RecorderService) -> None:
        self.services, self.recorder = services, recorder
        self.live: dict[str, _Live] = {}  # room code -> its live hearing
        self._staff: dict[str, tuple[float, frozenset[str]]] = {}
        self._benches: dict[str, tuple[float, frozenset[str]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False
        # Told the room when a hearing opens there (monitoring escalates its open alerts).
        self.on_live: list[Callable[[str], Awaitable[Any]]] = []
        # Streams of a hearing outside its room, hearing id -> {feed: stream path} (the
        # remote site of an arraignment): recorded as feeds of the hearing.
        self.extra_feeds: list[Callable[[int], Awaitable[dict[str, str]]]] = []
        self._paths: dict[str, tuple[str, str]] = {}  # such a stream path -> (room, feed)
        services.bus.on("stream.up", self.on_stream)
        services.bus.on("stream.down", self.on_stream)

    # ---- start-up: hearings that were live when the server stopped ----

    async def start(self) -> None:
        def load(session: Session) -> list[tuple[int, str, str]]:
            rows = session.scalars(select(Hearing).where(Hearing.state.in_(LIVE)))
            return [(h.id, h.case.number, h.room_code) for h in rows]

        for hid, number, room in await self.services.db.run(load):
            self.live[room] = _Live(hid, number, room)
            await self._record_all(self.live[room], "the server restarted")

    async def stop(self) -> None:
        self._stopped = True  # streams going down as the node stops are not gaps
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)

    # ---- HearingStaff ----

    def staff_of(self, ref: str | None) -> frozenset[str]:
        """The bench of a hearing; for a remote petition, the staff member who received it."""
        pid = petition_id_of(ref)
        if pid is not None:
            return self._cached(self._staff, f"petition:{pid}", lambda s: frozenset(
                u for u in s.scalars(select(Petition.accepted_by).where(Petition.id == pid))
                if u))
        hid = hearing_id_of(ref)
        if hid is None:
            return frozenset()
        return self._cached(self._staff, str(hid), lambda s: frozenset(s.scalars(
            select(HearingSeat.username).where(HearingSeat.hearing_id == hid))))

    def hearings_of(self, username: str) -> frozenset[str]:
        def load(session: Session) -> frozenset[str]:
            benches = session.scalars(
                select(HearingSeat.hearing_id).where(HearingSeat.username == username))
            received = session.scalars(
                select(Petition.id).where(Petition.accepted_by == username))
            return frozenset([*(hearing_ref(h) for h in benches),
                              *(f"petition:{p}" for p in received)])

        return self._cached(self._benches, username, load)

    def case_type_of(self, ref: str | None) -> str | None:
        """The case type (civil, criminal, ...) of a recording's hearing, for retention."""
        hid = hearing_id_of(ref)
        if hid is None:
            return None
        with self.services.db.session() as session:
            return session.scalar(select(Case.case_type).join(Hearing, Hearing.case_id == Case.id)
                                  .where(Hearing.id == hid))

    def _cached(self, cache: dict[str, tuple[float, frozenset[str]]], key: str,
                query: Any) -> frozenset[str]:
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and now - hit[0] < STAFF_TTL_S:
            return hit[1]
        if len(cache) > 10_000:
            cache.clear()
        with self.services.db.session() as session:
            value: frozenset[str] = query(session)
        cache[key] = (now, value)
        return value

    # ---- LifecycleHooks ----

    async def on_opened(self, hearing: HearingInfo) -> None:
        live = self.live[hearing.room] = _Live(hearing.id, hearing.case_number, hearing.room)
        self._staff.pop(str(hearing.id), None)
        await self._record_all(live, "no feed of the room is live at the opening")
        await self._mark(hearing, "opened", f"{hearing.case_number} opened")
        for notify in self.on_live:
            await notify(hearing.room)

    async def on_recess(self, hearing: HearingInfo) -> None:
        await self._mark(hearing, "recess", "recess")

    async def on_resumed(self, hearing: HearingInfo) -> None:
        live = self.live.setdefault(hearing.room,
                                    _Live(hearing.id, hearing.case_number, hearing.room))
        await self._record_all(live, "no feed of the room is live at the resumption")
        await self._mark(hearing, "resumed", "resumed")

    async def on_closed(self, hearing: HearingInfo) -> None:
        await self._end(hearing, "closed", "closed")

    async def on_adjourned(self, hearing: HearingInfo) -> None:
        await self._end(hearing, "closed", "adjourned")

    async def _end(self, hearing: HearingInfo, kind: str, text: str) -> None:
        # No longer live before anything is awaited: streams that end with the hearing (the
        # remote site is let go) are not gaps.
        live = self.live.pop(hearing.room, None)
        paths = live.paths if live is not None else {}
        for path in paths.values():
            self._paths.pop(path, None)
        await self._mark(hearing, kind, text)
        room = self.services.registry.rooms.get(hearing.room)
        if room is None:
            return
        ref = hearing_ref(hearing.id)
        for feed in self._recording_feeds(room, ref):
            try:
                await self.recorder.stop_recording(room, feed, SYSTEM, path=paths.get(feed))
            except RecorderConflict:
                pass  # it stopped on its own meanwhile

    def _recording_feeds(self, room: RoomInfo, ref: str) -> list[str]:
        return list(self.recorder.active_for(room.code, ref))

    async def _mark(self, hearing: HearingInfo, kind: str, text: str) -> None:
        await self.mark(hearing.room, kind, text, hearing.at, SYSTEM.username)

    async def mark(self, room: str, kind: str, text: str, at: datetime, author: str) -> int:
        """A marker on every recording running in the room; how many were marked."""
        ids = list(self.recorder.active(room).values())
        if not ids:
            return 0
        recs = await self.services.db.run(
            lambda s: list(s.scalars(select(Recording).where(Recording.id.in_(ids)))))
        for rec in recs:
            await self.recorder.add_marker(rec, kind, text, at, author)
        return len(recs)

    # ---- recording and its gaps ----

    async def _record_all(self, live: _Live, why_none: str) -> None:
        """Record every feed of the room that is live; none at all is a gap of the hearing.

        A feed that is not live yet (a second camera switched on later) is recorded when it
        comes up; only losing a feed that was recorded is an interruption."""
        room = self.services.registry.rooms.get(live.room)
        if room is None:
            return
        for extra in self.extra_feeds:
            live.paths.update(await extra(live.hearing_id))
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
        room = self.services.registry.rooms.get(live.room)
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
                                                    path=live.paths.get(feed))
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
            await self._open_gap_locked(live, feed, cause, at)

    async def _open_gap_locked(self, live: _Live, feed: str, cause: str,
                               at: datetime | None) -> None:
        if feed in live.open_gaps:
            return
        started = at or utcnow()
        gap = await self.services.db.run(
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

        await self.services.db.run(close)

    async def upcoming(self, within: timedelta = UPCOMING_WINDOW) -> list[Upcoming]:
        """Scheduled hearings starting soon: monitoring checks that their rooms are live."""
        now = utcnow()

        def load(session: Session) -> list[Upcoming]:
            rows = session.execute(
                select(Hearing.id, Hearing.room_code, Hearing.starts_at)
                .where(Hearing.state == "scheduled", Hearing.starts_at >= now,
                       Hearing.starts_at <= now + within))
            return [Upcoming(room, start, hearing_ref(hid)) for hid, room, start in rows]

        return await self.services.db.run(load)

    async def on_stream(self, event: Event) -> None:
        """`stream.up` / `stream.down`: gaps of a live hearing open and close, recording follows."""
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

    def on_recording_failed(self, room: str, feed: str, ref: str | None, reason: str) -> None:
        live = self.live.get(room)
        if self._stopped or live is None or ref != hearing_ref(live.hearing_id):
            return
        self._spawn(self._after_failure(live, feed, reason))

    async def _after_failure(self, live: _Live, feed: str, reason: str) -> None:
        """A recording that broke is a gap; if its stream is still there, record it again."""
        await self._open_gap(live, feed, f"recording failed: {reason}")
        stream = self.recorder.streams.get(live.paths.get(feed) or room_path(live.room, feed))
        if stream is not None and stream.is_live and self.live.get(live.room) is live:
            await self._record(live, feed)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


__all__ = ["HearingRecording", "hearing_id_of", "hearing_ref"]
