"""Health probes: readers of a stream that look at its picture and sound at a low rate.

A probe sees every packet of its feed (sizes and arrival times are nearly free) but decodes
almost none: one video keyframe every few seconds and a short audio window every few seconds.
From those it reports video loss, a frozen, black, blank or blurred picture, silence and a
bitrate collapse as findings (raised and cleared) through a callback. Decoding runs in one
worker task per `ProbeSet`, one short job at a time, never inside a publisher's push.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import av
import cv2
import numpy as np

from .reader import MediaFrame
from .stream import TrackInfo

log = logging.getLogger(__name__)

FindingKind = Literal["video_loss", "frozen", "black", "blank", "blur", "silence", "bitrate"]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "video_loss", "frozen", "black", "blank", "blur", "silence", "bitrate")
PROBE_LABEL = "health-probe"
SMALL_WIDTH = 160  # pictures are compared at about this width: enough for a 10 px block grid
FLOOR_DBFS = -120.0
_VIDEO_DECODERS = {"h264": "h264", "vp8": "vp8"}


@dataclass(frozen=True)
class ProbeThresholds:
    """When a feed counts as unhealthy, and how often it is looked at (one set per feed type)."""

    keyframe_every_s: float = 5.0  # decode at most one keyframe per this period
    audio_window_s: float = 1.0
    audio_every_s: float = 5.0
    video_loss_s: float = 5.0
    frozen_s: float = 20.0
    frozen_diff: float = 6.0  # luma levels: the largest 10x10 block change still "the same"
    confirm_frames: int = 12  # frames decoded after a keyframe to confirm a still picture
    black_luma: float = 24.0  # mean luma below this is black (video black is 16)
    blank_std: float = 4.0  # luma deviation below this is a flat picture (no-signal card)
    blank_s: float = 10.0
    blur_ratio: float = 0.25  # sharpness below this share of the feed's own baseline
    blur_s: float = 15.0
    baseline_samples: int = 4  # samples before the sharpness baseline is trusted
    silence_dbfs: float = -55.0
    silence_s: float = 15.0
    bitrate_window_s: float = 5.0
    bitrate_ratio: float = 0.2  # of the feed's own baseline
    min_bitrate_bps: float = 16_000.0
    bitrate_s: float = 15.0


@dataclass(frozen=True)
class Finding:
    """A health condition of one stream that became active or cleared at `at` (clock seconds)."""

    path: str
    kind: FindingKind
    active: bool
    value: float
    detail: str
    at: float


@dataclass
class ProbeStats:
    """Work done by a probe set, for metrics and the benchmark."""

    frames: int = 0
    video_decodes: int = 0
    audio_windows: int = 0
    video_seconds: float = 0.0
    audio_seconds: float = 0.0
    jobs_dropped: int = 0


@dataclass(frozen=True)
class _Job:
    kind: Literal["video", "audio"]
    packets: tuple[av.Packet, ...]
    at: float
    confirm: bool = False


class _Condition:
    """A condition that must hold for `hold` seconds before it is reported active."""

    __slots__ = ("active", "kind", "since")

    def __init__(self, kind: FindingKind) -> None:
        self.kind: FindingKind = kind
        self.since: float | None = None
        self.active = False

    def observe(self, bad: bool, now: float, hold: float, value: float, detail: str,
                since: float | None = None) -> Finding | None:
        if bad:
            if self.since is None:
                self.since = now if since is None else since
            if not self.active and now - self.since >= hold:
                self.active = True
                return Finding("", self.kind, True, value, detail, now)
            return None
        self.since = None
        if self.active:
            self.active = False
            return Finding("", self.kind, False, value, detail, now)
        return None


def luma_small(frame: av.VideoFrame) -> np.ndarray:
    """The luma plane, strided down to about SMALL_WIDTH (no copy of the full picture)."""
    full: np.ndarray
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        full = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
        full = full[:, : frame.width]
    else:
        full = frame.to_ndarray(format="gray")
    step = max(1, frame.width // SMALL_WIDTH)
    return np.ascontiguousarray(full[::step, ::step])


def block_change(a: np.ndarray, b: np.ndarray) -> float:
    """Largest mean luma change over ~10x10 blocks: a moving hand or clock digit counts."""
    if a.shape != b.shape:
        return 255.0
    diff = cv2.absdiff(a, b).astype(np.float32)
    grid = (max(1, a.shape[1] // 10), max(1, a.shape[0] // 10))
    return float(cv2.resize(diff, grid, interpolation=cv2.INTER_AREA).max())


def sharpness(small: np.ndarray) -> float:
    """Variance of the Laplacian: falls when the lens is covered or out of focus."""
    return float(cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_16S))[1][0, 0] ** 2)


def dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale, floored at FLOOR_DBFS."""
    if samples.size == 0:
        return FLOOR_DBFS
    if samples.dtype.kind in "iu":
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(FLOOR_DBFS, 20.0 * math.log10(rms)) if rms > 0 else FLOOR_DBFS


class FeedProbe:
    """The health of one stream. `on_frame` is the cheap per-packet part; it hands back a
    decode job now and then, which `process` runs (the owner decides where and when)."""

    def __init__(self, path: str, tracks: Sequence[TrackInfo], thresholds: ProbeThresholds,
                 on_finding: Callable[[Finding], None], now: float) -> None:
        self.path = path
        self.t = thresholds
        self.on_finding = on_finding
        self.video_index = next((i for i, t in enumerate(tracks) if t.kind == "video"), None)
        self.audio_index = next((i for i, t in enumerate(tracks) if t.kind == "audio"), None)
        video = tracks[self.video_index] if self.video_index is not None else None
        audio = tracks[self.audio_index] if self.audio_index is not None else None
        self._video_codec = _VIDEO_DECODERS.get(video.codec.lower()) if video else None
        self._audio_clock = audio.clock_rate if audio else 48_000
        self._audio_ok = audio is not None and audio.codec.lower() == "opus"
        self.last_video = self.last_audio = now
        self.pending = False  # no new sample while one waits: at most a job or two per feed
        self._next_sample = now
        self._next_audio = now + min(2.0, thresholds.audio_every_s)
        self._window: list[av.Packet] = []
        self._window_pts = 0
        self._run: list[av.Packet] = []
        self._want_confirm = False
        self.confirms = 0  # still pictures checked frame by frame (see `_frozen`)
        self.samples = self.windows = 0  # pictures and audio windows looked at
        self._last_small: np.ndarray | None = None
        self._last_at = now
        self._still_since: float | None = None
        self._sharp: list[float] = []
        self._sharp_base: float | None = None
        self._bytes = 0
        self._bytes_since = now
        self._bitrate_base: float | None = None
        self._bitrate_windows = 0
        self.last_bitrate = 0.0
        self.cond = {k: _Condition(k) for k in FINDING_KINDS}
        self._vdec: av.VideoCodecContext | None = None
        self._adec: av.AudioCodecContext | None = None

    # ---- the per-packet part: bookkeeping only ----

    def on_frame(self, frame: MediaFrame, now: float) -> _Job | None:
        """Account one packet; returns a decode job when a sample is due."""
        if frame.track_index == self.video_index:
            self._bytes += frame.packet.size
            self.last_video = now
            return self._video(frame, now)
        if frame.track_index == self.audio_index:
            if self.video_index is None:
                self._bytes += frame.packet.size
            self.last_audio = now
            return self._audio(frame, now)
        return None

    def _video(self, frame: MediaFrame, now: float) -> _Job | None:
        if self._run:
            if frame.keyframe:  # the GOP ended before the run was complete: use what we have
                return self._finish_run(now)
            self._run.append(frame.packet)
            return self._finish_run(now) if len(self._run) > self.t.confirm_frames else None
        if not frame.keyframe or self.pending or self._video_codec is None:
            return None
        if self._want_confirm:
            self._want_confirm = False
            self._run = [frame.packet]
            return None
        if now < self._next_sample:
            return None
        self._next_sample = now + self.t.keyframe_every_s
        self.pending = True
        return _Job("video", (frame.packet,), now)

    def _finish_run(self, now: float) -> _Job:
        run, self._run = tuple(self._run), []
        self.confirms += 1
        self._next_sample = now + self.t.keyframe_every_s
        self.pending = True
        return _Job("video", run, now, confirm=True)

    def _audio(self, frame: MediaFrame, now: float) -> _Job | None:
        if not self._audio_ok:
            return None
        if self._window:
            self._window.append(frame.packet)
            span = (frame.pts - self._window_pts) / self._audio_clock
            if span < self.t.audio_window_s - 1e-6:
                return None
            packets, self._window = tuple(self._window), []
            self.pending = True
            return _Job("audio", packets, now)
        if now >= self._next_audio and not self.pending:
            self._next_audio = now + self.t.audio_every_s
            self._window, self._window_pts = [frame.packet], frame.pts
        return None

    # ---- the periodic part: time-based conditions ----

    def tick(self, now: float) -> None:
        """Check what needs no decoding: video loss, missing audio, the bitrate window."""
        t = self.t
        if self.video_index is not None:
            gap = now - self.last_video
            self._emit(self.cond["video_loss"].observe(
                gap >= t.video_loss_s, now, 0.0, round(gap, 1),
                f"no video for {gap:.0f} s", since=self.last_video))
        if self.audio_index is not None and now - self.last_audio >= t.silence_s:
            self._emit(self.cond["silence"].observe(
                True, now, t.silence_s, FLOOR_DBFS, "no audio packets", since=self.last_audio))
        elapsed = now - self._bytes_since
        if elapsed >= t.bitrate_window_s:
            self._bitrate(self._bytes * 8 / elapsed, now)
            self._bytes, self._bytes_since = 0, now

    def _bitrate(self, bps: float, now: float) -> None:
        t, cond = self.t, self.cond["bitrate"]
        self.last_bitrate = bps
        if any(self.cond[k].active for k in ("video_loss", "black", "blank", "frozen")):
            # One cause, one alert: no picture, or a still one, costs few bits by nature.
            self._emit(cond.observe(False, now, t.bitrate_s, bps, ""))
            return
        base = self._bitrate_base
        low = bps < t.min_bitrate_bps or (base is not None and bps < t.bitrate_ratio * base)
        detail = f"{bps / 1000:.0f} kbit/s" + (f" (usual {base / 1000:.0f})" if base else "")
        self._emit(cond.observe(low, now, t.bitrate_s, round(bps), detail))
        if not low:
            # The first windows set the baseline; later ones move it slowly (~20 windows).
            self._bitrate_windows += 1
            alpha = 1.0 / min(self._bitrate_windows, 20)
            self._bitrate_base = bps if base is None else base + alpha * (bps - base)

    # ---- the decoding part ----

    def process(self, job: _Job) -> None:
        """Decode one job and update the picture or sound conditions."""
        try:
            if job.kind == "video":
                self._process_video(job)
            else:
                self._process_audio(job)
        except (av.FFmpegError, ValueError) as exc:
            log.debug("probe %s: %s decode failed: %s", self.path, job.kind, exc)
            self._vdec = self._adec = None  # start over with a fresh decoder next time
        finally:
            self.pending = False

    def _decode_video(self, packets: Sequence[av.Packet]) -> list[np.ndarray]:
        if self._vdec is None:
            assert self._video_codec is not None
            ctx = av.CodecContext.create(self._video_codec, "r")
            assert isinstance(ctx, av.VideoCodecContext)
            ctx.thread_count = 1  # a lone frame gains nothing from threads; hundreds share a core
            self._vdec = ctx
        out: list[np.ndarray] = []
        for packet in packets:
            out.extend(luma_small(f) for f in self._vdec.decode(packet))
        if len(out) < len(packets):  # held back by the decoder: drain it and start afresh
            out.extend(luma_small(f) for f in self._vdec.decode(None))
            self._vdec = None
        return out

    def _process_video(self, job: _Job) -> None:
        pictures = self._decode_video(job.packets)
        if not pictures:
            return
        self.samples += 1
        small, now, t = pictures[0], job.at, self.t
        mean, std = (float(v[0, 0]) for v in cv2.meanStdDev(small))
        black = mean < t.black_luma
        blank = not black and std < t.blank_std
        self._emit(self.cond["black"].observe(black, now, t.blank_s, round(mean, 1),
                                              f"mean luma {mean:.0f}"))
        self._emit(self.cond["blank"].observe(blank, now, t.blank_s, round(std, 1),
                                              f"flat picture, luma deviation {std:.1f}"))
        flat = black or blank
        self._sharpness(sharpness(small), flat, now)
        self._frozen(small, pictures[1:] if job.confirm else None, flat, now)

    def _sharpness(self, value: float, flat: bool, now: float) -> None:
        t, cond = self.t, self.cond["blur"]
        base = self._sharp_base
        blurred = not flat and base is not None and value < t.blur_ratio * base
        detail = f"sharpness {value:.0f}" + (f" of usual {base:.0f}" if base else "")
        self._emit(cond.observe(blurred, now, t.blur_s, round(value, 1), detail))
        if flat or blurred or cond.since is not None:
            return  # learn only from pictures that look like the feed's normal self
        if base is None:
            self._sharp.append(value)
            if len(self._sharp) >= t.baseline_samples:
                self._sharp_base = float(np.median(self._sharp))
        else:
            self._sharp_base = base + 0.05 * (value - base)

    def _frozen(self, small: np.ndarray, run: list[np.ndarray] | None, flat: bool,
                now: float) -> None:
        t, cond = self.t, self.cond["frozen"]
        last, self._last_small = self._last_small, small
        last_at, self._last_at = self._last_at, now
        if flat or last is None or block_change(last, small) >= t.frozen_diff:
            self._still_since = None
            self._emit(cond.observe(False, now, 0.0, 0.0, ""))
            return
        if self._still_since is None:
            self._still_since = last_at  # still since the earlier of the two alike samples
        still_for = now - self._still_since
        if cond.active or still_for < t.frozen_s:
            return
        if run is None:
            # Keyframes sampled at a multiple of a looping source's period look alike:
            # confirm with the frames that follow one keyframe before calling it frozen.
            self._want_confirm = True
            return
        motion = max((block_change(small, p) for p in run), default=0.0)
        if motion >= t.frozen_diff:
            self._still_since = None  # it moves: start over, so confirming stays rare
            return
        self._emit(cond.observe(True, now, 0.0, round(still_for, 1),
                                f"picture unchanged for {still_for:.0f} s"))

    def _process_audio(self, job: _Job) -> None:
        if self._adec is None:
            ctx = av.CodecContext.create("opus", "r")
            assert isinstance(ctx, av.AudioCodecContext)
            ctx.sample_rate = 48_000
            with contextlib.suppress(ValueError, AttributeError):
                ctx.layout = "mono"  # the level is all we need: one channel halves the work
            self._adec = ctx
        chunks = [f.to_ndarray() for p in job.packets for f in self._adec.decode(p)]
        self.windows += 1
        level = dbfs(np.concatenate([c.reshape(-1) for c in chunks])) if chunks else FLOOR_DBFS
        self._emit(self.cond["silence"].observe(level < self.t.silence_dbfs, job.at,
                                                self.t.silence_s, round(level, 1),
                                                f"audio level {level:.0f} dBFS"))

    def handle(self, frame: MediaFrame, now: float) -> None:
        """`on_frame` and, if it asks, `process` at once (tests and benchmarks drive this)."""
        job = self.on_frame(frame, now)
        if job is not None:
            self.process(job)

    def close(self, now: float) -> None:
        """Clear every active finding (the feed is no longer watched)."""
        for cond in self.cond.values():
            self._emit(cond.observe(False, now, 0.0, 0.0, "no longer probed"))

    def _emit(self, finding: Finding | None) -> None:
        if finding is None:
            return
        finding = Finding(self.path, finding.kind, finding.active, finding.value,
                          finding.detail, finding.at)
        try:
            self.on_finding(finding)
        except Exception:
            log.exception("finding handler failed for %s", finding)


FEED_TYPES: dict[str, ProbeThresholds] = {
    "main": ProbeThresholds(),
    # The low-rate secondary camera: looked at half as often, with a lower bitrate floor.
    "sub": ProbeThresholds(keyframe_every_s=10.0, frozen_s=30.0, blank_s=20.0, blur_s=30.0,
                           min_bitrate_bps=8_000.0, bitrate_s=30.0),
}
"""Thresholds by feed type (the last part of a stream path); to be read from config later."""
