"""RecorderService through the API: stalls, codec changes mid-recording, disk failures."""

from __future__ import annotations

import errno

import pytest
from aiohttp.test_utils import TestClient

from control.core import CORE
from media.sources import Clip, ClipCache, PatternSpec
from recorder.storage import SegmentFile
from tests.conftest import auth
from tests.recorder.conftest import ROOM, FastFeed, streams_of

URL = f"/api/courtrooms/{ROOM}/recording"


async def start(client: TestClient, clip: Clip, token: str) -> tuple[FastFeed, dict]:
    feed = FastFeed(streams_of(client), f"rooms/{ROOM}/main", clip)
    feed.push(2)
    r = await client.post(URL, json={"action": "start"}, headers=auth(token))
    assert r.status == 201, await r.text()
    return feed, await r.json()


async def playlist(client: TestClient, rec_id: int, token: str) -> str:
    r = await client.get(f"/api/recordings/{rec_id}/playlist.m3u8", headers=auth(token))
    assert r.status == 200
    return await r.text()


async def test_a_stalled_source_leaves_a_marked_gap(rclient: TestClient, tokens: dict[str, str],
                                                   clip: Clip) -> None:
    clerk = tokens["clerk.daoli"]
    feed, rec = await start(rclient, clip, clerk)
    feed.push(2)
    feed.shift = 4.0  # the encoder went quiet for 4 s
    feed.push(2)
    r = await rclient.post(URL, json={"action": "stop"}, headers=auth(clerk))
    assert (await r.json())["segments"] == 5
    r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(clerk))
    markers = (await r.json())["markers"]
    assert [m["kind"] for m in markers] == ["gap"] and markers[0]["text"].startswith("no media")
    text = await playlist(rclient, rec["id"], clerk)
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    r = await rclient.get(f"/api/recordings/{rec['id']}/verify", headers=auth(clerk))
    assert (await r.json())["ok"]


async def test_new_codecs_mid_recording_continue_with_a_new_init(
        rclient: TestClient, tokens: dict[str, str], clip: Clip) -> None:
    clerk = tokens["clerk.daoli"]
    feed, rec = await start(rclient, clip, clerk)
    feed.push(2)
    # The room's encoder is replaced by one without audio: the stream's readers are ended.
    silent = ClipCache().get(PatternSpec("Silent", gop_s=1, duration_s=2, audio=False))
    feed.publisher = streams_of(rclient).publish(f"rooms/{ROOM}/main", silent.tracks,
                                                 takeover=True, label="second")
    feed.clip = silent
    for _ in range(20):  # the recorder re-subscribes on the next loop turn
        feed.push(2)
        r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(clerk))
        if (await r.json())["segments"] >= 5:
            break
    r = await rclient.post(URL, json={"action": "stop"}, headers=auth(clerk))
    body = await r.json()
    assert body["state"] == "closed" and body["segments"] >= 5
    text = await playlist(rclient, rec["id"], clerk)
    maps = [line for line in text.splitlines() if line.startswith("#EXT-X-MAP")]
    assert len(maps) == 2 and "#EXT-X-DISCONTINUITY" in text
    r = await rclient.get(f"/api/recordings/{rec['id']}/verify", headers=auth(clerk))
    assert (await r.json())["ok"]


async def test_disk_failure_fails_the_recording_and_raises_an_alert(
        rclient: TestClient, tokens: dict[str, str], clip: Clip,
        monkeypatch: pytest.MonkeyPatch) -> None:
    svc = rclient.app[CORE]
    events = svc.bus.subscribe()
    clerk = tokens["clerk.daoli"]
    writes = 0
    original = SegmentFile.write

    def failing_write(self: SegmentFile, chunk: bytes) -> None:
        nonlocal writes
        writes += 1
        if writes > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, chunk)

    monkeypatch.setattr(SegmentFile, "write", failing_write)
    feed, rec = await start(rclient, clip, clerk)
    feed.push(6)
    alert = await events.next("alert.raised", within=10)  # handled on the loop, moments later
    assert "No space left" in alert.data["message"]
    assert svc.monitor.get(ROOM).status == "fault"
    r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(clerk))
    body = await r.json()
    assert body["state"] == "failed" and "No space left" in body["detail"]
    assert [m["kind"] for m in body["markers"]] == ["alert"]
    r = await rclient.get(f"/api/recordings/{rec['id']}/verify", headers=auth(clerk))
    report = await r.json()
    assert report["ok"] and report["segments"] == body["segments"] >= 2
    r = await rclient.post(URL, json={"action": "stop"}, headers=auth(clerk))
    assert r.status == 409, "a failed recording is no longer running"
