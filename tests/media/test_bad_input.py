"""Hostile or wrong requests get a clear 4xx JSON error and leave nothing behind."""

from __future__ import annotations

import asyncio
import os

from .conftest import MediaHarness
from .peers import WhepViewer, WhipPublisher, auth, new_peer, prefer, wait_until


def udp_sockets() -> int:
    """UDP sockets open in this process (ICE binds one per candidate)."""
    inodes = set()
    for name in ("/proc/self/net/udp", "/proc/self/net/udp6"):
        if os.path.exists(name):
            with open(name) as f:
                inodes |= {line.split()[9] for line in f.readlines()[1:]}
    ours = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            ours += 1
    return ours


def media_tasks() -> list[asyncio.Task[object]]:
    """Running tasks, less the HTTP keep-alive handlers of aiohttp's test server."""
    return [
        t for t in asyncio.all_tasks()
        if "RequestHandler" not in getattr(t.get_coro(), "__qualname__", "")
    ]


async def real_offer(kind_codecs: dict[str, str], direction: str) -> str:
    pc = new_peer()
    for kind, codec in kind_codecs.items():
        pc.addTransceiver(kind, direction=direction)
        prefer(pc, kind, codec)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_bad_requests_are_4xx_json_and_leak_nothing(media: MediaHarness) -> None:
    client = media.client
    assert client is not None
    await asyncio.sleep(0.1)
    tasks_before = len(media_tasks())
    sockets_before = udp_sockets()
    publisher = await WhipPublisher(client, "rooms/busy/main").start(codec="H264")
    assert await wait_until(lambda: media.registry.latest_keyframe("rooms/busy/main"))
    good_whip = await real_offer({"video": "H264"}, "sendonly")
    vp8_only_view = await real_offer({"video": "VP8"}, "recvonly")
    unknown_codec = good_whip.replace("H264/90000", "XYZ/90000")

    async def post(url: str, body: str | bytes, token: str | None = "tok-alice",
                   content_type: str = "application/sdp") -> tuple[int, dict[str, object]]:
        headers = auth(token)
        headers["Content-Type"] = content_type
        resp = await client.post(url, data=body, headers=headers)
        assert resp.content_type == "application/json", await resp.text()
        return resp.status, await resp.json()

    cases = [
        (post("/whip/rooms/a/main", "hello, I am not SDP"), 400, "bad_sdp"),
        (post("/whip/rooms/a/main", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"),
         400, "no_media"),
        (post("/whip/rooms/a/main", "v=0\r\nm=video 9 \x00\x01\r\na=" + "x" * 500), 400, "bad_sdp"),
        (post("/whip/rooms/a/main", unknown_codec), 400, "no_common_codec"),
        (post("/whip/rooms/a/main", "v=0\r\n" + "a=x\r\n" * 20000), 413, "sdp_too_large"),
        (post("/whip/rooms/a/main", good_whip, content_type="text/plain"),
         415, "unsupported_media_type"),
        (post("/whip/rooms/a/main", good_whip, token=None), 401, "unauthorized"),
        (post("/whip/rooms/a/main", good_whip, token="tok-nobody"), 401, "unauthorized"),
        (post("/whip/secret/x", good_whip), 403, "forbidden"),
        (post("/whep/hidden/x", vp8_only_view), 404, "not found"),
        (post("/whip/rooms/a%20b/main", good_whip), 400, "bad_path"),
        (post("/whip/rooms/busy/main", good_whip), 409, "path_busy"),
        (post("/whep/rooms/nowhere/main", vp8_only_view), 404, "not_found"),
        (post("/whep/rooms/busy/main", vp8_only_view), 400, "no_common_codec"),
        (post("/whep/rooms/busy/main", "garbage"), 400, "bad_sdp"),
    ]
    for request, status, error in cases:
        got_status, body = await request
        assert (got_status, body["error"]) == (status, error), body
        assert "detail" in body

    # Sessions: only their creator may DELETE them; others get 404, no token 401.
    viewer = await WhepViewer(client, "rooms/busy/main", token="tok-bob").start()
    assert viewer.location is not None and publisher.location is not None
    resp = await client.delete(viewer.location, headers=auth("tok-carol"))
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"
    resp = await client.delete(viewer.location)
    assert resp.status == 401
    resp = await client.delete(publisher.location, headers=auth("tok-bob"))
    assert resp.status == 404
    resp = await client.delete("/whep-sessions/nope", headers=auth("tok-bob"))
    assert resp.status == 404
    resp = await client.patch(viewer.location, data="a=candidate", headers=auth("tok-bob"))
    assert resp.status == 405
    resp = await client.options("/whep/rooms/busy/main")
    assert resp.status == 204 and resp.headers["Accept-Post"] == "application/sdp"
    await viewer.wait_video(3)
    resp = await client.delete(viewer.location, headers=auth("tok-bob"))
    assert resp.status == 200
    resp = await client.delete(viewer.location, headers=auth("tok-bob"))
    assert resp.status == 404
    await viewer.close()
    assert await publisher.delete() == 200
    await publisher.close()

    assert await wait_until(lambda: not media.server.sessions)
    assert await wait_until(lambda: udp_sockets() <= sockets_before, timeout=3)
    assert await wait_until(lambda: len(media_tasks()) <= tasks_before, timeout=3), [
        t.get_coro() for t in media_tasks()
    ]
    assert media.registry.paths() == []
    # Refused requests were never sessions; the two real ones were audited start and end.
    assert [(e.role, e.ended is None) for e in media.session_events] == [
        ("publish", True), ("read", True), ("read", False), ("publish", False)
    ]
