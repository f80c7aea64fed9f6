"""End to end on loopback: a looped test pattern and a pulled file reach a real WHEP viewer."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

import pytest

from media.sources import ClipCache, PatternSpec, PullSource, TestPatternSource

from ..conftest import MediaHarness
from ..peers import WhepViewer
from .conftest import wait_state


@pytest.mark.parametrize("codec", ["H264", "VP8"])
async def test_test_pattern_reaches_a_viewer_across_loops(
    media: MediaHarness, codec: Literal["H264", "VP8"]
):
    assert media.client is not None
    spec = PatternSpec("Courtroom 3", width=320, height=180, gop_s=1, duration_s=1, codec=codec)
    source = TestPatternSource(media.registry, "rooms/HL01-03/main", spec, cache=ClipCache())
    await source.start()
    viewer = await WhepViewer(media.client, "rooms/HL01-03/main").start()
    try:
        await viewer.wait_video(40, timeout=5.0)  # 1.6 s: at least one loop boundary
        await viewer.wait_audio(20)
        assert set(viewer.video_sizes) == {(320, 180)}
        assert all(b > a for a, b in itertools.pairwise(viewer.video_pts))
        assert source.loops >= 1
    finally:
        await viewer.close()
        await source.stop()


async def test_pulled_file_reaches_a_viewer(media: MediaHarness, mp4_file: Path):
    assert media.client is not None
    source = PullSource(media.registry, "rooms/HL01-04/main", str(mp4_file), repeat=True)
    await source.start()
    await wait_state(source, "live")
    viewer = await WhepViewer(media.client, "rooms/HL01-04/main").start(audio=False)
    try:
        await viewer.wait_video(10, timeout=5.0)
        assert set(viewer.video_sizes) == {(160, 96)}
    finally:
        await viewer.close()
        await source.stop()
