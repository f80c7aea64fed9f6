"""Test media for the probes: short synthetic clips with a fault, played in simulated time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

from media.probes import FeedProbe
from media.reader import MediaFrame
from media.sources import Clip
from media.stream import TrackInfo

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
OPUS_FRAME = 960
W, H, FPS = 320, 180, 25

Picture = Callable[[int], np.ndarray]  # frame index -> BGR image
Sound = Callable[[np.ndarray], np.ndarray]  # sample times (s) -> samples in [-1, 1]


@dataclass(frozen=True)
class Packet:
    track: int
    pts: int
    keyframe: bool
    data: bytes
    t: float  # seconds from the clip's start


@dataclass(frozen=True)
class FeedClip:
    tracks: tuple[TrackInfo, ...]
    packets: tuple[Packet, ...]
    seconds: float


_TEXTURE = cv2.resize(
    np.random.default_rng(7).integers(0, 255, (H // 6, W // 6, 3), dtype=np.uint8), (W, H),
    interpolation=cv2.INTER_NEAREST)


def scene(i: int) -> np.ndarray:
    """A textured room with a square walking across it (sharp edges, steady motion)."""
    img = _TEXTURE.copy()
    x = 20 + (i * 4) % (W - 60)
    cv2.rectangle(img, (x, 60), (x + 40, 100), (255, 255, 255), -1)
    return img


def still(i: int) -> np.ndarray:
    return scene(0)


def black(i: int) -> np.ndarray:
    return np.zeros((H, W, 3), np.uint8)


def grey(i: int) -> np.ndarray:
    return np.full((H, W, 3), 128, np.uint8)


def blurred(i: int) -> np.ndarray:
    return cv2.GaussianBlur(scene(i), (0, 0), 8)


def tone(t: np.ndarray) -> np.ndarray:
    return 0.1 * np.sin(2 * np.pi * 440 * t)


def hush(t: np.ndarray) -> np.ndarray:
    return np.zeros_like(t)


def encode(picture: Picture, seconds: int, *, sound: Sound | None = tone,
           bitrate: int = 300_000, gop_s: int = 2, first: int = 0) -> FeedClip:
    """H.264 (in-band SPS/PPS, no B-frames) and Opus, like a WebRTC publisher sends."""
    cc = av.CodecContext.create("libx264", "w")
    assert isinstance(cc, av.VideoCodecContext)
    cc.options = {"preset": "ultrafast", "tune": "zerolatency",
                  "x264-params": f"keyint={gop_s * FPS}:min-keyint={gop_s * FPS}:scenecut=0"}
    cc.width, cc.height, cc.pix_fmt = W, H, "yuv420p"
    cc.time_base, cc.framerate, cc.bit_rate = Fraction(1, FPS), Fraction(FPS), bitrate
    packets: list[Packet] = []
    encoded: list[av.Packet] = []
    for i in range(seconds * FPS):
        yuv = cv2.cvtColor(picture(first + i), cv2.COLOR_BGR2YUV_I420).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i
        encoded.extend(cc.encode(frame))
    encoded.extend(cc.encode(None))
    for i, pkt in enumerate(encoded):
        packets.append(Packet(0, i * VIDEO_CLOCK // FPS, bool(pkt.is_keyframe), bytes(pkt),
                              i / FPS))
    tracks = [TrackInfo("video", "H264", VIDEO_CLOCK)]
    if sound is not None:
        ac = av.CodecContext.create("libopus", "w")
        assert isinstance(ac, av.AudioCodecContext)
        ac.sample_rate, ac.format, ac.layout, ac.bit_rate = AUDIO_CLOCK, "s16", "mono", 32_000
        t = np.arange(seconds * AUDIO_CLOCK) / AUDIO_CLOCK
        samples = (np.clip(sound(t), -1, 1) * 32767).astype(np.int16)
        out: list[av.Packet] = []
        for start in range(0, len(samples), OPUS_FRAME):
            chunk = av.AudioFrame.from_ndarray(samples[None, start:start + OPUS_FRAME],
                                               format="s16", layout="mono")
            chunk.sample_rate, chunk.pts = AUDIO_CLOCK, start
            out.extend(ac.encode(chunk))
        count = len(samples) // OPUS_FRAME
        packets += [Packet(1, i * OPUS_FRAME, True, bytes(p), i * OPUS_FRAME / AUDIO_CLOCK)
                    for i, p in enumerate(out[:count])]
        tracks.append(TrackInfo("audio", "opus", AUDIO_CLOCK))
    packets.sort(key=lambda p: (p.t, p.track))
    return FeedClip(tuple(tracks), tuple(packets), float(seconds))


def from_pattern(clip: Clip) -> FeedClip:
    """A test-pattern clip (as TestPatternSource loops it) in this module's shape."""
    packets = tuple(Packet(p.track, p.pts, p.keyframe, p.data, p.due) for p in clip.packets)
    return FeedClip(clip.tracks, packets, float(clip.spec.duration_s))


class Player:
    """Feeds clips to a probe back to back in simulated time, ticking it every second."""

    def __init__(self, probe: FeedProbe, start: float = 1000.0) -> None:
        self.probe = probe
        self.now = start
        self._next_tick = start + 1.0
        self._pts = [0, 0]

    def play(self, clips: Sequence[FeedClip], loops: int = 1) -> None:
        for _ in range(loops):
            for clip in clips:
                base = self.now
                for p in clip.packets:
                    self._advance(base + p.t)
                    self._push(p)
                self._advance(base + clip.seconds)
                for track in range(len(clip.tracks)):
                    clock = clip.tracks[track].clock_rate
                    self._pts[track] += round(clip.seconds * clock)

    def _push(self, p: Packet) -> None:
        pkt = av.Packet(p.data)
        pts = self._pts[p.track] + p.pts
        pkt.pts = pkt.dts = pts
        self.probe.handle(MediaFrame(p.track, pkt, pts, p.keyframe), self.now)

    def idle(self, seconds: float) -> None:
        """Nothing arrives for `seconds` (a source that stopped)."""
        self._advance(self.now + seconds)

    def _advance(self, to: float) -> None:
        while self._next_tick <= to:
            self.now = self._next_tick
            self.probe.tick(self.now)
            self._next_tick += 1.0
        self.now = to
