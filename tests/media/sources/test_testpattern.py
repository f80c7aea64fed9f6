"""The looping test-pattern source against the real StreamRegistry: a reader gets a stream."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from media.sources import ClipCache, PatternSpec, TestPatternSource
from media.stream import StreamEvent, StreamRegistry
from tests.media.peers import wait_until

from .conftest import collect, decode, video_of

# A 1 s clip at 10 fps, one GOP: a loop boundary comes every second.
SHORT = PatternSpec("Courtroom 7", width=160, height=96, fps=10, gop_s=1, duration_s=1)


async def test_loops_with_continuous_timestamps_and_gop_keyframes():
    registry = StreamRegistry()
    source = TestPatternSource(registry, "rooms/c7/main", SHORT, cache=ClipCache())
    await source.start()
    reader = registry.subscribe("rooms/c7/main")
    started = time.monotonic()
    # 2.5 loops of video: 25 frames.
    frames = await collect(reader, lambda fs: len(video_of(fs)) >= 25, timeout=5.0)
    elapsed = time.monotonic() - started
    await source.stop()
    video, audio = video_of(frames), video_of(frames, 1)
    assert source.loops >= 2
    # Continuous and monotonic across loop boundaries: one frame step, one Opus step.
    assert {b.pts - a.pts for a, b in itertools.pairwise(video)} == {9000}
    assert {b.pts - a.pts for a, b in itertools.pairwise(audio)} == {960}
    # A keyframe every gop_s (1 s = 90000 ticks), also after each loop boundary.
    assert [f.pts - video[0].pts for f in video if f.keyframe] == [0, 90000, 180000]
    # Paced in real time: 25 frames (24 intervals at 10 fps) take about 2.4 s.
    assert 2.0 < elapsed < 3.5
    decoded = decode("h264", video)
    assert len(decoded) == 25 and {(f.width, f.height) for f in decoded} == {(160, 96)}


async def test_vp8_variant_reaches_a_reader():
    registry = StreamRegistry()
    spec = PatternSpec("Room", width=160, height=96, fps=10, gop_s=1, duration_s=1, codec="VP8")
    source = TestPatternSource(registry, "rooms/vp8/main", spec, cache=ClipCache())
    await source.start()
    reader = registry.subscribe("rooms/vp8/main")
    frames = await collect(reader, lambda fs: len(video_of(fs)) >= 3, timeout=3.0)
    await source.stop()
    assert registry.get("rooms/vp8/main") is not None  # reader still attached
    assert registry.get("rooms/vp8/main").tracks[0].codec == "VP8"  # type: ignore[union-attr]
    assert len(decode("vp8", video_of(frames))) == 3


async def test_sources_share_one_encode():
    cache = ClipCache()
    registry = StreamRegistry()
    sources = [
        TestPatternSource(registry, f"rooms/r{i}/main", SHORT, cache=cache) for i in range(20)
    ]
    await asyncio.gather(*(s.start() for s in sources))
    assert len(cache) == 1
    assert len({id(s.clip) for s in sources}) == 1
    assert all(s.state == "live" for s in sources)
    await asyncio.gather(*(s.stop() for s in sources))


async def test_stop_unpublishes_and_is_idempotent():
    events: list[StreamEvent] = []
    registry = StreamRegistry(on_event=events.append)
    states: list[str] = []
    source = TestPatternSource(
        registry, "rooms/x/main", SHORT, cache=ClipCache(), on_state=lambda s, e: states.append(s)
    )
    await source.start()
    assert await wait_until(lambda: source.packets_sent > 0, 5)
    await source.stop()
    await source.stop()
    sent = source.packets_sent
    await asyncio.sleep(0.15)  # the window under test: a timer left behind would send in it
    assert source.packets_sent == sent > 0  # no timer left behind
    assert registry.get("rooms/x/main") is None
    assert [e.kind for e in events] == ["up", "down"]
    assert states == ["connecting", "live", "stopped"]


async def test_yields_to_a_publisher_that_takes_over():
    registry = StreamRegistry()
    source = TestPatternSource(registry, "rooms/y/main", SHORT, cache=ClipCache())
    await source.start()
    encoder = registry.publish("rooms/y/main", source.clip.tracks, takeover=True)  # type: ignore[union-attr]
    assert source.state == "stopped" and source.last_error == "displaced by another publisher"
    sent = source.packets_sent
    await asyncio.sleep(0.15)  # the window under test: a displaced source sends nothing in it
    assert source.packets_sent == sent
    encoder.close()


async def test_path_busy_fails_start():
    registry = StreamRegistry()
    first = TestPatternSource(registry, "rooms/z/main", SHORT, cache=ClipCache())
    second = TestPatternSource(registry, "rooms/z/main", SHORT, cache=first.cache)
    await first.start()
    with pytest.raises(Exception, match="rooms/z/main"):
        await second.start()
    assert second.state == "failed" and "PathBusy" in (second.last_error or "")
    await first.stop()


async def test_stop_during_encoding_does_not_publish():
    registry = StreamRegistry()
    source = TestPatternSource(registry, "rooms/e/main", SHORT, cache=ClipCache())
    starting = asyncio.create_task(source.start())
    await asyncio.sleep(0)  # start() is now waiting for the encoder thread
    assert source.state == "connecting"
    await source.stop()
    await starting
    assert source.state == "stopped" and not source.running
    assert registry.get("rooms/e/main") is None
