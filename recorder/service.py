"""RecorderService: starts and stops the recording of courtroom feeds and keeps the index.

One SegmentRecorder per recorded feed; each closed segment becomes a row (and a bus event),
each failure an alert. At start-up the index is reconciled with the files left by a crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from control.audit import AuditLog
from control.bus import Event, EventBus
from control.config import RetentionSettings
from control.db import Database, utcnow
from control.errors import ApiError
from control.iso8601 import MILLIS, iso
from control.leases import Leases
from control.media_paths import room_path
from control.monitoring import RoomMonitor
from control.policy import Principal, Target
from control.registry import CourtRegistry, RoomInfo
from media import StreamNotFound, StreamRegistry
from recorder.exports import ExportQueue
from recorder.models import Marker, Recording, Segment
from recorder.reconcile import ReconcileReport, reconcile_interrupted, reconcile_recording
from recorder.retention import RetentionJob
from recorder.segments import DEFAULT_SEGMENT_S, ClosedSegment, RecordingPlace, SegmentRecorder
from recorder.staff import HearingStaff, NoHearingStaff
from recorder.storage import recording_folder

log = logging.getLogger(__name__)

GAP_MARKER_S = 1.0  # a hole this long between segments is marked in the index
READER_QUEUE = 4096  # frames that may queue while the recording's row is being written
PLAY_AUDIT_S = 600.0  # one audit row per user and recording within this time
MAX_PLAY_KEYS = 10_000
# Streams never recorded, whoever asks: a private consultation between a defendant and their
# lawyer (`consult/...`) is confidential by law.
PRIVATE_PATHS = ("consult/",)


_INSERT_SEGMENT = insert(Segment)
_BUMP_RECORDING = update(Recording).where(Recording.id == bindparam("rid")).values(
    segment_count=Recording.segment_count + 1, bytes=Recording.bytes + bindparam("add"),
    head_sha256=bindparam("head"))


class RecorderConflict(ApiError):
    """The request cannot be done in the current state (already recording, not live...)."""

    def __init__(self, message: str, room: RoomInfo, feed: str) -> None:
        super().__init__(409, message, {"room": room.code, "feed": feed})


@dataclass
class _Active:
    recording_id: int
    room: RoomInfo
    feed: str
    path: str
    recorder: SegmentRecorder
    hearing_ref: str | None = None
    last_end: datetime | None = None
    finished: asyncio.Future[Recording] | None = None  # set by the first _finish

    @property
    def own(self) -> bool:
        """The room's own feed; other paths filed under it (petitions) leave its status alone."""
        return self.path == room_path(self.room.code, self.feed)


class RecorderService:
    """Recording control, the index writer and crash reconcile for one node."""

    def __init__(self, db: Database, bus: EventBus, registry: CourtRegistry,
                 streams: StreamRegistry, recordings_dir: Path, *,
                 segment_s: float = DEFAULT_SEGMENT_S, analyze: bool = True,
                 monitor: RoomMonitor | None = None, staff: HearingStaff | None = None,
                 workers: int = 4, exports_dir: Path | None = None,
                 retention: RetentionSettings | None = None,
                 audit: AuditLog | None = None, leases: Leases | None = None) -> None:
        self.db = db
        self.bus = bus
        self.registry = registry
        self.streams = streams
        self.root = recordings_dir
        self.segment_s = segment_s
        self.analyze = analyze
        self.monitor = monitor
        self.staff: HearingStaff = staff or NoHearingStaff()
        self.last_reconcile = ReconcileReport()
        self.exports = ExportQueue(db, bus, recordings_dir, exports_dir)
        self.retention = RetentionJob(db, bus, registry, recordings_dir, self.exports,
                                      retention or RetentionSettings(), audit, leases)
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._active: dict[str, _Active] = {}
        self._starting: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._plays: dict[tuple[str, int, str], float] = {}

    def first_play(self, username: str, recording_id: int, span: str) -> bool:
        """True once per user, recording and range per PLAY_AUDIT_S (players re-poll)."""
        now = time.monotonic()
        if len(self._plays) > MAX_PLAY_KEYS:
            self._plays = {k: t for k, t in self._plays.items() if now - t < PLAY_AUDIT_S}
        key = (username, recording_id, span)
        last = self._plays.get(key)
        if last is not None and now - last < PLAY_AUDIT_S:
            return False
        self._plays[key] = now
        return True

    # ---- life cycle ----

    async def start(self) -> None:
        """Reconcile what a crash left behind, then accept recordings."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="recorder")
        root = self.root
        report = await self.db.run(lambda s: reconcile_interrupted(s, root))
        self.last_reconcile = report
        if report.changed:
            log.warning("recordings reconciled", extra={"reconcile": vars(report)})
        if report.missing:
            self.bus.post(Event(
                "alert.raised", Target(kind="system"),
                {"source": "recorder", "severity": "critical",
                 "message": f"{len(report.missing)} recorded segment file(s) are missing",
                 "segments": report.missing[:20]}, action="alert.view"))
        await self.exports.start()
        self.retention.start()

    async def stop(self) -> None:
        """Close every open segment and index it; recordings end as `closed`."""
        await self.retention.stop()
        await self.exports.stop()
        for active in list(self._active.values()):
            await self._finish(active, "closed", "server stopping")
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ---- what is recording ----

    def active(self, room: str) -> dict[str, int]:
        """feed -> recording id of the room's running recordings."""
        return {a.feed: a.recording_id for a in self._active.values() if a.room.code == room}

    @property
    def recording_count(self) -> int:
        return len(self._active)

    def active_for(self, room: str, hearing_ref: str) -> dict[str, int]:
        """feed -> recording id of the room's running recordings for one hearing."""
        return {a.feed: a.recording_id for a in self._active.values()
                if a.room.code == room and a.hearing_ref == hearing_ref}

    async def target(self, rec: Recording) -> Target:
        """What the policy is asked about for a recording."""
        return Target(kind="recording", court=rec.court, room=rec.room, feed=rec.feed,
                      staff=await self.staff.staff_of(rec.hearing_ref))

    # ---- recording control ----

    async def start_recording(self, room: RoomInfo, feed: str, who: Principal,
                              hearing_ref: str | None = None,
                              path: str | None = None,
                              retention_class: str | None = None) -> Recording:
        """Start recording a live feed; RecorderConflict if it is recording or not live.

        `path` names a stream outside the room's own `rooms/<room>/<feed>` (a remote site or
        a petition session), filed under the room and `feed` all the same. `retention_class`
        (the case type, e.g. "criminal") sets how long retention keeps it."""
        path = path or room_path(room.code, feed)
        if path.startswith(PRIVATE_PATHS):
            raise RecorderConflict("this stream is private and is never recorded", room, feed)
        if self._pool is None:
            raise RecorderConflict("the recorder is not running", room, feed)
        if path in self._active or path in self._starting:
            raise RecorderConflict("this feed is already being recorded", room, feed)
        stream = self.streams.get(path)
        if stream is None or not stream.is_live:
            raise RecorderConflict("the feed is not live", room, feed)
        self._starting.add(path)
        try:
            reader = self.streams.subscribe(path, max_frames=READER_QUEUE, label="recorder")
        except StreamNotFound:
            self._starting.discard(path)
            raise RecorderConflict("the feed is not live", room, feed) from None
        recorder = SegmentRecorder(reader, executor=self._pool, segment_s=self.segment_s,
                                   analyze=self.analyze)
        if not recorder.recordable:
            reader.close()
            self._starting.discard(path)
            raise RecorderConflict(
                f"no recordable track (H.264 video or Opus audio); got {recorder.skipped}",
                room, feed)
        # The cached GOP is recorded too, so the recording starts when that GOP did.
        span = recorder.replay_span
        started_at, origin = utcnow() - timedelta(seconds=span), time.monotonic() - span

        def create(session: Session) -> Recording:
            rec = Recording(room=room.code, feed=feed, court=room.court, stream_path=path,
                            hearing_ref=hearing_ref, retention_class=retention_class,
                            started_at=started_at, state="recording", started_by=who.username)
            session.add(rec)
            session.flush()
            rec.directory = recording_folder(room.court, room.code, started_at, rec.id, feed)
            return rec

        try:
            rec = await self.db.run(create)
        except Exception:
            reader.close()
            raise
        finally:
            self._starting.discard(path)
        active = _Active(rec.id, room, feed, path, recorder, hearing_ref)
        recorder.on_segment = lambda closed: self._index(active, closed)
        recorder.on_error = lambda reason: self._spawn(self._failed(active, reason))
        # Called while the stream swaps its tracks: re-subscribe once that is done.
        recorder.on_detached = lambda: self._reattach_soon(active)
        self._active[path] = active
        recorder.start(RecordingPlace(rec.id, started_at, origin, self.root, rec.directory))
        if self.monitor is not None and active.own:
            self.monitor.set_status(room.code, "recording")
        self._publish("recording.started", active, {"by": who.username, "hearing": hearing_ref})
        return rec

    async def stop_recording(self, room: RoomInfo, feed: str, who: Principal,
                             path: str | None = None) -> Recording:
        """Stop recording a feed: the open segment is closed and indexed first."""
        active = self._active.get(path or room_path(room.code, feed))
        if active is None:
            raise RecorderConflict("this feed is not being recorded", room, feed)
        return await self._finish(active, "closed", f"stopped by {who.username}")

    async def add_marker(self, rec: Recording, kind: str, text: str, at: datetime,
                         author: str) -> Marker:
        def write(session: Session) -> Marker:
            marker = Marker(recording_id=rec.id, hearing_ref=rec.hearing_ref, at=at, kind=kind,
                            text=text, author=author)
            session.add(marker)
            return marker

        marker = await self.db.run(write)
        self.bus.post(Event("recording.marker", await self.target(rec),
                               {"recording": rec.id, "kind": kind, "text": text,
                                "author": author}, action="recording.view"))
        return marker

    async def mark_room(self, room: str, kind: str, text: str, at: datetime,
                        author: str) -> int:
        """A marker on every recording running in the room; how many were marked."""
        ids = list(self.active(room).values())
        if not ids:
            return 0
        recs = await self.db.run(
            lambda s: list(s.scalars(select(Recording).where(Recording.id.in_(ids)))))
        for rec in recs:
            await self.add_marker(rec, kind, text, at, author)
        return len(recs)

    # ---- callbacks from the recorders ----

    async def _index(self, active: _Active, closed: ClosedSegment) -> None:
        gap_from = active.last_end
        active.last_end = closed.end_at

        rec_id = active.recording_id

        def write(session: Session) -> None:
            # Prebuilt Core statements: this runs for every segment of every room, and
            # building ORM objects or statements each time costs several times more.
            conn = session.connection()
            conn.execute(_INSERT_SEGMENT, {
                "recording_id": rec_id, "sequence": closed.sequence,
                "start_at": closed.start_at, "end_at": closed.end_at,
                "duration": closed.duration, "bytes": closed.bytes, "sha256": closed.sha256,
                "prev_sha256": closed.prev_sha256, "path": closed.path,
                "init_name": closed.init_name, "init_sha256": closed.init_sha256,
                "audio_dbfs": closed.audio_dbfs, "motion": closed.motion, "missing": False})
            conn.execute(_BUMP_RECORDING, {"rid": rec_id, "add": closed.bytes,
                                           "head": closed.sha256})
            if gap_from is not None and (
                    closed.start_at - gap_from).total_seconds() > GAP_MARKER_S:
                conn.execute(insert(Marker).values(
                    recording_id=rec_id, hearing_ref=active.hearing_ref, at=gap_from,
                    kind="gap", author="recorder",
                    text=f"no media for {(closed.start_at - gap_from).total_seconds():.1f} s"))

        await self.db.run(write)
        self._publish("recording.segment", active, {
            "sequence": closed.sequence, "start": iso(closed.start_at, MILLIS),
            "duration": round(closed.duration, 3), "bytes": closed.bytes,
            "audio_dbfs": closed.audio_dbfs, "motion": closed.motion})

    def _reattach_soon(self, active: _Active) -> None:
        asyncio.get_running_loop().call_soon(self._reattach, active)

    def _reattach(self, active: _Active) -> None:
        """The stream replaced our reader (new codecs): follow it if it is still there."""
        if self._active.get(active.path) is not active:
            return
        try:
            reader = self.streams.subscribe(active.path, max_frames=READER_QUEUE,
                                            label="recorder")
        except StreamNotFound:
            self._spawn(self._failed(active, "the stream went away"))
            return
        active.recorder.attach(reader)

    async def _failed(self, active: _Active, reason: str) -> None:
        await self._finish(active, "failed", reason)
        room = active.room
        if self.monitor is not None and active.own:
            self.monitor.set_status(room.code, "fault", f"recording failed: {reason}"[:120])
        self.bus.post(Event(
            "alert.raised", Target(kind="alert", court=room.court, room=room.code),
            {"source": "recorder", "severity": "critical", "recording": active.recording_id,
             "feed": active.feed, "message": f"recording stopped: {reason}"},
            action="alert.view"))

    async def _finish(self, active: _Active, state: str, detail: str) -> Recording:
        if active.finished is not None:  # a stop and a failure may race: the first one wins
            return await asyncio.shield(active.finished)
        active.finished = asyncio.get_running_loop().create_future()
        try:
            rec = await self._close(active, state, detail)
        except BaseException as exc:
            active.finished.set_exception(exc)
            active.finished.exception()  # retrieved here; later callers re-raise it
            raise
        active.finished.set_result(rec)
        return rec

    async def _close(self, active: _Active, state: str, detail: str) -> Recording:
        if self._active.get(active.path) is active:
            del self._active[active.path]
        await active.recorder.stop()
        root, error = self.root, active.recorder.error

        def close(session: Session) -> Recording:
            rec = session.get(Recording, active.recording_id)
            assert rec is not None
            if state == "failed":
                # Salvage whole fragments of the segment that was being written.
                reconcile_recording(session, root, rec)
                session.add(Marker(recording_id=rec.id, hearing_ref=rec.hearing_ref,
                                   at=utcnow(), kind="alert", text=detail[:500],
                                   author="recorder"))
            rec.state = state
            rec.detail = (error or detail)[:256]
            last_end = session.scalar(select(func.max(Segment.end_at))
                                      .where(Segment.recording_id == rec.id))
            rec.ended_at = last_end or utcnow()
            return rec

        rec = await self.db.run(close)
        if self.monitor is not None and state == "closed" and active.own and not any(
                a.own and a.room.code == active.room.code for a in self._active.values()):
            stream = self.streams.get(active.path)
            self.monitor.set_status(active.room.code,
                                    "live" if stream is not None and stream.is_live else "idle")
        # `recording.failed` carries its hearing: the hearing package opens a gap on it.
        self._publish(f"recording.{'stopped' if state == 'closed' else 'failed'}", active,
                      {"detail": rec.detail, "segments": rec.segment_count,
                       "hearing": active.hearing_ref, "path": active.path, "reason": detail})
        return rec

    def _publish(self, kind: str, active: _Active, data: dict[str, Any]) -> None:
        target = Target(kind="recording", court=active.room.court, room=active.room.code,
                        feed=active.feed)
        self.bus.post(Event(kind, target, {"recording": active.recording_id,
                                              "feed": active.feed, **data},
                               action="recording.view"))

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


RECORDER = web.AppKey("recorder", RecorderService)
"""The node's RecorderService in the aiohttp application."""
