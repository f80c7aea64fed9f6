"""Public viewing with real media: WHEP under a viewer cap, live HLS, published recordings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from control.live import LIVE
from media.sources import Clip, PatternSpec, render_clip
from recorder.service import RECORDER
from tests.conftest import auth
from tests.hearing import petitioning
from tests.hearing.conftest import SESSION_TOKENS, book, file_case, move
from tests.hearing.petitioning import AppMaker
from tests.hearing.test_disclosure import PARTIES, TITLE, approve, wait_on_air
from tests.media.peers import new_peer, wait_until
from tests.recorder.conftest import FastFeed

make_client = petitioning.make_client  # the fixture, used by this module's tests

CLERK, JUDGE = SESSION_TOKENS["clerk.daoli"], SESSION_TOKENS["judge.daoli"]
PATH = "rooms/HL0102-01/main"


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_clip(PatternSpec("Disclosure test", gop_s=1, duration_s=2))


async def view(client: TestClient, peers: list[RTCPeerConnection],
               headers: dict[str, str] | None = None) -> Any:
    pc = new_peer()
    peers.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return await client.post(f"/whep/{PATH}", data=pc.localDescription.sdp,
                             headers={"Content-Type": "application/sdp", **(headers or {})})


async def segments_in(client: TestClient, playlist: str) -> list[str]:
    r = await client.get(playlist)
    assert r.status == 200, await r.text()
    text = await r.text()
    assert text.startswith("#EXTM3U")
    return [line for line in text.splitlines() if line.startswith("segments/")]


async def test_public_viewing_capped_live_hls_and_published_recording(
        make_client: AppMaker, clip: Clip) -> None:
    client = await make_client(record_hearings=True, public_viewer_cap=1)
    client.app[RECORDER].segment_s = 1.0
    live = client.app[LIVE]
    feed = FastFeed(live.streams, PATH, clip)
    feed.push(2)
    case = await file_case(client, CLERK, parties=PARTIES)
    h = await book(client, CLERK, case["id"], public=True, title=TITLE)
    peers: list[RTCPeerConnection] = []
    try:
        await move(client, CLERK, h["id"], "opened")
        assert (await view(client, peers)).status == 401  # not approved yet
        await approve(client, SESSION_TOKENS["pres.daoli"], h["id"])
        await wait_on_air(client, 1)
        assert (await view(client, peers)).status == 201
        full = await view(client, peers)
        assert full.status == 503 and full.headers["Retry-After"]
        assert (await view(client, peers, auth(JUDGE))).status == 201  # staff are not capped
        on_air = (await (await client.get("/api/public/live")).json())["hearings"]
        assert on_air[0]["viewers"] == 1 and on_air[0]["viewer_cap"] == 1
        hls = f"/api/public/live/{h['id']}/playlist.m3u8"
        for _ in range(40):
            feed.push(2)
            if await segments_in(client, hls):
                break
            await asyncio.sleep(0.1)
        first = (await segments_in(client, hls))[0]
        r = await client.get(f"/api/public/live/{h['id']}/{first}")
        assert r.status == 200 and r.headers["Content-Type"] == "video/iso.segment"
        r = await client.get(f"/api/public/live/{h['id']}/segments/../../x")
        assert r.status == 404
        await move(client, CLERK, h["id"], "closed")
        await wait_on_air(client, 0)
        assert await wait_until(lambda: live.public_viewers(PATH) == 0, 5)  # hung up
        assert any(s.subject == "judge.daoli" for s in live.server.sessions.values())
        assert (await view(client, peers)).status == 401
        assert (await client.get(hls)).status == 404
    finally:
        for pc in peers:
            await pc.close()
        feed.close()
    r = await client.get(f"/api/recordings?hearing=hearing:{h['id']}", headers=auth(JUDGE))
    rec = (await r.json())["items"][0]
    body = {"kind": "recording", "recording_id": rec["id"], "title": TITLE}
    r = await client.post(f"/api/cases/{case['id']}/publications", json=body,
                          headers=auth(CLERK))
    assert r.status == 403
    r = await client.post(f"/api/cases/{case['id']}/publications", json=body,
                          headers=auth(JUDGE))
    assert r.status == 201, await r.text()
    pub = await r.json()
    listing = await (await client.get("/api/public/publications?kind=recording")).json()
    item = listing["items"][0]
    assert item["title"].startswith("张某诉欧阳某") and "13812345678" not in item["title"]
    segments = await segments_in(client, item["playlist"])
    assert segments and "#EXT-X-ENDLIST" in await (await client.get(item["playlist"])).text()
    r = await client.get(item["playlist"].replace("playlist.m3u8", segments[-1]))
    assert r.status == 200
    # A portion the judge seals drops out of the public playlist and its segment is gone.
    r = await client.post(f"/api/recordings/{rec['id']}/portions", headers=auth(JUDGE), json={
        "level": "sealed", "from": "0", "to": "0.5", "reason": "protected witness"})
    assert r.status == 201, await r.text()
    sealed = await segments_in(client, item["playlist"])
    assert segments[0] not in sealed and len(sealed) < len(segments)
    r = await client.get(item["playlist"].replace("playlist.m3u8", segments[0]))
    assert r.status == 404
    r = await client.delete(f"/api/publications/{pub['id']}", headers=auth(JUDGE))
    assert r.status == 200
    assert (await client.get(item["playlist"])).status == 404
