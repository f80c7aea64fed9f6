"""Segment analysis: motion between keyframes and the audio level, from real encoded media."""

from __future__ import annotations

import fractions

import av
import numpy as np

from recorder.analysis import SILENCE_DBFS, SegmentAnalyzer


def keyframe(picture: np.ndarray) -> bytes:
    cc = av.CodecContext.create("libx264", "w")
    cc.width, cc.height, cc.pix_fmt = picture.shape[1], picture.shape[0], "yuv420p"
    cc.time_base = fractions.Fraction(1, 25)
    cc.options = {"tune": "zerolatency"}  # as courtroom encoders send: no frame reordering
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
    frame.pts = 0
    packets = [*cc.encode(frame), *cc.encode(None)]
    return bytes(packets[0])


def opus(amplitude: float) -> list[bytes]:
    cc = av.CodecContext.create("libopus", "w")
    cc.sample_rate, cc.layout, cc.format = 48_000, "mono", "s16"
    t = np.arange(48_000) / 48_000
    pcm = (amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    out: list[bytes] = []
    for start in range(0, len(pcm), 960):
        af = av.AudioFrame.from_ndarray(pcm[None, start:start + 960], format="s16",
                                        layout="mono")
        af.sample_rate, af.pts = 48_000, start
        out += [bytes(p) for p in cc.encode(af)]
    return out


def test_motion_is_zero_for_the_same_picture_and_grows_with_change() -> None:
    still = np.zeros((360, 640, 3), dtype=np.uint8)
    still[:, :320] = 220  # a bright left half: a person standing there
    moved = np.ascontiguousarray(still[:, ::-1])  # ... who walked to the right
    analyzer = SegmentAnalyzer()
    assert analyzer.motion(keyframe(still)) == 0.0  # the first has nothing to compare with
    same, changed = analyzer.motion(keyframe(still)), analyzer.motion(keyframe(moved))
    assert same is not None and same < 0.01
    assert changed is not None and changed > 0.05
    assert analyzer.motion(b"not h264") is None and analyzer.motion(None) is None


def test_audio_level_follows_the_signal() -> None:
    loud = SegmentAnalyzer().audio_dbfs(opus(0.5))
    quiet = SegmentAnalyzer().audio_dbfs(opus(0.01))
    silent = SegmentAnalyzer().audio_dbfs(opus(0.0))
    assert loud is not None and quiet is not None and silent is not None
    assert -12 < loud < -3  # a sine at half scale is about -9 dBFS
    assert quiet < loud - 20 and silent < -80 and silent >= SILENCE_DBFS
    assert SegmentAnalyzer().audio_dbfs([]) is None
