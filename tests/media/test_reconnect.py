"""Publishers that vanish are detected; one that returns resumes the stream for its viewers.
Keyframe requests from viewers reach the publisher, rate limited."""

from __future__ import annotations

import asyncio
import itertools

from media import TrackInfo

from .conftest import MediaHarness
from .peers import WhepViewer, WhipPublisher, encode_h264, wait_until

PATH = "rooms/HL02-01/main"


async def test_silent_publisher_times_out_and_return_resumes_viewers(
    media: MediaHarness,
) -> None:
    client = media.client
    assert client is not None
    first = await WhipPublisher(client, PATH).start(codec="H264", audio=False)
    viewer = await WhepViewer(client, PATH).start(audio=False)
    await viewer.wait_video(10)
    # The publisher goes silent without DELETE (its encoder stops, the connection stays up).
    for transceiver in first.pc.getTransceivers():
        transceiver.sender.replaceTrack(None)
    assert await wait_until(lambda: any(e.kind == "down" for e in media.stream_events), 5)
    # The session's end is reported beside the stream's, not necessarily before it.
    assert await wait_until(
        lambda: any(e.reason == "publisher timeout" for e in media.session_events), 5)
    stream = media.registry.get(PATH)
    assert stream is not None and not stream.is_live and stream.viewers == 1
    before = len(viewer.video_sizes)

    second = await WhipPublisher(client, PATH, token="tok-carol").start(codec="H264", audio=False)
    await viewer.wait_video(before + 20)
    assert [e.kind for e in media.stream_events].count("up") == 2
    # One continuous stream for the viewer: timestamps keep rising, by about the outage.
    steps = [b - a for a, b in itertools.pairwise(viewer.video_pts)]
    assert all(0 < s < 90000 * 5 for s in steps), steps
    assert len(media.server.sessions) == 2  # the viewer's and the new publisher's
    await viewer.close()
    await second.delete()
    await asyncio.gather(first.close(), second.close())
    assert await wait_until(lambda: not media.server.sessions)


async def test_viewer_keyframe_requests_reach_whip_publisher(media: MediaHarness) -> None:
    client = media.client
    assert client is not None
    publisher = await WhipPublisher(client, PATH).start(codec="VP8", audio=False)
    viewer = await WhepViewer(client, PATH).start(audio=False)
    await viewer.wait_video(5)
    stream = media.registry.get(PATH)
    assert stream is not None
    opening = stream.gop[0]
    receiver = viewer.pc.getReceivers()[0]
    ssrc = receiver.getSynchronizationSources()[0].source
    await receiver._send_rtcp_pli(ssrc)
    # The aiortc publisher honours PLI: a fresh keyframe opens a new GOP within a few frames.
    assert await wait_until(lambda: stream.gop and stream.gop[0] is not opening, 2)
    await viewer.close()
    await publisher.delete()
    await publisher.close()


async def test_keyframe_requests_are_rate_limited(media: MediaHarness) -> None:
    client = media.client
    assert client is not None
    requests: list[int] = []
    pub = media.registry.publish(
        PATH,
        [TrackInfo("video", "H264", 90000)],
        on_keyframe_request=lambda: requests.append(1),
    )
    for packet in encode_h264(10):
        pub.push(0, packet)
    viewer = await WhepViewer(client, PATH).start(audio=False)
    await viewer.wait_video(5)
    receiver = viewer.pc.getReceivers()[0]
    ssrc = receiver.getSynchronizationSources()[0].source
    for _ in range(5):
        await receiver._send_rtcp_pli(ssrc)
    assert await wait_until(lambda: len(requests) >= 1, 2)
    await asyncio.sleep(0.1)  # the window under test: the other PLIs must stay coalesced
    assert len(requests) == 1
    await viewer.close()
    pub.close()
