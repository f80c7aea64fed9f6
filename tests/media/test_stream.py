"""Stream, Publisher and Reader semantics, with real pre-encoded H.264 packets."""

from __future__ import annotations

import asyncio

import av
import pytest

from media import (
    PathBusy,
    ReaderClosed,
    StreamEvent,
    StreamNotFound,
    StreamRegistry,
    TrackInfo,
)
from media.thumbnail import keyframe_to_jpeg

from .peers import encode_h264

H264 = TrackInfo("video", "H264", 90000, {"packetization-mode": "1"})
OPUS = TrackInfo("audio", "opus", 48000)


def audio_packet(pts: int) -> av.Packet:
    packet = av.Packet(b"\xfc\xff\xfe")
    packet.pts = pts
    return packet


async def test_reader_gets_gop_then_live_and_async_iteration_ends_on_close() -> None:
    registry = StreamRegistry()
    pub = registry.publish("rooms/a/main", [H264, OPUS], label="enc")
    packets = encode_h264(60, gop=25)
    for p in packets[:30]:  # keyframes at 0 and 25
        pub.push(0, p)
    pub.push(1, audio_packet(0))
    reader = registry.subscribe("rooms/a/main", label="recorder")
    assert reader.replaying and len(reader) == 6  # frames 25..29 and one audio frame
    first = await asyncio.wait_for(reader.get(), 1)  # queued: at once
    assert first.keyframe and first.track_index == 0 and first.pts == packets[25].pts
    pub.push(0, packets[30])
    got = [f.pts async for f in _take(reader, 6)]
    assert got[-1] == packets[30].pts
    reader.close()
    with pytest.raises(ReaderClosed):
        await asyncio.wait_for(reader.get(), 1)


async def _take(reader, n):
    for _ in range(n):
        yield await asyncio.wait_for(reader.get(), 1)


def test_slow_reader_resyncs_at_next_keyframe_without_growing() -> None:
    registry = StreamRegistry()
    pub = registry.publish("p", [H264])
    packets = encode_h264(100, gop=25)
    reader = registry.subscribe("p", max_frames=10)
    for p in packets[:60]:
        pub.push(0, p)
    assert len(reader) <= 10 and reader.dropped > 0
    first = reader.get_nowait()
    assert first is not None and first.keyframe  # resumed cleanly at frame 50
    assert first.pts == packets[50].pts


def test_busy_takeover_events_and_codec_change() -> None:
    events: list[StreamEvent] = []
    registry = StreamRegistry(on_event=events.append)
    displaced: list[bool] = []
    first = registry.publish("p", [H264], label="a", on_displaced=lambda: displaced.append(True))
    with pytest.raises(PathBusy):
        registry.publish("p", [H264], label="b")
    reader = registry.subscribe("p", label="viewer")
    second = registry.publish("p", [H264], label="b", takeover=True)
    assert first.closed and displaced == [True] and not reader.closed
    second.close()
    stream = registry.get("p")
    assert stream is not None and not stream.is_live
    third = registry.publish("p", [TrackInfo("video", "VP8", 90000)], label="c")
    assert reader.closed  # bound to H.264, it cannot follow a VP8 publisher
    third.close()
    assert registry.get("p") is None and registry.paths() == []
    with pytest.raises(StreamNotFound):
        registry.subscribe("p")
    assert [e.kind for e in events] == [
        "up", "viewer_joined", "down", "up", "down", "viewer_left", "up", "down",
    ]


def test_returning_publisher_continues_timeline() -> None:
    registry = StreamRegistry()
    pub = registry.publish("p", [H264])
    packets = encode_h264(30, gop=10)
    for p in packets[:10]:
        pub.push(0, p)
    listener = registry.subscribe("p", from_keyframe=False)
    pub.close()
    pub = registry.publish("p", [H264])
    for p in encode_h264(30, gop=10)[:5]:  # starts again at pts 0
        pub.push(0, p)
    pts = []
    while (frame := listener.get_nowait()) is not None:
        pts.append(frame.pts)
    assert len(pts) == 5 and pts[0] > (packets[9].pts or 0) and pts == sorted(pts)


def test_non_keyframes_of_new_publisher_are_held_until_keyframe() -> None:
    registry = StreamRegistry()
    requests: list[int] = []
    pub = registry.publish("p", [H264], on_keyframe_request=lambda: requests.append(1))
    packets = encode_h264(30, gop=10)
    for p in packets[3:12]:
        pub.push(0, p)
    stream = registry.get("p")
    assert stream is not None and stream.gop[0].pts == packets[10].pts and requests == [1]


def test_thumbnail_decodes_latest_keyframe() -> None:
    registry = StreamRegistry()
    pub = registry.publish("p", [H264])
    for p in encode_h264(12, width=640, height=360, gop=10):
        pub.push(0, p)
    keyframe = registry.latest_keyframe("p")
    assert keyframe is not None and keyframe.is_keyframe
    jpeg = keyframe_to_jpeg(keyframe, H264, max_width=320)
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (180, 320, 3)
