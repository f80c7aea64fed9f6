"""Health probes against generated media: each fault is found, healthy media raises nothing."""

from __future__ import annotations

import functools
from dataclasses import replace

import pytest

from media.probes import FeedProbe, Finding, ProbeThresholds
from media.probeset import ProbeSet
from media.sources import PatternSpec, TestPatternSource, render_clip
from media.stream import StreamRegistry
from tests.media.peers import wait_until
from tests.monitoring import media as m

DEFAULT = ProbeThresholds()


@functools.cache
def clip(name: str) -> m.FeedClip:
    """Short clips, encoded once per run; longer runs loop them (as a looping source would)."""
    pictures = {"scene": m.scene, "still": m.still, "black": m.black, "grey": m.grey,
                "blurred": m.blurred}
    if name == "hush":
        return m.encode(m.scene, 4, sound=m.hush, first=200)
    if name == "low":
        return m.encode(m.scene, 4, bitrate=5_000)
    return m.encode(pictures[name], 8 if name == "scene" else 4)


class Recorder:
    """Findings as they came, and which kinds are active now."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def __call__(self, finding: Finding) -> None:
        self.findings.append(finding)

    @property
    def active(self) -> set[str]:
        state: dict[str, bool] = {}
        for f in self.findings:
            state[f.kind] = f.active
        return {k for k, on in state.items() if on}

    def raised(self) -> set[str]:
        return {f.kind for f in self.findings if f.active}


def player(thresholds: ProbeThresholds = DEFAULT,
           tracks: m.FeedClip | None = None) -> tuple[m.Player, Recorder]:
    seen = Recorder()
    source = tracks or clip("scene")
    probe = FeedProbe("rooms/T-01/main", source.tracks, thresholds, seen, now=1000.0)
    return m.Player(probe, start=1000.0), seen


def test_a_minute_of_test_pattern_raises_nothing() -> None:
    pattern = m.from_pattern(render_clip(PatternSpec("HL0102-01 Courtroom 1")))
    p, seen = player(tracks=pattern)
    p.play([pattern], loops=16)  # 64 s
    assert seen.findings == []
    assert p.probe.samples >= 10 and p.probe.windows >= 10  # it did look and listen


def test_sampling_in_step_with_the_pattern_loop_is_not_frozen() -> None:
    # Keyframes taken every 4 s from a 4 s loop are alike; the frames after one are not.
    pattern = m.from_pattern(render_clip(PatternSpec("HL0102-01 Courtroom 1")))
    p, seen = player(replace(DEFAULT, keyframe_every_s=4.0), tracks=pattern)
    p.play([pattern], loops=20)
    assert seen.findings == []
    assert p.probe.confirms >= 1


def test_a_minute_of_a_live_scene_raises_nothing() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=8)
    assert seen.findings == []
    assert p.probe.samples >= 10 and p.probe.confirms == 0


def test_frozen_picture_is_found_and_cleared() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=2)
    p.play([clip("still")], loops=10)
    assert seen.active == {"frozen"}
    frozen = next(f for f in seen.findings if f.kind == "frozen")
    assert frozen.value >= DEFAULT.frozen_s and "unchanged" in frozen.detail
    p.play([clip("scene")], loops=2)
    assert seen.active == set()


@pytest.mark.parametrize(("picture", "kind"), [("black", "black"), ("grey", "blank")])
def test_black_and_blank_pictures(picture: str, kind: str) -> None:
    p, seen = player()
    p.play([clip("scene")], loops=2)
    p.play([clip(picture)], loops=6)
    assert seen.active == {kind}  # not frozen, not blurred: the flat picture says it all
    p.play([clip("scene")], loops=2)
    assert seen.active == set()


def test_blurred_or_covered_camera_against_its_own_baseline() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=4)
    p.play([clip("blurred")], loops=8)
    assert seen.active == {"blur"}
    blur = next(f for f in seen.findings if f.kind == "blur")
    assert "of usual" in blur.detail
    p.play([clip("scene")], loops=2)
    assert seen.active == set()


def test_silence_is_found_after_its_hold_time() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=2)
    p.play([clip("hush")], loops=2)  # 8 s: shorter than the hold
    assert seen.findings == []
    p.play([clip("hush")], loops=6)
    assert seen.active == {"silence"}
    assert next(f for f in seen.findings if f.kind == "silence").value < DEFAULT.silence_dbfs
    p.play([clip("scene")], loops=2)
    assert seen.active == set()


def test_a_source_that_stops_is_video_loss() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=2)
    p.idle(DEFAULT.video_loss_s - 1)
    assert seen.findings == []
    p.idle(2)
    assert seen.active == {"video_loss"}
    p.idle(30)  # long enough for silence and bitrate: loss stays the one finding of video
    assert seen.active == {"video_loss", "silence"}
    assert "bitrate" not in seen.raised()
    p.play([clip("scene")], loops=2)
    assert seen.active == set()


def test_bitrate_collapse_against_the_feeds_own_baseline() -> None:
    p, seen = player()
    p.play([clip("scene")], loops=4)
    p.play([clip("low")], loops=8)
    assert "bitrate" in seen.active
    found = next(f for f in seen.findings if f.kind == "bitrate")
    assert found.value < DEFAULT.bitrate_ratio * 300_000 and "usual" in found.detail
    p.play([clip("scene")], loops=3)
    assert seen.active == set()


async def test_probe_set_reads_a_live_stream_and_sees_it_stop() -> None:
    streams = StreamRegistry()
    seen = Recorder()
    probes = ProbeSet(streams, seen, tick_s=0.2)
    fast = replace(DEFAULT, keyframe_every_s=0.5, audio_every_s=0.5, audio_window_s=0.2,
                   video_loss_s=1.0)
    spec = PatternSpec("T-01", width=320, height=180, gop_s=1, duration_s=2)
    source = TestPatternSource(streams, "rooms/T-01/main", spec)
    await source.start()
    await probes.start()
    try:
        assert probes.watch("rooms/T-01/main", fast) is not None
        assert probes.watch("rooms/NOPE-01/main", fast) is None
        assert await wait_until(lambda: probes.stats.video_decodes >= 2
                                and probes.stats.audio_windows >= 1, 5)
        assert seen.findings == []
        stream = streams.get("rooms/T-01/main")
        assert stream is not None and stream.viewers == 1
        await source.stop()  # the stream goes down; the probe keeps reading it
        assert await wait_until(lambda: "video_loss" in seen.active, 5)
        probes.unwatch("rooms/T-01/main")
        assert seen.active == set()
        assert streams.get("rooms/T-01/main") is None  # the probe let go of the stream
    finally:
        await probes.stop()
        await source.stop()
