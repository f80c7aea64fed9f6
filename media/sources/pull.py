"""Pull sources: RTSP, files and UDP MPEG-TS read with PyAV's demuxer and published as they are.

Nothing is decoded. H.264 from MP4/MKV is turned into Annex-B with in-band SPS/PPS by the
`h264_mp4toannexb` bitstream filter (WebRTC packetisation needs start codes). Demuxing blocks,
so each source runs one thread that hands packets to the event loop; files are paced by their
timestamps, live inputs pass as they come. A failed or ended live input is reopened with a
capped exponential back-off.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import av

from media.sources.demux import DemuxInput, b_frames_error, input_target, open_input
from media.sources.source import SourceError, SourceState, StateCallback, StateHolder
from media.stream import Publisher, StreamRegistry, TrackInfo

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0  # the event loop answers a publish at once unless it is wedged
# A track whose timestamps go back (no B-frames here, so never legitimately) or leap this far
# ahead has had its clock restarted.
JUMP_AHEAD_S = 10.0


class PullSource(StateHolder):
    """Pulls `url` into the stream at `path`; `await start()`, `await stop()`.

    `state` and `last_error` tell how it goes; `on_state(state, last_error)` is called on
    the event loop at each change. SourceError (e.g. B-frames) ends in "failed" at once;
    other errors are retried with back-off (`max_retries` None: forever).
    """

    def __init__(
        self,
        target: StreamRegistry,
        path: str,
        url: str,
        *,
        rtsp_transport: str = "tcp",
        repeat: bool = False,
        realtime: bool | None = None,
        takeover: bool = False,
        label: str = "pull",
        open_timeout: float = 5.0,
        read_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_retries: int | None = None,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(path, on_state)
        if rtsp_transport not in ("tcp", "udp"):
            raise ValueError("rtsp_transport must be 'tcp' or 'udp'")
        self.target = target
        self.path = path
        self.url = url
        self.live = input_target(url)[1]
        self.rtsp_transport = rtsp_transport
        self.repeat = repeat and not self.live
        self.realtime = (not self.live) if realtime is None else realtime
        self.takeover = takeover
        self.label = label
        self.timeout = (open_timeout, read_timeout)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retries = max_retries
        self.packets_in = 0
        self.attempts = 0  # consecutive failed attempts
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._done: asyncio.Future[None] | None = None
        self._halt = threading.Event()
        self._stopping = False
        self._publisher: Publisher | None = None
        self._notes: set[str] = set()
        self._delivered = 0  # by the current session (reader thread only)
        self._opened = False  # the current session got past opening (reader thread only)

    async def start(self) -> None:
        """Start the reader thread (returns at once; watch `state`)."""
        if self._thread is not None and self._thread.is_alive():
            if not self._halt.is_set():
                return  # already running
            raise RuntimeError(f"pull {self.path}: the previous reader thread is still blocked")
        loop = asyncio.get_running_loop()
        self._loop, self._done = loop, loop.create_future()
        self._halt.clear()
        self._stopping = False
        self._set_state("connecting")
        self._thread = threading.Thread(target=self._run, name=f"pull {self.path}", daemon=True)
        self._thread.start()

    async def stop(self, wait_s: float | None = None) -> None:
        """Stop reading and unpublish; waits for the thread (a blocked read ends by its timeout)."""
        self._stopping = True
        self._halt.set()
        done = self._done
        if done is not None and not done.done():
            wait = wait_s if wait_s is not None else max(self.timeout) + 1.0
            try:
                await asyncio.wait_for(asyncio.shield(done), wait)
            except TimeoutError:
                logger.warning("pull %s: reader thread still blocked after %.1fs", self.path, wait)
        self._unpublish(self._publisher)
        if self.state not in ("idle", "failed", "ended", "stopped"):
            self._set_state("stopped")

    # -- event-loop side -------------------------------------------------------------------

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._halt.set()  # nobody left to hand packets to: the thread ends
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed between the check and the call
            self._halt.set()

    def _in_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn` on the event loop and return its result to the reader thread."""
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn(*args))
            except BaseException as exc:
                result.set_exception(exc)

        self._post(run)
        if self._halt.is_set():
            raise RuntimeError("stopping")
        return result.result(timeout=PUBLISH_TIMEOUT_S)

    def _apply_state(self, state: SourceState, error: str | None) -> None:
        if not self._stopping:
            self._set_state(state, error)

    def _publish(self, tracks: tuple[TrackInfo, ...]) -> Publisher:
        publisher = self.target.publish(
            self.path,
            tracks,
            takeover=self.takeover,
            label=self.label,
            on_displaced=self._on_displaced,
        )
        self._publisher = publisher
        return publisher

    def _unpublish(self, publisher: Publisher | None) -> None:
        if publisher is None:
            return
        if self._publisher is publisher:
            self._publisher = None
        publisher.close()

    def _deliver(self, publisher: Publisher, index: int, packet: av.Packet) -> None:
        if self._publisher is publisher:  # drop stragglers of an ended session
            self.packets_in += 1
            publisher.push(index, packet)

    def _on_displaced(self) -> None:
        # Another publisher took the path: yield to it rather than fight back.
        self._publisher = None
        self._halt.set()
        self._set_state("stopped", "displaced by another publisher")
        self._stopping = True

    def _note(self, message: str) -> None:
        if message not in self._notes:  # once per source, not once per reconnect
            self._notes.add(message)
            logger.warning("pull %s: %s", self.path, message)

    # -- reader thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._halt.is_set():
                error = "input ended"
                try:
                    self._session()
                    if self._halt.is_set():
                        return
                    if not self.live:
                        self._post(self._apply_state, "ended", None)
                        return
                except SourceError as exc:
                    self._post(self._apply_state, "failed", str(exc))
                    return
                except av.ExitError:  # PyAV's interrupt: the open or a read timed out
                    if self._halt.is_set():
                        return
                    waited = self.timeout[1] if self._opened else self.timeout[0]
                    error = f"timed out: no data for {waited:g}s"
                except Exception as exc:
                    if self._halt.is_set():
                        return
                    error = f"{type(exc).__name__}: {exc}"
                # A session that delivered packets was a success: back off from the start.
                self.attempts = 1 if self._delivered else self.attempts + 1
                if self.max_retries is not None and self.attempts > self.max_retries:
                    self._post(self._apply_state, "failed", error)
                    return
                delay = min(self.backoff_max, self.backoff_initial * 2 ** (self.attempts - 1))
                delay *= random.uniform(0.8, 1.0)  # spread reconnects of many sources
                self._post(self._apply_state, "retrying", f"{error}; retry in {delay:.1f}s")
                if self._halt.wait(delay):
                    return
                self._post(self._apply_state, "connecting", None)
        finally:
            done = self._done
            if done is not None:
                self._post(_resolve, done)

    def _open(self) -> DemuxInput:
        return open_input(
            self.url,
            rtsp_transport=self.rtsp_transport,
            timeout=self.timeout,
            note=lambda m: self._post(self._note, m),
        )

    def _session(self) -> None:
        """Open, publish and play the input (and its repeats); counts into `_delivered`."""
        self._delivered, self._opened = 0, False
        inp = self._open()
        self._opened = True
        publisher: Publisher | None = None
        try:
            publisher = self._in_loop(self._publish, inp.tracks)
            self._post(self._apply_state, "live", None)
            clock = _Clock(time.monotonic(), self.realtime)
            while True:
                for index, packet in self._packets(inp, clock):
                    self._post(self._deliver, publisher, index, packet)
                    self._delivered += 1
                if not self.repeat or self._halt.is_set():
                    return
                if clock.pass_packets == 0:
                    raise RuntimeError("input has no packets to repeat")
                inp.close()
                clock.next_pass()
                inp = self._open()
        finally:
            inp.close()
            if publisher is not None:
                self._post(self._unpublish, publisher)

    def _packets(self, inp: DemuxInput, clock: _Clock) -> Iterator[tuple[int, av.Packet]]:
        """The input's packets as (track, Annex-B packet in the track's clock), paced if asked."""
        streams = [inp.container.streams[i] for i in inp.maps]
        clock.begin_pass(inp.origin)
        for packet in inp.container.demux(streams):
            if self._halt.is_set():
                return
            if packet.pts is None or packet.size == 0:
                continue  # the demuxer's end-of-stream markers
            m = inp.maps[packet.stream_index]
            if m.h264 and packet.dts is not None and packet.dts != packet.pts:
                raise b_frames_error(f"dts {packet.dts} != pts {packet.pts}")
            seconds = float(packet.pts * m.time_base)
            duration = float(packet.duration * m.time_base) if packet.duration else 0.0
            at = clock.place(m.index, seconds, duration)
            if clock.realtime and self._halt.wait(max(0.0, clock.due(at) - time.monotonic())):
                return
            outs = m.bsf.filter(packet) if m.bsf is not None else [packet]
            for out in outs:
                # A detached copy: the packet outlives this container on the loop side.
                copy = av.Packet(bytes(out))
                copy.pts = copy.dts = round(at * m.clock_rate)
                copy.time_base = Fraction(1, m.clock_rate)
                copy.is_keyframe = bool(out.is_keyframe)
                yield m.index, copy


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Clock:
    """Maps input seconds to stream seconds (continuous across repeats and jumps) and paces."""

    def __init__(self, wall_start: float, realtime: bool) -> None:
        self.wall_start = wall_start
        self.realtime = realtime
        self.offset = 0.0  # stream seconds minus input seconds, of the latest epoch
        self.origin: float | None = None
        self.end = 0.0  # stream seconds at the end of the latest packet
        self.pass_packets = 0
        self._offsets: dict[int, float] = {}  # track -> the epoch it is in
        self._last: dict[int, tuple[float, float]] = {}  # track -> (start, step) of its last

    def begin_pass(self, origin: float | None) -> None:
        self.origin = origin
        self.pass_packets = 0

    def place(self, track: int, seconds: float, duration: float) -> float:
        """Stream seconds of a packet of `track` at input `seconds`."""
        if self.origin is None:
            self.origin = seconds
        raw = seconds - self.origin
        offset = self._offsets.get(track, self.offset)
        last = self._last.get(track)
        if last is not None and not last[0] < raw + offset <= last[0] + JUMP_AHEAD_S:
            # The input's clock jumped (encoder restart, MPEG-TS 33-bit wrap, a looping
            # sender). Follow a track that already jumped, so audio and video stay in sync;
            # else go on one step after this track's last packet. Tracks switch epoch one by
            # one because a demuxer may still hand out a track's packets of the old one.
            if not last[0] < raw + self.offset <= last[0] + JUMP_AHEAD_S:
                self.offset = last[0] + (last[1] or 0.02) - raw
            offset = self.offset
        self._offsets[track] = offset
        at = max(raw + offset, 0.0)  # audio priming may start a bit before the start time
        step = at - last[0] if last is not None and at > last[0] else (last[1] if last else 0.0)
        self._last[track] = (at, step)
        # Without a duration (common in MPEG-TS) the packet lasts as long as the previous step,
        # so the next pass does not start on the last frame's timestamp.
        self.end = max(self.end, at + (duration or step))
        self.pass_packets += 1
        return at

    def next_pass(self) -> None:
        self.offset = self.end
        self._offsets.clear()
        self._last.clear()

    def due(self, at: float) -> float:
        return self.wall_start + at
