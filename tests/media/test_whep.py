"""WHIP in, WHEP out, over loopback with real aiortc peers: frames decode at the right size."""

from __future__ import annotations

import asyncio

import pytest

from media import MediaSettings, TrackInfo, aiortc_hooks

from .conftest import MediaHarness
from .peers import WhepViewer, WhipPublisher, encode_h264, wait_until


@pytest.mark.parametrize("codec", ["H264", "VP8"])
async def test_publish_and_view(media: MediaHarness, codec: str) -> None:
    client = media.client
    assert client is not None
    publisher = await WhipPublisher(client, "rooms/HL01-03/main").start(codec=codec)
    assert await wait_until(lambda: media.registry.latest_keyframe("rooms/HL01-03/main"))
    stream = media.registry.get("rooms/HL01-03/main")
    assert stream is not None and stream.tracks[0].codec == codec
    assert [t.kind for t in stream.tracks] == ["video", "audio"]
    viewers = [await WhepViewer(client, "rooms/HL01-03/main").start() for _ in range(3)]
    try:
        for viewer in viewers:
            await viewer.wait_video(10)
            await viewer.wait_audio(10)
            assert set(viewer.video_sizes) == {(320, 240)}
    finally:
        await asyncio.gather(*(v.close() for v in viewers))
        assert await publisher.delete() == 200
        await publisher.close()
    assert await wait_until(lambda: not media.server.sessions)
    kinds = [e.kind for e in media.stream_events]
    assert kinds[0] == "up" and "down" in kinds and kinds.count("viewer_joined") == 3


async def test_video_only_stream_answers_audio_section_inactive(media: MediaHarness) -> None:
    client = media.client
    assert client is not None
    pub = media.registry.publish("rooms/v/main", [TrackInfo("video", "H264", 90000)])
    for packet in encode_h264(30, gop=10):
        pub.push(0, packet)
    viewer = await WhepViewer(client, "rooms/v/main").start(audio=True)
    await viewer.wait_video(5)
    assert viewer.audio_frames == 0
    await viewer.close()
    pub.close()


async def test_options_links_and_env_override(aiohttp_client, monkeypatch) -> None:
    monkeypatch.setenv("COURTAV_ICE_HOSTS", "127.0.0.1")
    settings = MediaSettings(ice_hosts=None, ice_servers=("stun:stun.example.net:3478",))
    harness = MediaHarness(settings)
    client = await aiohttp_client(harness.app())
    assert harness.server.settings.ice_hosts == ("127.0.0.1",)
    resp = await client.options("/whip/rooms/x/main")
    assert resp.status == 204
    assert resp.headers["Link"] == '<stun:stun.example.net:3478>; rel="ice-server"'
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    publisher = await WhipPublisher(client, "rooms/x/main").start(audio=False)
    assert publisher.location is not None and publisher.location.startswith("/whip-sessions/")
    assert await publisher.delete() == 200
    await publisher.close()


async def test_udp_port_range_is_used_for_host_candidates(aiohttp_client) -> None:
    settings = MediaSettings(ice_hosts=("127.0.0.1",), udp_port_min=41000, udp_port_max=41049)
    harness = MediaHarness(settings)
    client = await aiohttp_client(harness.app())
    publisher = await WhipPublisher(client, "rooms/ports/main").start(audio=False)
    answer = publisher.pc.remoteDescription.sdp
    ports = [int(line.split()[5]) for line in answer.splitlines() if "typ host" in line]
    assert ports and all(41000 <= p <= 41049 for p in ports), ports
    await wait_until(lambda: media_live(harness, "rooms/ports/main"))
    assert await publisher.delete() == 200
    await publisher.close()
    await harness.server.stop()
    aiortc_hooks.set_udp_port_range(None, None)


def media_live(harness: MediaHarness, path: str) -> bool:
    stream = harness.registry.get(path)
    return stream is not None and stream.latest_keyframe() is not None
