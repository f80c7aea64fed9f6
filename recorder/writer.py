"""The disk side of a recording: fragments built, written, hashed and synced on worker threads.

The recorder on the event loop only collects encoded packets; everything per byte (Annex-B to
length-prefixed NAL units, the moof tables, SHA-256, write, fsync) happens here, one job at a
time and in order for each recording, so a segment is renamed and indexed only when whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Literal, Protocol

import av

from recorder import fmp4
from recorder.analysis import SegmentAnalyzer
from recorder.h264 import avcc_parts
from recorder.models import GENESIS
from recorder.storage import SegmentFile, segment_name, write_atomic

log = logging.getLogger(__name__)

MAX_PENDING_BYTES: Final = 64 * 1024 * 1024  # more than this unwritten: the disk is failing


class SampleTrack(Protocol):
    """What the writer needs of a recorder's track (read-only here)."""

    track_id: int
    video: bool


# (track, decode time, composition offset, packet, sync sample)
Sample = tuple[SampleTrack, int, int, av.Packet, bool]


@dataclass(frozen=True)
class ClosedSegment:
    """A segment that is on disk under its final name, synced, ready for the index."""

    sequence: int
    path: str  # relative to the recordings root
    start_at: datetime
    end_at: datetime
    duration: float
    bytes: int
    sha256: str
    prev_sha256: str
    init_name: str
    init_sha256: str | None
    audio_dbfs: float | None
    motion: float | None


@dataclass(frozen=True)
class RecordingPlace:
    """Where and from when a recording is written: its id, folder and time origin."""

    recording_id: int
    started_at: datetime  # wall-clock time of media time zero
    origin: float  # the same instant on time.monotonic()
    root: Path
    directory: str  # relative to root
    first_sequence: int = 1
    prev_sha256: str = GENESIS


@dataclass
class Job:
    """One step of a recording's disk work."""

    kind: Literal["init", "open", "write", "close"]
    size: int = 0  # bytes this job will write (for the backlog limit)
    name: str = ""  # init: file name; close: the segment's init file
    data: bytes = b""  # init
    sequence: int = 0  # open, close: segment number; write: fragment number
    samples: list[Sample] = field(default_factory=list)  # write
    ends: dict[int, int] = field(default_factory=dict)  # write: next decode time per track
    start: int = 0  # close: segment start and duration in the key track's clock
    duration: int = 0
    clock: int = 1
    keyframe: av.Packet | None = None  # close: for the analysis
    audio: list[av.Packet] = field(default_factory=list)


def build_fragment(sequence: int, samples: list[Sample],
                   ends: dict[int, int]) -> list[fmp4.Buffer]:
    """moof + mdat of `samples` as pieces; a track's last sample lasts until `ends[id]`."""
    runs: dict[int, fmp4.TrackRun] = {}
    last: dict[int, int] = {}
    for track, out, cto, packet, key in samples:
        tid = track.track_id
        run = runs.get(tid)
        if run is None:
            run = runs[tid] = fmp4.TrackRun(tid, out)
        else:
            run.durations.append(out - last[tid])
        if track.video:  # Annex-B to length-prefixed, the NAL bytes themselves not copied
            run.sizes.append(avcc_parts(bytes(packet), run.data))
        else:
            data = bytes(packet)
            run.sizes.append(len(data))
            run.data.append(data)
        run.flags.append(fmp4.FLAGS_SYNC if key else fmp4.FLAGS_NON_SYNC)
        run.offsets.append(cto)
        last[tid] = out
    for tid, run in runs.items():
        run.durations.append(ends[tid] - last[tid])
    return fmp4.fragment(sequence, list(runs.values()))


class SegmentWriter:
    """Runs one recording's jobs in order on `executor`; the first failure stops it."""

    def __init__(self, place: RecordingPlace, executor: Executor | None, analyze: bool,
                 on_segment: Callable[[ClosedSegment], Awaitable[None]] | None,
                 on_failure: Callable[[str], None]) -> None:
        self.place = place
        self.executor = executor
        self.on_segment = on_segment
        self.on_failure = on_failure
        self.failed = False
        self.segments = 0
        self.bytes = 0
        self._analyzer = SegmentAnalyzer() if analyze else None
        self._jobs: asyncio.Queue[Job | None] = asyncio.Queue()
        self._pending = 0
        self._file: SegmentFile | None = None
        self._prev_sha = place.prev_sha256
        self._init_shas: dict[str, str] = {}  # written by one job, read by a later close
        self._task = asyncio.get_running_loop().create_task(self._run())

    def submit(self, job: Job) -> bool:
        """Queue a job; False (and nothing queued) once failed or over the backlog limit."""
        if self.failed:
            return False
        if self._pending + job.size > MAX_PENDING_BYTES:
            self._fail("the disk is not keeping up: unwritten data over the limit")
            return False
        self._pending += job.size
        self._jobs.put_nowait(job)
        return True

    async def close(self) -> None:
        """Finish every queued job (or stop at a failure); idempotent."""
        self._jobs.put_nowait(None)
        await asyncio.shield(self._task)

    async def _run(self) -> None:
        try:
            await self._work()
        finally:
            if self.failed and self._file is not None:
                self._file.abort()  # no job runs now; the temp file stays for reconcile

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:  # ends on the None that close() queues, or on the first failure
            job = await self._jobs.get()
            if job is None:
                return
            try:
                result = await loop.run_in_executor(self.executor, self._do, job)
            except OSError as exc:
                self._fail(f"write failed: {exc}")
                return
            except Exception as exc:
                log.exception("recorder %s job failed", job.kind)
                self._fail(f"{type(exc).__name__}: {exc}")
                return
            finally:
                self._pending -= job.size
            if result is None:
                continue
            self.segments += 1
            self.bytes += result.bytes
            if self.on_segment is not None:
                try:
                    await self.on_segment(result)
                except Exception:
                    # The file is safe on disk; reconcile indexes it if this keeps failing.
                    log.exception("indexing segment %s failed", result.path)

    def _do(self, job: Job) -> ClosedSegment | None:
        folder = self.place.root / self.place.directory
        if job.kind == "init":
            folder.mkdir(parents=True, exist_ok=True)
            self._init_shas[job.name] = write_atomic(folder / job.name, job.data)
        elif job.kind == "open":
            self._file = SegmentFile(folder, job.sequence)
        elif job.kind == "write":
            assert self._file is not None
            # One join (a memcpy) and one write: cheaper than a syscall and hash per piece.
            self._file.write(b"".join(build_fragment(job.sequence, job.samples, job.ends)))
        else:
            return self._close(job)
        return None

    def _close(self, job: Job) -> ClosedSegment:
        file, self._file = self._file, None
        assert file is not None
        sha = file.close()
        dbfs = motion = None
        if self._analyzer is not None:
            dbfs = self._analyzer.audio_dbfs([bytes(p) for p in job.audio])
            motion = self._analyzer.motion(bytes(job.keyframe) if job.keyframe else None)
        place = self.place
        # Both ends from media time, so a segment's end is exactly the next one's start.
        start_at = place.started_at + timedelta(seconds=job.start / job.clock)
        end_at = place.started_at + timedelta(seconds=(job.start + job.duration) / job.clock)
        closed = ClosedSegment(
            sequence=job.sequence, path=f"{place.directory}/{segment_name(job.sequence)}",
            start_at=start_at, end_at=end_at, duration=job.duration / job.clock,
            bytes=file.size, sha256=sha, prev_sha256=self._prev_sha, init_name=job.name,
            init_sha256=self._init_shas.pop(job.name, None), audio_dbfs=dbfs, motion=motion,
        )
        self._prev_sha = sha
        return closed

    def _fail(self, reason: str) -> None:
        if self.failed:
            return
        self.failed = True
        while not self._jobs.empty():  # nothing more reaches the disk
            self._jobs.get_nowait()
        self._jobs.put_nowait(None)
        self.on_failure(reason)
