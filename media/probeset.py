"""Health probes for every live feed of a registry: one FeedProbe per stream, kept in step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from .probes import (
    PROBE_LABEL,
    FeedProbe,
    Finding,
    ProbeStats,
    ProbeThresholds,
    _Job,
)
from .reader import Reader
from .stream import StreamRegistry

log = logging.getLogger(__name__)


class ProbeSet:
    """Probes for many streams of one registry: readers, one decode worker and one ticker."""

    def __init__(self, streams: StreamRegistry, on_finding: Callable[[Finding], None], *,
                 clock: Callable[[], float] = time.monotonic, tick_s: float = 1.0,
                 max_jobs: int = 256,
                 on_timing: Callable[[str, float], None] | None = None) -> None:
        self.streams = streams
        self.on_finding = on_finding
        self.clock = clock
        self.tick_s = tick_s
        self.on_timing = on_timing
        self.stats = ProbeStats()
        self.probes: dict[str, FeedProbe] = {}
        self._readers: dict[str, Reader] = {}
        self._jobs: deque[tuple[FeedProbe, _Job]] = deque()
        self._max_jobs = max_jobs
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def watch(self, path: str, thresholds: ProbeThresholds) -> FeedProbe | None:
        """Start probing `path` (idempotent); None if no such stream exists."""
        if path in self.probes:
            return self.probes[path]
        stream = self.streams.get(path)
        if stream is None:
            return None
        probe = FeedProbe(path, stream.tracks, thresholds, self.on_finding, self.clock())
        self.probes[path] = probe
        self._attach(probe)
        return probe

    def unwatch(self, path: str) -> None:
        """Stop probing `path`; its active findings are cleared."""
        probe = self.probes.pop(path, None)
        reader = self._readers.pop(path, None)
        if reader is not None:
            reader.listener = None
            reader.close()
        if probe is not None:
            probe.close(self.clock())

    def _attach(self, probe: FeedProbe) -> None:
        try:
            reader = self.streams.subscribe(probe.path, from_keyframe=False, max_frames=256,
                                            label=PROBE_LABEL)
        except LookupError:
            return  # gone meanwhile: the ticker reports the loss until unwatched
        self._readers[probe.path] = reader
        reader.listener = lambda: self._drain(probe, reader)

    def _drain(self, probe: FeedProbe, reader: Reader) -> None:
        # Runs inside the publisher's push: bookkeeping only, decoding is queued.
        now = self.clock()
        while (frame := reader.get_nowait()) is not None:
            self.stats.frames += 1
            job = probe.on_frame(frame, now)
            if job is None:
                continue
            if len(self._jobs) >= self._max_jobs:
                self.stats.jobs_dropped += 1
                probe.pending = False
                continue
            self._jobs.append((probe, job))
            self._wake.set()
        if reader.closed and self._readers.get(probe.path) is reader:
            # The stream changed codecs under us: follow it with a new reader and decoders.
            del self._readers[probe.path]
            with contextlib.suppress(RuntimeError):  # no loop: shutting down, nothing to follow
                asyncio.get_running_loop().call_soon(self._rewatch, probe.path)

    def _rewatch(self, path: str) -> None:
        probe = self.probes.get(path)
        if probe is None or self.streams.get(path) is None:
            return  # unwatched meanwhile, or gone: the ticker reports the loss
        del self.probes[path]
        probe.close(self.clock())
        self.watch(path, probe.t)

    def run_pending(self) -> int:
        """Run every queued decode job now (tests and benchmarks); returns how many ran."""
        count = 0
        while self._jobs:
            self._run_one(*self._jobs.popleft())
            count += 1
        return count

    def _run_one(self, probe: FeedProbe, job: _Job) -> None:
        started = time.thread_time()
        try:
            probe.process(job)
        except Exception:  # one odd picture must not stop the probing of every feed
            log.exception("probe %s: %s job failed", probe.path, job.kind)
        spent = time.thread_time() - started
        if job.kind == "video":
            self.stats.video_decodes += 1
            self.stats.video_seconds += spent
        else:
            self.stats.audio_windows += 1
            self.stats.audio_seconds += spent
        if self.on_timing is not None:
            self.on_timing(job.kind, spent)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name="probe-decode"),
                       asyncio.create_task(self._tick(), name="probe-tick")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for path in list(self.probes):
            self.unwatch(path)

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._jobs:
                probe, job = self._jobs.popleft()
                if id(self.probes.get(probe.path)) == id(probe):  # still watched, same probe
                    self._run_one(probe, job)
                await asyncio.sleep(0)  # one decode per loop turn: media keeps flowing

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            now = self.clock()
            for probe in list(self.probes.values()):
                try:
                    probe.tick(now)
                except Exception:
                    log.exception("probe %s: tick failed", probe.path)
