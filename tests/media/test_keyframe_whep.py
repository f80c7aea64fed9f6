"""Keyframes-only WHEP (`?keyframes=1`): only video keyframes reach the viewer, no audio, and
they decode; the stream filters them once for all such readers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from fractions import Fraction
from typing import Any

import av
import pytest
from aiortc import RTCSessionDescription

from media import Publisher, StreamRegistry, TrackInfo
from media.aiortc_hooks import receive_encoded

from .conftest import MediaHarness
from .peers import WhepViewer, auth, encode_h264, new_peer, wait_until

PATH = "rooms/KF-01/main"
FPS = 25
GOP = 10  # frames: 2.5 keyframes a second
TRACKS = [TrackInfo("video", "H264", 90000), TrackInfo("audio", "opus", 48000)]


def opus_silence() -> bytes:
    return b"\xf8\xff\xfe"  # one 20 ms Opus frame of silence (TOC + padding)


async def feed(pub: Publisher, packets: list[av.Packet]) -> None:
    """Push H.264 at 25 fps and an Opus frame every 40 ms (timestamps continuous)."""
    data = [(bytes(p), bool(p.is_keyframe)) for p in packets]
    start = time.monotonic()
    for n in range(100_000):  # bounded; cancelled by the test long before
        await asyncio.sleep(max(0.0, start + n / FPS - time.monotonic()))
        raw, key = data[n % len(data)]
        video = av.Packet(raw)
        video.pts = video.dts = n * 90000 // FPS
        video.is_keyframe = key
        pub.push(0, video)
        audio = av.Packet(opus_silence())
        audio.pts = n * 48000 // FPS
        pub.push(1, audio)


@pytest.fixture
async def live(media: MediaHarness) -> AsyncIterator[Publisher]:
    pub = media.registry.publish(PATH, TRACKS, label="feed")
    task = asyncio.ensure_future(feed(pub, encode_h264(5 * GOP, gop=GOP)))
    try:
        assert await wait_until(lambda: media.registry.latest_keyframe(PATH) is not None)
        yield pub
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        pub.close()


class CountingViewer:
    """A WHEP viewer counting the encoded video frames and bytes it receives (no decoding)."""

    def __init__(self, media: MediaHarness, query: str) -> None:
        self.media, self.query = media, query
        self.pc = new_peer()
        self.frames = 0
        self.bytes = 0
        self.non_key = 0
        self.answer = ""

    def _on_frame(self, data: bytes, _ts: int) -> None:
        self.frames += 1
        self.bytes += len(data)
        if not has_idr(data):
            self.non_key += 1

    async def start(self) -> CountingViewer:
        client = self.media.client
        assert client is not None
        video = self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        receive_encoded(video.receiver, self._on_frame)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        resp = await client.post(f"/whep/{PATH}{self.query}",
                                 data=self.pc.localDescription.sdp, headers=auth("tok-bob"))
        self.answer = await resp.text()
        assert resp.status == 201, self.answer
        await self.pc.setRemoteDescription(RTCSessionDescription(self.answer, "answer"))
        return self

    def audio_direction(self) -> str:
        section = self.answer.split("m=audio", 1)[1]
        return next(d for d in ("sendonly", "inactive", "recvonly", "sendrecv")
                    if f"a={d}" in section)


def has_idr(annexb: bytes) -> bool:
    """True when the access unit holds an IDR slice (NAL type 5)."""
    i = 0
    for _ in range(len(annexb)):  # bounded by the data's length
        i = annexb.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= len(annexb):
            return False
        if annexb[i + 3] & 0x1F == 5:
            return True
        i += 3
    return False


async def test_only_keyframes_arrive_at_a_fraction_of_the_bytes(
        media: MediaHarness, live: Publisher) -> None:
    full = await CountingViewer(media, "").start()
    keys = await CountingViewer(media, "?keyframes=1").start()
    try:
        assert await wait_until(lambda: full.frames > 0 and keys.frames > 0, 5)
        f0, k0, fb0, kb0 = full.frames, keys.frames, full.bytes, keys.bytes
        seconds = 3.0
        await asyncio.sleep(seconds)  # the window under test: frames and bytes over 3 s
        full_frames, key_frames = full.frames - f0, keys.frames - k0
        expected = seconds * FPS / GOP  # 7.5
        assert expected - 2 <= key_frames <= expected + 2, (key_frames, full_frames)
        assert full_frames >= 0.8 * seconds * FPS, full_frames
        assert keys.non_key == 0 and full.non_key > 0
        ratio = (keys.bytes - kb0) / (full.bytes - fb0)
        assert ratio < 0.6, ratio
        # No sound for a wall tile: its audio section is answered inactive.
        assert keys.audio_direction() == "inactive"
        assert full.audio_direction() == "sendonly"
        stream = media.registry.get(PATH)
        assert stream is not None and stream.viewers == 2
        assert len(stream._key_readers) == 1 and len(stream._frame_readers) == 1
    finally:
        await full.pc.close()
        await keys.pc.close()


async def test_keyframes_decode_at_the_stream_size(media: MediaHarness, live: Publisher) -> None:
    client = media.client
    assert client is not None
    viewer = await WhepViewer(client, f"{PATH}?keyframes=1").start()
    try:
        await viewer.wait_video(3, timeout=5)
        assert set(viewer.video_sizes) == {(320, 240)}
        assert viewer.audio_frames == 0
        # Timestamps keep the capture spacing (one GOP apart), never squeezed or reversed.
        steps = {b - a for a, b in zip(viewer.video_pts[1:], viewer.video_pts[2:], strict=False)}
        assert steps and all(s == GOP * 90000 // FPS for s in steps), steps
    finally:
        await viewer.close()


async def test_keyframes_query_is_checked(media: MediaHarness, live: Publisher) -> None:
    client = media.client
    assert client is not None
    pc = new_peer()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    resp = await client.post(f"/whep/{PATH}?keyframes=yes", data=pc.localDescription.sdp,
                             headers=auth("tok-bob"))
    assert resp.status == 400 and (await resp.json())["error"] == "bad_query"
    await pc.close()


def packet(data: bytes, pts: int, key: bool, clock: int) -> av.Packet:
    p = av.Packet(data)
    p.pts = pts
    p.is_keyframe = key
    p.time_base = Fraction(1, clock)
    return p


def test_the_stream_filters_keyframes_once_for_all_such_readers() -> None:
    registry = StreamRegistry()
    pub = registry.publish("rooms/KF-02/main", TRACKS)
    pub.push(0, packet(b"K0", 0, True, 90000))
    pub.push(0, packet(b"P1", 3600, False, 90000))
    key = registry.subscribe("rooms/KF-02/main", keyframes_only=True)
    full = registry.subscribe("rooms/KF-02/main")
    # A new keyframes-only reader starts at the cached keyframe alone.
    assert [f.packet.pts for f in key.take_replay()] == [0]
    assert [f.packet.pts for f in full.take_replay()] == [0, 3600]
    offers: list[Any] = []
    original = key._offer

    def counting(frame: Any) -> None:
        offers.append(frame)
        original(frame)

    key._offer = counting  # type: ignore[method-assign]
    for n in range(2, 21):
        pub.push(0, packet(b"V", n * 3600, n % 10 == 0, 90000))
        pub.push(1, packet(b"A", n * 1920, True, 48000))
    # Only keyframes were offered to it: P frames and audio cost it nothing.
    assert [f.pts for f in offers] == [36000, 72000]
    assert [key.get_nowait().pts for _ in range(len(key))] == [36000, 72000]  # type: ignore[union-attr]
    assert len(full) == 38
    key.close()
    stream = registry.get("rooms/KF-02/main")
    assert stream is not None and stream._key_readers == () and stream.viewers == 1
    full.close()
    pub.close()
