"""Test-pattern clips: a courtroom-like picture and a tone, drawn and encoded once.

A clip is a few seconds long, a whole number of GOPs, and loops seamlessly (the motion and the
tone have whole periods per clip). The clock drawn in the picture counts the seconds of the
clip, so it repeats every loop; the timestamps of a looping source never do.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import av
import cv2
import numpy as np

from media.sources.source import ascii_label, h264_params, profile_level_id
from media.stream import TrackInfo

VIDEO_CLOCK = 90_000
OPUS_CLOCK = 48_000
OPUS_FRAME = 960  # 20 ms at 48 kHz, the usual WebRTC packet time


@dataclass(frozen=True)
class PatternSpec:
    """What a clip shows and how it is encoded; equal specs share one encoded clip."""

    name: str
    width: int = 640
    height: int = 360
    fps: int = 25
    gop_s: int = 2
    duration_s: int = 4
    codec: Literal["H264", "VP8"] = "H264"
    bitrate: int = 600_000
    tone_hz: float = 440.0
    audio: bool = True

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 64 or self.height < 64:
            raise ValueError("width and height must be even and at least 64")
        if self.fps <= 0 or self.gop_s <= 0 or self.duration_s % self.gop_s:
            raise ValueError("duration_s must be a whole number of GOPs (gop_s)")
        if self.codec not in ("H264", "VP8"):
            raise ValueError(f"unsupported codec {self.codec!r}")


@dataclass(frozen=True, slots=True)
class ClipPacket:
    """One encoded packet of a clip, timed from the clip's start."""

    track: int
    pts: int  # in the track's clock
    duration: int
    keyframe: bool
    data: bytes
    due: float  # seconds from the clip's start


@dataclass(frozen=True)
class Clip:
    """An encoded, loopable clip: its tracks and its packets in send order."""

    spec: PatternSpec
    tracks: tuple[TrackInfo, ...]
    packets: tuple[ClipPacket, ...]
    loop_ticks: tuple[int, ...]  # the clip's length in each track's clock
    encode_s: float

    @property
    def size(self) -> int:
        return sum(len(p.data) for p in self.packets)


def _fit_text(text: str, max_width: int, scale: float, thickness: int) -> float:
    while scale > 0.3:
        (w, _h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        if w <= max_width:
            break
        scale *= 0.9
    return scale


def _background(spec: PatternSpec) -> np.ndarray:
    """The still part of the picture: panelled wall, judge's bench, seal and the room name."""
    w, h, s = spec.width, spec.height, spec.height / 360
    img = np.empty((h, w, 3), np.uint8)
    shade = np.linspace(1.0, 0.8, h)[:, None, None]
    img[:] = (np.array([150, 180, 205]) * shade).astype(np.uint8)  # BGR warm wall
    for x in range(0, w, max(8, w // 8)):  # wood panels
        cv2.line(img, (x, 0), (x, int(h * 0.62)), (110, 140, 170), max(1, int(2 * s)))
    cv2.rectangle(img, (0, int(h * 0.62)), (w, h), (35, 65, 105), -1)  # the bench
    cv2.rectangle(img, (0, int(h * 0.62)), (w, int(h * 0.65)), (60, 100, 145), -1)
    cv2.circle(img, (w // 2, int(h * 0.33)), int(h * 0.17), (40, 170, 210), max(2, int(4 * s)))
    for i in range(60):  # seconds dial around the seal
        a = 2 * math.pi * i / 60
        r0, r1 = h * (0.14 if i % 5 else 0.12), h * 0.16
        c = (w // 2, int(h * 0.33))
        p0 = (int(c[0] + r0 * math.sin(a)), int(c[1] - r0 * math.cos(a)))
        p1 = (int(c[0] + r1 * math.sin(a)), int(c[1] - r1 * math.cos(a)))
        cv2.line(img, p0, p1, (30, 120, 160), 1)
    title = ascii_label(spec.name, "Courtroom")
    thick = max(1, int(2 * s))
    scale = _fit_text(title, w - int(40 * s), 1.0 * s, thick)
    cv2.rectangle(img, (0, 0), (w, int(44 * s)), (40, 30, 25), -1)
    cv2.putText(
        img,
        title,
        (int(16 * s), int(31 * s)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        "TEST PATTERN",
        (int(16 * s), h - int(16 * s)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6 * s,
        (200, 220, 230),
        thick,
        cv2.LINE_AA,
    )
    return img


def _draw_frame(bg: np.ndarray, spec: PatternSpec, i: int) -> np.ndarray:
    """Frame `i`: the background plus a clock, a seconds hand and a gliding marker."""
    w, h, s = spec.width, spec.height, spec.height / 360
    t = i / spec.fps
    img = bg.copy()
    c = (w // 2, int(h * 0.33))
    a = 2 * math.pi * (int(t) % 60) / 60
    tip = (int(c[0] + h * 0.13 * math.sin(a)), int(c[1] - h * 0.13 * math.cos(a)))
    cv2.line(img, c, tip, (20, 20, 20), max(2, int(3 * s)), cv2.LINE_AA)
    # One sine period per clip so the motion loops seamlessly.
    phase = 2 * math.pi * t / spec.duration_s
    x = int(w / 2 + w * 0.4 * math.sin(phase))
    cv2.circle(img, (x, int(h * 0.78)), int(12 * s), (60, 200, 255), -1, cv2.LINE_AA)
    secs = int(t)
    clock = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    thick = max(1, int(2 * s))
    (tw, th), _ = cv2.getTextSize(clock, cv2.FONT_HERSHEY_SIMPLEX, 0.9 * s, thick)
    org = (w - tw - int(16 * s), h - int(16 * s))
    cv2.rectangle(
        img, (org[0] - 6, org[1] - th - 6), (org[0] + tw + 6, org[1] + 8), (20, 20, 20), -1
    )
    cv2.putText(
        img, clock, org, cv2.FONT_HERSHEY_SIMPLEX, 0.9 * s, (255, 255, 255), thick, cv2.LINE_AA
    )
    return img


def _video_encoder(spec: PatternSpec) -> av.VideoCodecContext:
    gop = spec.fps * spec.gop_s
    if spec.codec == "H264":
        cc = av.CodecContext.create("libx264", "w")
        # No global header: x264 then repeats SPS/PPS in-band before every IDR (Annex-B).
        cc.options = {
            "profile": "baseline",
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
        }
    else:
        cc = av.CodecContext.create("libvpx", "w")
        cc.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "auto-alt-ref": "0",
        }
    assert isinstance(cc, av.VideoCodecContext)
    cc.width, cc.height, cc.pix_fmt = spec.width, spec.height, "yuv420p"
    cc.time_base = Fraction(1, spec.fps)
    cc.framerate = Fraction(spec.fps)
    cc.bit_rate = spec.bitrate
    cc.gop_size = gop
    cc.thread_count = 1  # many clips may encode at once; one thread each is fairest
    return cc


def _encode_video(spec: PatternSpec) -> list[ClipPacket]:
    cc = _video_encoder(spec)
    frames = spec.fps * spec.duration_s
    gop = spec.fps * spec.gop_s
    bg = _background(spec)
    step = VIDEO_CLOCK // spec.fps if VIDEO_CLOCK % spec.fps == 0 else None
    encoded: list[av.Packet] = []
    for i in range(frames):
        yuv = cv2.cvtColor(_draw_frame(bg, spec, i), cv2.COLOR_BGR2YUV_I420)
        planes = yuv.astype(np.uint8, copy=False)  # already uint8; narrows the type for mypy
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = i
        if i % gop == 0:  # force the keyframe exactly on the GOP boundary
            frame.pict_type = av.video.frame.PictureType.I
        encoded.extend(cc.encode(frame))
    encoded.extend(cc.encode(None))
    if len(encoded) != frames:
        raise RuntimeError(f"encoder returned {len(encoded)} packets for {frames} frames")
    out = []
    for i, pkt in enumerate(encoded):
        pts = i * step if step else round(i * VIDEO_CLOCK / spec.fps)
        end = (i + 1) * step if step else round((i + 1) * VIDEO_CLOCK / spec.fps)
        out.append(ClipPacket(0, pts, end - pts, bool(pkt.is_keyframe), bytes(pkt), i / spec.fps))
    return out


def _tone(spec: PatternSpec) -> np.ndarray:
    """A soft tone with a short beep on each second; frequencies loop without a click."""
    n = spec.duration_s * OPUS_CLOCK
    t = np.arange(n) / OPUS_CLOCK
    tone_hz = round(spec.tone_hz * spec.duration_s) / spec.duration_s
    wave = 0.08 * np.sin(2 * np.pi * tone_hz * t)
    beep = (t % 1.0) < 0.1
    wave[beep] += 0.25 * np.sin(2 * np.pi * 1000.0 * t[beep])
    samples: np.ndarray = (wave * 32767).astype(np.int16)
    return samples


def _encode_audio(spec: PatternSpec, track: int) -> list[ClipPacket]:
    cc = av.CodecContext.create("libopus", "w")
    assert isinstance(cc, av.AudioCodecContext)
    cc.sample_rate, cc.format, cc.layout, cc.bit_rate = OPUS_CLOCK, "s16", "mono", 32_000
    samples = _tone(spec)
    encoded: list[av.Packet] = []
    for start in range(0, len(samples), OPUS_FRAME):
        frame = av.AudioFrame.from_ndarray(
            samples[None, start : start + OPUS_FRAME], format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = OPUS_CLOCK, start
        encoded.extend(cc.encode(frame))
    encoded.extend(cc.encode(None))
    # The encoder adds a look-ahead packet at the end; the loop needs exactly one per 20 ms.
    count = len(samples) // OPUS_FRAME
    return [
        ClipPacket(track, i * OPUS_FRAME, OPUS_FRAME, True, bytes(pkt), i * OPUS_FRAME / OPUS_CLOCK)
        for i, pkt in enumerate(encoded[:count])
    ]


def render_clip(spec: PatternSpec) -> Clip:
    """Draw and encode one clip (blocking; a 4 s 640x360 clip takes a fraction of a second)."""
    started = time.perf_counter()
    video = _encode_video(spec)
    if spec.codec == "H264":
        params = h264_params(profile_level_id(video[0].data))
        tracks = [TrackInfo("video", "H264", VIDEO_CLOCK, params)]
    else:
        tracks = [TrackInfo("video", "VP8", VIDEO_CLOCK)]
    packets = video
    loop_ticks = [spec.duration_s * VIDEO_CLOCK]
    if spec.audio:
        packets = packets + _encode_audio(spec, len(tracks))
        tracks.append(TrackInfo("audio", "opus", OPUS_CLOCK))
        loop_ticks.append(spec.duration_s * OPUS_CLOCK)
    # Send order: by due time, video first on ties so a keyframe opens each loop.
    packets.sort(key=lambda p: (p.due, p.track))
    return Clip(
        spec, tuple(tracks), tuple(packets), tuple(loop_ticks), time.perf_counter() - started
    )
