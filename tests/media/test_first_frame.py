"""A late viewer of a 2 s GOP source that ignores keyframe requests starts from the cache."""

from __future__ import annotations

import asyncio
import itertools
import time

from media import TrackInfo

from .conftest import MediaHarness
from .peers import WhepViewer, encode_h264

FPS = 25


async def test_late_viewer_first_frame_from_gop_cache(media: MediaHarness) -> None:
    client = media.client
    assert client is not None
    packets = encode_h264(FPS * 4, fps=FPS, gop=2 * FPS)
    keyframe_requests: list[float] = []
    publisher = media.registry.publish(
        "rooms/late/main",
        [TrackInfo("video", "H264", 90000, {"packetization-mode": "1"})],
        on_keyframe_request=lambda: keyframe_requests.append(time.monotonic()),  # ignored
        label="test-pattern",
    )
    start = time.monotonic()

    async def feed() -> None:
        for i, packet in enumerate(packets):
            await asyncio.sleep(max(0.0, start + i / FPS - time.monotonic()))
            publisher.push(0, packet)

    feeder = asyncio.ensure_future(feed())
    try:
        await asyncio.sleep(1.3)  # mid-GOP: the next keyframe is ~0.7 s away
        stream = media.registry.get("rooms/late/main")
        assert stream is not None and len(stream.gop) > 25
        viewer = await WhepViewer(client, "rooms/late/main").start(audio=False)
        await viewer.wait_video(40, timeout=4)
        delay = viewer.first_frame_delay
        assert delay is not None and delay < 0.4, f"first frame after {delay:.3f} s"
        print(f"first frame {delay * 1000:.0f} ms, steps {steps_preview(viewer.video_pts)}")
        # The burst is squeezed: cached frames are 1 tick apart, then live spacing resumes.
        steps = [b - a for a, b in itertools.pairwise(viewer.video_pts)]
        assert steps[0] == 1 and 90000 // FPS in steps
        await viewer.close()
    finally:
        feeder.cancel()
        publisher.close()


def steps_preview(pts: list[int]) -> list[int]:
    return [b - a for a, b in itertools.pairwise(pts[:45])]
