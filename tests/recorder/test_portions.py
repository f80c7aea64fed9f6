"""Sealed and confidential portions: left out of playlists, segments, markers, timelines and
exports for those not entitled; bench staff see confidential portions, only sealers see sealed."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.models import AuditEvent
from control.policy import Principal
from media.sources import Clip
from recorder.models import Recording
from recorder.portions import load_portions, withheld_for
from recorder.service import RECORDER
from tests.conftest import auth
from tests.recorder.test_exports import at, decode_mp4, wait_done
from tests.recorder.test_playback import entries
from tests.recorder.test_routes import make_recording

HEARING = "hearing:7"


class Bench:
    """Who sits on which hearing (the hearing package supplies this in the app)."""

    def __init__(self) -> None:
        self.seats: dict[str, set[str]] = {}

    async def staff_of(self, ref: str | None) -> frozenset[str]:
        return frozenset(self.seats.get(ref or "", set()))

    async def hearings_of(self, username: str) -> frozenset[str]:
        return frozenset(r for r, users in self.seats.items() if username in users)


@pytest.fixture
async def sealed(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> dict[str, Any]:
    """A 9-segment recording of hearing 7 with judge.daoli on the bench, a sealed portion over
    segments 3-4 (by the judge) and a confidential one inside segment 6 (by the president)."""
    bench = Bench()
    bench.seats[HEARING] = {"judge.daoli"}
    rclient.app[RECORDER].staff = bench
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=8, hearing=HEARING)
    url = f"/api/recordings/{rec['id']}"
    admin = auth(tokens["admin"])
    for offset, text in ((2.5, "witness 3 gives her address"), (7.5, "exhibit 4")):
        r = await rclient.post(f"{url}/markers", headers=admin,
                               json={"kind": "bookmark", "text": text, "at": at(rec, offset)})
        assert r.status == 201
    r = await rclient.post(f"{url}/portions", headers=auth(tokens["judge.daoli"]), json={
        "level": "sealed", "from": "2.2", "to": "3.5", "reason": "protected witness"})
    assert r.status == 201, await r.text()
    r = await rclient.post(f"{url}/portions", headers=auth(tokens["pres.daoli"]), json={
        "level": "confidential", "from": at(rec, 5.3), "to": at(rec, 5.7),
        "reason": "medical records of the victim"})
    assert r.status == 201, await r.text()
    return {"rec": rec, "bench": bench, "url": url, "sealed": (await r.json())["id"] - 1}


async def shown(client: TestClient, url: str, token: str) -> tuple[list[int], str]:
    r = await client.get(f"{url}/playlist.m3u8", headers=auth(token))
    assert r.status == 200
    text = await r.text()
    return [int(e.split("/")[1][:6]) for e in entries(text)], text


async def segment_status(client: TestClient, url: str, token: str) -> dict[int, int]:
    out = {}
    for seq in range(1, 10):
        r = await client.get(f"{url}/segments/{seq:06d}.m4s", headers=auth(token))
        out[seq] = r.status
    return out


async def test_withheld_by_entitlement(rclient: TestClient, tokens: dict[str, str],
                                      sealed: dict[str, Any]) -> None:
    url, bench = sealed["url"], sealed["bench"]
    everything = list(range(1, 10))
    for user in ("judge.daoli", "pres.daoli", "pres.harbin", "admin"):
        seqs, text = await shown(rclient, url, tokens[user])
        assert seqs == everything, user
        assert "#EXT-X-DISCONTINUITY" not in text

    clerk = tokens["clerk.daoli"]  # may view the court's recordings, not on this bench
    seqs, text = await shown(rclient, url, clerk)
    assert seqs == [1, 2, 5, 7, 8, 9]
    assert text.count("#EXT-X-DISCONTINUITY") == 2
    status = await segment_status(rclient, url, clerk)
    assert [s for s, code in status.items() if code == 404] == [3, 4, 6]
    assert all(code == 200 for s, code in status.items() if s not in (3, 4, 6))
    r = await rclient.get(url, headers=auth(clerk))
    assert [m["text"] for m in (await r.json())["markers"]] == ["exhibit 4"]
    r = await rclient.get(f"{url}/timeline", headers=auth(clerk))
    line = await r.json()
    states = {s["sequence"]: s["state"] for s in line["segments"]}
    assert [s for s, v in states.items() if v == "withheld"] == [3, 4, 6]
    assert all(s["audio_dbfs"] is None for s in line["segments"] if s["state"] == "withheld")
    assert len(line["withheld"]) == 2 and "reason" not in str(line["withheld"])
    assert [m["text"] for m in line["markers"]] == ["exhibit 4"]
    rec_id = sealed["rec"]["id"]
    for user, query, found in (("clerk.daoli", "q=witness", []), ("clerk.daoli", "q=exhibit",
                               [rec_id]), ("pres.daoli", "q=witness", [rec_id]),
                               ("judge.daoli", "q=witness", [rec_id])):
        r = await rclient.get(f"/api/recordings?{query}", headers=auth(tokens[user]))
        assert [i["id"] for i in (await r.json())["items"]] == found, (user, query)

    bench.seats[HEARING].add("clerk.daoli")  # now the hearing's clerk: confidential is theirs
    seqs, text = await shown(rclient, url, clerk)
    assert seqs == [1, 2, 5, 6, 7, 8, 9] and text.count("#EXT-X-DISCONTINUITY") == 1
    status = await segment_status(rclient, url, clerk)
    assert [s for s, code in status.items() if code == 404] == [3, 4]
    r = await rclient.get(f"{url}/portions", headers=auth(clerk))
    assert r.status == 403, "bench staff see confidential portions but may not seal"

    r = await rclient.get(f"{url}/portions", headers=auth(tokens["judge.daoli"]))
    items = (await r.json())["items"]
    assert [(p["level"], p["created_by"]) for p in items] == [
        ("sealed", "judge.daoli"), ("confidential", "pres.daoli")]
    r = await rclient.delete(f"{url}/portions/{items[0]['id']}", headers=auth(tokens["pres.daoli"]),
                             json={"reason": "witness protection ended"})
    assert r.status == 200
    seqs, _ = await shown(rclient, url, clerk)
    assert seqs == everything

    bench.seats[HEARING] = set()  # the judge leaves the bench: the recording is not theirs
    r = await rclient.get(f"{url}/portions", headers=auth(tokens["judge.daoli"]))
    assert r.status == 404
    seqs, _ = await shown(rclient, url, clerk)
    assert seqs == [1, 2, 3, 4, 5, 7, 8, 9]

    svc = rclient.app[CORE]
    with svc.db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("recording.seal", "recording.unseal"))).order_by(AuditEvent.id)).all()
        assert [(a.action, a.actor, a.detail["reason"]) for a in rows] == [
            ("recording.seal", "judge.daoli", "protected witness"),
            ("recording.seal", "pres.daoli", "medical records of the victim"),
            ("recording.unseal", "pres.daoli", "witness protection ended")]


async def test_exports_leave_withheld_segments_out(rclient: TestClient, tokens: dict[str, str],
                                                   sealed: dict[str, Any]) -> None:
    rec_id = sealed["rec"]["id"]
    svc, recorder = rclient.app[CORE], rclient.app[RECORDER]
    # Those who may export may also seal today, so the route never withholds from them; the
    # queue is asked directly for a caller who is entitled to less (a clerk off the bench).
    clerk = Principal("clerk.daoli", "clerk", "HL0102", 6)
    with svc.db.session() as s:
        rec = s.get(Recording, rec_id)
        assert rec is not None
        target = await recorder.target(rec)
        hidden = withheld_for(svc.policy, clerk, target, load_portions(s, rec_id))
        start, end = rec.started_at, rec.ended_at
    assert start is not None and end is not None
    job = await recorder.exports.submit(rec, target, "clerk.daoli", "test of withholding",
                                        start, end, hidden.covers)
    assert job.omitted == [3, 4, 6] and job.segments == 6
    body = await wait_done(rclient, f"/api/recordings/{rec_id}/exports/{job.id}",
                           tokens["admin"])
    assert body["state"] == "done", body
    r = await rclient.get(body["file"], headers=auth(tokens["admin"]))
    got = decode_mp4(await r.read())
    assert abs(got["video"] - 6 * 25) <= 2, got  # six one-second segments, gaps kept
    assert got["last"] == pytest.approx(body["duration"] - 0.04, abs=0.1)

    r = await rclient.post(f"/api/recordings/{rec_id}/exports", headers=auth(tokens["pres.hl"]),
                           json={"from": body["from"], "to": body["to"], "reason": "complete"})
    assert (await r.json())["omitted"] == 0, "a president is entitled to every portion"


async def test_bad_portion_requests(rclient: TestClient, tokens: dict[str, str],
                                    sealed: dict[str, Any]) -> None:
    url = f"{sealed['url']}/portions"
    judge = auth(tokens["judge.daoli"])
    good = {"level": "sealed", "from": "1", "to": "2", "reason": "a good reason"}
    for body in ({**good, "level": "secret"}, {**good, "level": None}, {**good, "reason": "ab"},
                 {k: v for k, v in good.items() if k != "reason"}, {**good, "from": "3"},
                 {**good, "to": "1"}, {**good, "to": "1000"}, {**good, "from": "abc"},
                 {**good, "from": 1}, {**good, "from": "2001-01-01T00:00:00Z"},
                 {**good, "to": "nan"}, {**good, "from": "-1"}):
        r = await rclient.post(url, json=body, headers=judge)
        assert r.status == 400, (body, await r.text())
        assert (await r.json())["error"]
    for user, status in (("clerk.daoli", 403), ("sec.daoli", 404), ("pres.hl", 201)):
        r = await rclient.post(url, json=good, headers=auth(tokens[user]))
        assert r.status == status, user
    r = await rclient.post(url, json=good)
    assert r.status == 401
    for pid in ("abc", "99999", "-1", "1.5", "%2e%2e", "0x1"):
        r = await rclient.delete(f"{url}/{pid}", headers=judge)
        assert r.status == 404, pid
        assert r.content_type == "application/json"
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        other = Recording(room="HL0102-01", feed="main", court="HL0102", stream_path="x",
                          directory="HL0102/HL0102-01/2024-01-01/0/main", state="closed",
                          hearing_ref=HEARING)
        s.add(other)
        s.flush()
        other_id = other.id
    r = await rclient.delete(f"/api/recordings/{other_id}/portions/{sealed['sealed']}",
                             headers=judge)
    assert r.status == 404, "a portion is found only under its own recording"
    r = await rclient.delete(f"{url}/{sealed['sealed']}", headers=judge, data="x")
    assert r.status == 415
