"""SegmentRecorder: a reader of a live stream that remuxes H.264 + Opus into HLS fMP4 segments.

Nothing is decoded on the way (the analysis looks at one keyframe and half a second of audio per
segment, on a worker thread). On the event loop each frame costs a retime and an append: the
reader's listener drains frames synchronously, with no task switch. At each keyframe the
collected GOP becomes one fragment, handed to the SegmentWriter (recorder/writer.py), which
appends it to `<seq>.m4s.part`; at a keyframe past the target length the segment is synced,
renamed to `<seq>.m4s` and only then indexed.

Timeline: media time zero is the recording's `started_at`. A track's first frame (and any
frame whose timestamp jumps backwards or too far) is placed by its arrival on the monotonic
clock; after that the source's own timestamps advance it, so segments abut exactly. A stall
of the source (a gap in its timestamps) ends the segment; the next keyframe opens a new one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Final, Literal

import av

from media import MediaFrame, Reader
from recorder import fmp4
from recorder.h264 import avcc_record, leading_parameter_sets, parse_sps
from recorder.storage import init_name
from recorder.writer import ClosedSegment, Job, RecordingPlace, Sample, SegmentWriter

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SEGMENT_S", "ClosedSegment", "RecordingPlace", "SegmentRecorder"]

DEFAULT_SEGMENT_S: Final = 6.0
MAX_FRAGMENT_S: Final = 2.0  # a long GOP is still written out (and salvageable) this often
MAX_JUMP_S: Final = 5.0  # a timestamp step beyond this is re-placed by the wall clock
STALL_S: Final = 3.0  # a step beyond this ends the open segment (the source stalled)
ANALYSIS_AUDIO_PACKETS: Final = 25  # half a second of 20 ms Opus packets per segment
RecorderState = Literal["idle", "recording", "waiting", "stopped", "failed"]


class _Track:
    """Per-track state on the event loop: the retiming of its timestamps."""

    __slots__ = ("clock", "default_duration", "last_delta", "last_in", "last_out", "max_jump",
                 "stall", "track_id", "video")

    def __init__(self, track_id: int, clock: int, video: bool) -> None:
        self.track_id = track_id
        self.clock = clock
        self.video = video
        self.max_jump = int(MAX_JUMP_S * clock)
        self.stall = int(STALL_S * clock)
        self.default_duration = clock // 25 if video else 960
        self.last_in: int | None = None
        self.last_out = -1
        self.last_delta = 0


class SegmentRecorder:
    """Records one stream reader into numbered fMP4 segments; see the module docstring."""

    def __init__(
        self,
        reader: Reader,
        *,
        executor: Executor | None = None,
        segment_s: float = DEFAULT_SEGMENT_S,
        analyze: bool = True,
        on_segment: Callable[[ClosedSegment], Awaitable[None]] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_detached: Callable[[], None] | None = None,
    ) -> None:
        if not 0.5 <= segment_s <= 60:
            raise ValueError("segment length must be between 0.5 and 60 seconds")
        self.segment_s = segment_s
        self.executor = executor
        self.analyze = analyze
        self.on_segment = on_segment
        self.on_error = on_error
        self.on_detached = on_detached
        self.state: RecorderState = "idle"
        self.error: str | None = None
        self.skipped: list[str] = []  # codecs of tracks that cannot be recorded
        self.place: RecordingPlace | None = None
        self._writer: SegmentWriter | None = None
        self._reader: Reader | None = None
        self._replay: list[tuple[MediaFrame, float]] = []
        self._tracks: list[_Track | None] = []
        self._key: _Track | None = None
        self._params: tuple[tuple[bytes, ...], tuple[bytes, ...]] | None = None
        self._init: tuple[str, bytes] | None = None
        self._init_changed = False
        self._sequence = 1
        self._fragments = 0
        self._samples: list[Sample] = []
        self._segment_open = False
        self._seg_start = self._frag_start = 0
        self._seg_init = ""
        self._seg_keyframe: av.Packet | None = None
        self._seg_audio: list[av.Packet] = []
        self._bind(reader)

    @property
    def recordable(self) -> bool:
        """False when the stream has neither H.264 video nor Opus audio."""
        return self._key is not None

    @property
    def replay_span(self) -> float:
        """Seconds of cached GOP the reader started with (the recording begins that early)."""
        return max((age for _f, age in self._replay), default=0.0)

    # ---- life cycle ----

    def start(self, place: RecordingPlace) -> None:
        """Begin writing at `place`; frames queued since the reader attached are recorded."""
        if self.state != "idle":
            raise RuntimeError("recorder already started")
        self.place = place
        self._sequence = place.first_sequence
        self._writer = SegmentWriter(place, self.executor, self.analyze, self.on_segment,
                                     self._fail)
        self.state = "recording"
        self._resume()

    def attach(self, reader: Reader) -> None:
        """Continue on a new reader (the stream came back, perhaps with other codecs)."""
        if self.state != "waiting":
            reader.close()
            return
        self._bind(reader)
        self.state = "recording"
        self._resume()

    async def stop(self) -> None:
        """Close the open segment, write everything out and detach. Idempotent."""
        self._detach()
        if self.state in ("recording", "waiting"):
            self._finish_segment()
            self.state = "stopped"
        elif self.state == "idle":
            self.state = "stopped"
        if self._writer is not None:
            await self._writer.close()

    # ---- reading (the hot path, on the event loop) ----

    def _bind(self, reader: Reader) -> None:
        self._reader = reader
        self._tracks, self._key, self._params, self.skipped = [], None, None, []
        for info in reader.stream.tracks:
            codec = info.codec.lower()
            have = [t for t in self._tracks if t is not None]
            video = info.kind == "video" and codec == "h264" and not any(t.video for t in have)
            audio = info.kind == "audio" and codec == "opus" and all(t.video for t in have)
            if not (video or audio):
                self._tracks.append(None)
                self.skipped.append(info.codec)
                continue
            self._tracks.append(_Track(len(have) + 1, info.clock_rate, video))
        usable = [t for t in self._tracks if t is not None]
        self._key = next((t for t in usable if t.video), usable[0] if usable else None)
        replay = reader.take_replay() if reader.replaying else []
        newest: dict[int, int] = {}
        for frame in replay:
            newest[frame.track_index] = max(newest.get(frame.track_index, frame.pts), frame.pts)
        self._replay = []
        for frame in replay:
            track = self._tracks[frame.track_index] if frame.track_index < len(
                self._tracks) else None
            age = (newest[frame.track_index] - frame.pts) / track.clock if track else 0.0
            self._replay.append((frame, max(0.0, age)))

    def _resume(self) -> None:
        reader = self._reader
        if reader is None:
            return
        if self._key is None:
            self._fail("the stream has no recordable track (H.264 video or Opus audio)")
            return
        now = time.monotonic()
        replay, self._replay = self._replay, []
        try:
            for frame, age in replay:
                self._on_frame(frame, now - age)
        except Exception as exc:
            log.exception("recorder failed on replayed frames")
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        reader.listener = self._drain
        self._drain()

    def _drain(self) -> None:
        reader = self._reader
        if reader is None:
            return
        now = time.monotonic()
        try:
            for _ in range(len(reader)):  # what is queued now; the listener calls again later
                frame = reader.get_nowait()
                if frame is None:
                    break
                self._on_frame(frame, now)
        except Exception as exc:
            log.exception("recorder failed on %s", reader.stream.path)
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if reader.closed and self._reader is reader and self.state == "recording":
            # The stream ended our reader (new codecs, or shutdown): wait to be re-attached.
            self._reader = None
            self._finish_segment()
            self.state = "waiting"
            if self.on_detached is not None:
                self.on_detached()

    def _on_frame(self, frame: MediaFrame, arrival: float) -> None:
        index = frame.track_index
        track = self._tracks[index] if index < len(self._tracks) else None
        if track is None:
            return
        packet = frame.packet
        pts = frame.pts
        dts = packet.dts
        if dts is None:
            dts = pts
        last = track.last_in
        track.last_in = dts
        delta = dts - last if last is not None else -1
        if 0 < delta <= track.max_jump:
            out = track.last_out + delta
            if delta <= track.stall:  # a usual step: what a last sample is assumed to last
                track.last_delta = delta
        else:
            assert self.place is not None
            out = max(track.last_out + 1, round((arrival - self.place.origin) * track.clock))
        track.last_out = out
        if track is self._key:
            if not self._boundary(track, frame, out, delta):
                return
        elif not self._segment_open:
            return
        self._samples.append((track, out, pts - dts, packet, frame.keyframe))

    def _boundary(self, track: _Track, frame: MediaFrame, out: int, delta: int) -> bool:
        """Fragment, segment and init changes at a frame of the key track; False drops it."""
        if self._segment_open and not 0 < delta <= track.stall:
            self._finish_segment()  # the source stalled: the gap falls between segments
            if track.video and self._reader is not None:
                self._reader.stream.request_keyframe()
        if track.video and frame.keyframe:
            sps, pps = leading_parameter_sets(bytes(frame.packet))
            if sps and pps and (sps, pps) != self._params:
                self._new_video_init(track, sps, pps)
        elif track.video:
            if self._segment_open and out - self._frag_start >= MAX_FRAGMENT_S * track.clock:
                self._flush(out)
                self._frag_start = out
            return self._segment_open
        elif self._init is None:
            self._set_init(fmp4.init_segment(self._init_tracks(None)))
        if self._init is None:
            return False  # no parameter sets yet: nothing is decodable before them
        if self._segment_open:
            if self._init_changed or out - self._seg_start >= self.segment_s * track.clock:
                self._flush(out)
                self._close_segment(out - self._seg_start)
            elif track.video or out - self._frag_start >= track.clock:
                self._flush(out)
                self._frag_start = out
        if not self._segment_open:
            self._open_segment(out, frame.packet if track.video else None)
        return True

    # ---- fragments, segments and inits ----

    def _flush(self, key_end: int | None) -> None:
        """Hand the collected samples to the writer as one fragment.

        `key_end` is the key track's next decode time (a cut); the other tracks' last samples
        wait for the next fragment, where their successors give them a duration. With None
        (the end of a segment) every last sample gets its track's usual duration.
        """
        samples = self._samples
        if not samples:
            return
        key = self._key
        assert key is not None
        ends: dict[int, int] = {}
        held: list[Sample] = []
        for track in self._tracks:
            if track is None:
                continue
            last = next((i for i in range(len(samples) - 1, -1, -1)
                         if samples[i][0] is track), None)
            if last is None:
                continue
            if key_end is None:
                ends[track.track_id] = samples[last][1] + (
                    track.last_delta or track.default_duration)
            elif track is key:
                ends[track.track_id] = key_end
            else:
                ends[track.track_id] = samples[last][1]
                held.append(samples.pop(last))
                if not any(s[0] is track for s in samples):
                    del ends[track.track_id]
        self._samples = held
        if not samples:
            return
        if self.analyze and len(self._seg_audio) < ANALYSIS_AUDIO_PACKETS:
            self._seg_audio.extend(s[3] for s in samples[:ANALYSIS_AUDIO_PACKETS * 2]
                                   if not s[0].video)
        self._fragments += 1
        self._submit(Job("write", size=sum(s[3].size for s in samples),
                         sequence=self._fragments, samples=samples, ends=ends))

    def _open_segment(self, start: int, keyframe: av.Packet | None) -> None:
        assert self._init is not None
        self._segment_open = True
        self._init_changed = False
        self._seg_start = self._frag_start = start
        self._seg_init = self._init[0]
        self._seg_keyframe = keyframe
        self._seg_audio = []
        self._submit(Job("open", sequence=self._sequence))

    def _close_segment(self, duration: int) -> None:
        key = self._key
        assert key is not None
        self._submit(Job("close", name=self._seg_init, sequence=self._sequence,
                         start=self._seg_start, duration=duration, clock=key.clock,
                         keyframe=self._seg_keyframe if self.analyze else None,
                         audio=self._seg_audio[:ANALYSIS_AUDIO_PACKETS]))
        self._segment_open = False
        self._sequence += 1

    def _finish_segment(self) -> None:
        """End the open segment now: last samples get their track's usual duration."""
        if not self._segment_open:
            return
        key = self._key
        assert key is not None
        last = max((s[1] for s in self._samples if s[0] is key), default=self._frag_start)
        self._flush(None)
        self._close_segment(last + (key.last_delta or key.default_duration) - self._seg_start)

    def _init_tracks(self, video: fmp4.VideoTrack | None) -> list[fmp4.Track]:
        out: list[fmp4.Track] = []
        for track in self._tracks:
            if track is not None and track.video and video is not None:
                out.append(video)
            elif track is not None and not track.video:
                out.append(fmp4.OpusTrack(track.track_id))
        return out

    def _new_video_init(self, track: _Track, sps: tuple[bytes, ...],
                        pps: tuple[bytes, ...]) -> None:
        try:
            info = parse_sps(sps[0])
            avcc = avcc_record(sps, pps)
        except ValueError:
            log.warning("unreadable SPS; waiting for the next keyframe")
            return
        self._params = (sps, pps)
        video = fmp4.VideoTrack(track.track_id, avcc, info.width, info.height, track.clock)
        self._set_init(fmp4.init_segment(self._init_tracks(video)))

    def _set_init(self, data: bytes) -> None:
        if self._init is not None and self._init[1] == data:
            return
        self._init_changed = self._init is not None
        # Named after the segment that will first use it: the next one if one is open.
        first = self._sequence + 1 if self._segment_open else self._sequence
        self._init = (init_name(first), data)
        self._submit(Job("init", size=len(data), name=self._init[0], data=data))

    def _submit(self, job: Job) -> None:
        if self._writer is not None and self.state != "failed":
            self._writer.submit(job)

    def _detach(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.listener = None
            reader.close()

    def _fail(self, reason: str) -> None:
        if self.state == "failed":
            return
        log.error("recording stopped: %s", reason)
        self.state, self.error = "failed", reason
        self._detach()
        if self.on_error is not None:
            self.on_error(reason)
