"""Test-pattern source: a clip (see `clip.py`) looped forever into a stream in real time.

The clip is encoded once per distinct `PatternSpec` and shared by every source showing it; a
running source only copies packets out on one timer, so hundreds of them cost almost nothing.
Timestamps continue across loops (offset by the clip's length each pass).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from fractions import Fraction

import av

from media.sources.clip import Clip, ClipPacket, PatternSpec, render_clip
from media.sources.source import StateCallback, StateHolder
from media.stream import Publisher, StreamRegistry

logger = logging.getLogger(__name__)

# Packets due within this margin go out in the same tick: video (40 ms) and Opus (20 ms) then
# share one 20 ms grid despite float rounding, so a source wakes 50 times a second, not 75.
# A few ms early is far below any jitter buffer.
TICK_SLACK_S = 0.005
# Further behind than this (the event loop was blocked), re-anchor instead of bursting.
MAX_LAG_S = 0.5


class ClipCache:
    """Encoded clips by spec (least recently used out first); concurrent asks share one encode."""

    def __init__(self, max_clips: int = 256) -> None:
        self.max_clips = max_clips
        self._clips: OrderedDict[PatternSpec, Clip] = OrderedDict()
        self._pending: dict[PatternSpec, asyncio.Future[Clip]] = {}

    def __len__(self) -> int:
        return len(self._clips)

    def get(self, spec: PatternSpec) -> Clip:
        """The clip for `spec`, encoding it now (blocking) if it is not cached."""
        clip = self._clips.get(spec)
        if clip is None:
            clip = render_clip(spec)
            self._store(clip)
        self._clips.move_to_end(spec)
        return clip

    async def get_async(self, spec: PatternSpec) -> Clip:
        """The clip for `spec`, encoding it in a worker thread if it is not cached."""
        clip = self._clips.get(spec)
        if clip is not None:
            self._clips.move_to_end(spec)
            return clip
        pending = self._pending.get(spec)
        if pending is not None and pending.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._pending[spec] = future
        try:
            clip = await asyncio.to_thread(render_clip, spec)
            self._store(clip)
            future.set_result(clip)
            return clip
        except BaseException as exc:
            # Waiters get an error, not a cancellation that was never theirs.
            error = (
                RuntimeError("clip encoding cancelled")
                if isinstance(exc, asyncio.CancelledError)
                else exc
            )
            future.set_exception(error)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            if self._pending.get(spec) is future:
                del self._pending[spec]

    def _store(self, clip: Clip) -> None:
        self._clips[clip.spec] = clip
        while len(self._clips) > self.max_clips:
            self._clips.popitem(last=False)


DEFAULT_CLIPS = ClipCache()
"""The process-wide cache, so sources of the same room share one clip unless told otherwise."""


class TestPatternSource(StateHolder):
    """Publishes a looped clip to `path` in real time with continuous timestamps.

    `await start()` encodes (or reuses) the clip and publishes; `await stop()` unpublishes.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        target: StreamRegistry,
        path: str,
        spec: PatternSpec | str,
        *,
        cache: ClipCache | None = None,
        takeover: bool = False,
        label: str = "testpattern",
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(path, on_state)
        self.target = target
        self.path = path
        self.spec = spec if isinstance(spec, PatternSpec) else PatternSpec(spec)
        self.cache = cache if cache is not None else DEFAULT_CLIPS
        self.takeover = takeover
        self.label = label
        self.clip: Clip | None = None
        self.loops = 0  # completed passes through the clip
        self.packets_sent = 0
        self._publisher: Publisher | None = None
        self._handle: asyncio.Handle | None = None
        self._index = 0
        self._t0 = 0.0
        self._loop_start = 0.0  # seconds of clip time before the current pass
        self._time_bases: tuple[Fraction, ...] = ()
        self._generation = 0  # bumped by stop(), so a start() still encoding does not publish

    @property
    def running(self) -> bool:
        return self._publisher is not None

    async def start(self) -> None:
        """Encode or fetch the clip, publish to the path and start the timer; raises on failure."""
        if self._publisher is not None or self.state == "connecting":
            return  # running, or being started by another call
        self._set_state("connecting")
        generation = self._generation
        try:
            clip = await self.cache.get_async(self.spec)
            if generation != self._generation:
                return  # stopped while the clip was being encoded
            publisher = self.target.publish(
                self.path,
                clip.tracks,
                takeover=self.takeover,
                label=self.label,
                on_displaced=self._on_displaced,
            )
        except Exception as exc:
            if generation == self._generation:
                self._set_state("failed", f"{type(exc).__name__}: {exc}")
            raise
        loop = asyncio.get_running_loop()
        self.clip, self._publisher = clip, publisher
        self._time_bases = tuple(Fraction(1, t.clock_rate) for t in clip.tracks)
        self._index, self.loops, self._loop_start = 0, 0, 0.0
        self._t0 = loop.time()
        self._handle = loop.call_soon(self._tick)
        self._set_state("live")

    async def stop(self) -> None:
        """Stop the timer and unpublish (the stream goes down, its readers stay). Idempotent."""
        self._generation += 1
        self._halt()
        if self.state not in ("idle", "failed"):
            self._set_state("stopped")

    def _halt(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()

    def _on_displaced(self) -> None:
        # Another publisher took the path over: yield to it rather than fight back.
        self._publisher = None
        self._halt()
        self._set_state("stopped", "displaced by another publisher")

    def _tick(self) -> None:
        self._handle = None
        clip, publisher = self.clip, self._publisher
        if clip is None or publisher is None:
            return
        loop = asyncio.get_running_loop()
        packets, duration = clip.packets, float(clip.spec.duration_s)
        elapsed = loop.time() - self._t0
        lag = elapsed - (self._loop_start + packets[self._index].due)
        if lag > MAX_LAG_S:
            # The loop was blocked: continue from here rather than flood the stream.
            self._t0 += lag
            elapsed -= lag
        horizon = elapsed + TICK_SLACK_S
        try:
            while self._loop_start + packets[self._index].due <= horizon:
                self._push(publisher, clip, packets[self._index])
                self._index += 1
                if self._index == len(packets):
                    self._index = 0
                    self.loops += 1
                    self._loop_start += duration
        except Exception as exc:
            logger.exception("test pattern %s stopped", self.path)
            self._halt()
            self._set_state("failed", f"{type(exc).__name__}: {exc}")
            return
        if self._publisher is None:  # displaced while pushing
            return
        due = self._t0 + self._loop_start + packets[self._index].due
        self._handle = loop.call_at(due, self._tick)

    def _push(self, publisher: Publisher, clip: Clip, cp: ClipPacket) -> None:
        # A fresh packet each time: the stream and its readers keep it and may rewrite pts.
        pkt = av.Packet(cp.data)
        pts = cp.pts + self.loops * clip.loop_ticks[cp.track]
        pkt.pts = pkt.dts = pts
        pkt.duration = cp.duration
        pkt.time_base = self._time_bases[cp.track]
        pkt.is_keyframe = cp.keyframe
        self.packets_sent += 1
        publisher.push(cp.track, pkt)
