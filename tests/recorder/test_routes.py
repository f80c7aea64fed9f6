"""Recorder API per role: who sees which recording (404 for the rest), control, markers, audit."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.models import AuditEvent
from media.sources import Clip
from tests.conftest import auth
from tests.recorder.conftest import OTHER_ROOM, ROOM, FastFeed, streams_of


async def make_recording(client: TestClient, clip: Clip, token: str, room: str = ROOM,
                         seconds: float = 4, hearing: str | None = None) -> dict[str, Any]:
    """Record `seconds` of a fast feed in `room` through the API; returns the stopped row."""
    feed = FastFeed(streams_of(client), f"rooms/{room}/main", clip)
    feed.push(2)
    body: dict[str, Any] = {"action": "start", "feed": "main"}
    if hearing:
        body["hearing"] = hearing
    r = await client.post(f"/api/courtrooms/{room}/recording", json=body, headers=auth(token))
    assert r.status == 201, await r.text()
    started = await r.json()
    assert started["state"] == "recording"
    feed.push(seconds)
    r = await client.post(f"/api/courtrooms/{room}/recording", json={"action": "stop"},
                          headers=auth(token))
    assert r.status == 200, await r.text()
    feed.close()
    return await r.json()


async def test_start_record_stop_and_detail(rclient: TestClient, tokens: dict[str, str],
                                            clip: Clip) -> None:
    events = rclient.app[CORE].bus.subscribe()
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=4)
    assert rec["state"] == "closed" and rec["segments"] == 5 and rec["room"] == ROOM
    assert rec["court"] == "HL0102" and rec["started_by"] == "clerk.daoli"
    r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(tokens["pres.hl"]))
    assert r.status == 200
    body = await r.json()
    assert body["segments"] == 5 and body["markers"] == []
    await rclient.app[CORE].bus.drain()
    kinds = [ev.kind for ev in events.ready()]
    assert kinds.count("recording.segment") == 5
    assert "recording.started" in kinds and "recording.stopped" in kinds
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("recording.%")))]
    assert actions == ["recording.start", "recording.stop"]


async def test_visibility_per_role(rclient: TestClient, tokens: dict[str, str],
                                   clip: Clip) -> None:
    daoli = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2)
    sibling = await make_recording(rclient, clip, tokens["admin"], room=OTHER_ROOM, seconds=2)
    expected = {
        "admin": {daoli["id"], sibling["id"]},
        "pres.hl": {daoli["id"], sibling["id"]},
        "pres.harbin": {daoli["id"], sibling["id"]},
        "pres.daoli": {daoli["id"]},
        "clerk.daoli": {daoli["id"]},
        "judge.daoli": set(),  # judges see hearings they sit on; none are wired in yet
        "sec.harbin": set(),
        "sec.daoli": set(),
    }
    for user, ids in expected.items():
        r = await rclient.get("/api/recordings", headers=auth(tokens[user]))
        assert r.status == 200, user
        body = await r.json()
        assert {i["id"] for i in body["items"]} == ids, user
        assert body["total"] == len(ids), user
        for rec_id in (daoli["id"], sibling["id"]):
            for suffix in ("", "/playlist.m3u8", "/verify", "/segments/000001.m4s"):
                r = await rclient.get(f"/api/recordings/{rec_id}{suffix}",
                                      headers=auth(tokens[user]))
                assert r.status == (200 if rec_id in ids else 404), (user, rec_id, suffix)
                if r.status == 404:
                    assert (await r.json())["error"] == "not found"
    r = await rclient.get(f"/api/recordings/{daoli['id']}")
    assert r.status == 401
    r = await rclient.get("/api/recordings/999999", headers=auth(tokens["admin"]))
    assert r.status == 404
    r = await rclient.get("/api/recordings/999999")
    assert r.status == 401, "the anonymous learn nothing, not even what does not exist"


async def test_search_filters(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> None:
    a = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2, hearing="(2024)D1")
    b = await make_recording(rclient, clip, tokens["admin"], room=OTHER_ROOM, seconds=2)
    admin = auth(tokens["admin"])

    async def ids(query: str, token: str = tokens["admin"]) -> set[int]:
        r = await rclient.get(f"/api/recordings?{query}", headers=auth(token))
        assert r.status == 200, await r.text()
        return {i["id"] for i in (await r.json())["items"]}

    assert await ids(f"room={ROOM}") == {a["id"]}
    assert await ids("court=HL0103") == {b["id"]}
    assert await ids("court=HL01") == {a["id"], b["id"]}
    assert await ids("hearing=(2024)D1") == {a["id"]}
    assert await ids(f"from={a['started_at']}") == {a["id"], b["id"]}
    assert await ids("to=2001-01-01T00:00:00Z") == set()
    assert await ids("limit=1&offset=1") == {a["id"]}  # newest first
    r = await rclient.post(f"/api/recordings/{a['id']}/markers", headers=admin,
                           json={"kind": "speaker", "text": "Defence counsel: objection"})
    assert r.status == 201
    assert await ids("marker=speaker") == {a["id"]}
    assert await ids("q=objection") == {a["id"]}
    assert await ids("marker=bookmark&q=objection") == set()
    assert await ids("court=HL0103", tokens["pres.harbin"]) == {b["id"]}
    r = await rclient.get("/api/recordings?court=HL0103", headers=auth(tokens["pres.daoli"]))
    assert r.status == 404


async def test_recording_control_permissions(rclient: TestClient, tokens: dict[str, str],
                                             clip: Clip) -> None:
    feed = FastFeed(streams_of(rclient), f"rooms/{ROOM}/main", clip)
    feed.push(2)
    url = f"/api/courtrooms/{ROOM}/recording"
    start = {"action": "start"}
    for user, status in (("judge.daoli", 403), ("pres.harbin", 403), ("sec.daoli", 403)):
        r = await rclient.post(url, json=start, headers=auth(tokens[user]))
        assert r.status == status, user
    r = await rclient.post(f"/api/courtrooms/{OTHER_ROOM}/recording", json=start,
                           headers=auth(tokens["clerk.daoli"]))
    assert r.status == 404
    r = await rclient.post(url, json=start)
    assert r.status == 401
    clerk = auth(tokens["clerk.daoli"])
    r = await rclient.post(url, json={"action": "stop"}, headers=clerk)
    assert r.status == 409
    r = await rclient.post(url, json=start, headers=clerk)
    assert r.status == 201
    r = await rclient.post(url, json=start, headers=clerk)
    assert r.status == 409 and "already" in (await r.json())["error"]
    r = await rclient.get(url, headers=auth(tokens["pres.daoli"]))
    assert (await r.json())["recording"] == {"main": (await r.json())["recording"]["main"]}
    r = await rclient.post(f"/api/courtrooms/{ROOM}/recording", json=start,
                           headers=auth(tokens["admin"]))
    assert r.status == 409
    r = await rclient.post(f"/api/courtrooms/{OTHER_ROOM}/recording", json=start,
                           headers=auth(tokens["admin"]))
    assert r.status == 409 and (await r.json())["error"] == "the feed is not live"
    for bad in ({"action": "pause"}, {"action": "start", "feed": "nope"}, {"action": 1},
                {"action": "start", "feed": "x" * 300}, {}):
        r = await rclient.post(url, json=bad, headers=clerk)
        assert r.status == 400, bad
        assert "error" in await r.json()
    r = await rclient.post(url, data="{", headers={**clerk, "Content-Type": "application/json"})
    assert r.status == 400
    r = await rclient.post("/api/courtrooms/NOPE-1/recording", json=start, headers=clerk)
    assert r.status == 404
    r = await rclient.post(url, json={"action": "stop"}, headers=clerk)
    assert r.status == 200 and (await r.json())["state"] == "closed"
    feed.close()


async def test_markers(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2)
    url = f"/api/recordings/{rec['id']}/markers"
    r = await rclient.post(url, json={"kind": "bookmark", "text": "exhibit 3 shown"},
                           headers=auth(tokens["clerk.daoli"]))
    assert r.status == 201
    marker = await r.json()
    assert marker["author"] == "clerk.daoli" and marker["kind"] == "bookmark"
    r = await rclient.post(url, json={"kind": "recess", "at": rec["started_at"]},
                           headers=auth(tokens["admin"]))
    assert r.status == 201
    r = await rclient.post(url, json={"kind": "bookmark"}, headers=auth(tokens["pres.daoli"]))
    assert r.status == 403, "presidents watch; they do not mark"
    r = await rclient.post(url, json={"kind": "bookmark"}, headers=auth(tokens["judge.daoli"]))
    assert r.status == 404
    clerk = auth(tokens["clerk.daoli"])
    for bad in ({"kind": "party"}, {"kind": "bookmark", "text": "x" * 501},
                {"kind": "bookmark", "at": "2001-01-01T00:00:00Z"},
                {"kind": "bookmark", "at": "yesterday"},
                {"kind": "bookmark", "at": "2024-05-01T10:00:00"}):
        r = await rclient.post(url, json=bad, headers=clerk)
        assert r.status == 400, bad
    r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(tokens["pres.hl"]))
    kinds = [m["kind"] for m in (await r.json())["markers"]]
    assert kinds == ["recess", "bookmark"]
