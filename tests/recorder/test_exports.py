"""Exports: a sub-range of a recorded live stream remuxed into one MP4, decoded back with PyAV."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import av
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.iso8601 import iso, parse_iso
from control.models import AuditEvent
from media.sources import Clip
from recorder.models import ExportJob, Recording
from recorder.service import RECORDER
from tests.conftest import auth
from tests.recorder.test_routes import make_recording

FPS = 25
REASON = "Appeal file (2024) HL01 刑终 12"


def at(rec: dict[str, Any], seconds: float) -> str:
    start = parse_iso(rec["started_at"])
    return iso(start + timedelta(seconds=seconds))


async def wait_done(client: TestClient, url: str, token: str) -> dict[str, Any]:
    """The export's state once it finished (told on the bus), as the API reports it."""
    events = client.app[CORE].bus.subscribe()
    try:
        for _ in range(2):  # once more after the event: it may have finished before we asked
            r = await client.get(url, headers=auth(token))
            assert r.status == 200, await r.text()
            body = await r.json()
            if body["state"] in ("done", "failed"):
                return body
            await events.next("recording.export", within=20, where=lambda e: (
                e.data["export"] == body["id"] and e.data["state"] in ("done", "failed")))
    finally:
        events.close()
    raise AssertionError(f"export did not finish: {body}")


def decode_mp4(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"video": 0, "samples": 0, "first": None, "last": None}
    with av.open(io.BytesIO(data), "r") as container:
        out["format"] = container.format.name
        out["codecs"] = sorted(s.codec_context.name for s in container.streams)
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                out["video"] += 1
                out["first"] = frame.time if out["first"] is None else out["first"]
                out["last"] = frame.time
                out["size"] = (frame.width, frame.height)
            elif isinstance(frame, av.AudioFrame):
                out["samples"] += frame.samples
    return out


@pytest.fixture
async def recorded(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> dict[str, Any]:
    """A closed recording of about 9 s (1 s replayed GOP + 8 s) in Daoli, 1 s segments."""
    return await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=8)


async def test_export_a_sub_range(rclient: TestClient, tokens: dict[str, str],
                                  recorded: dict[str, Any]) -> None:
    events = rclient.app[CORE].bus.subscribe(1024)
    token = tokens["pres.harbin"]
    url = f"/api/recordings/{recorded['id']}/exports"
    r = await rclient.post(url, headers=auth(token), json={
        "from": at(recorded, 2.5), "to": at(recorded, 6.5), "reason": REASON})
    assert r.status == 202, await r.text()
    job = await r.json()
    assert job["state"] in ("queued", "running") and job["segments"] == 5
    assert r.headers["Location"] == job["url"]
    done = await wait_done(rclient, job["url"], token)
    assert done["state"] == "done", done
    assert done["percent"] == 100 and done["bytes"] > 10_000 and len(done["sha256"]) == 64
    # The file starts on the keyframe at or before `from` and ends at `to`.
    start = parse_iso(done["start"])
    asked = parse_iso(at(recorded, 2.5))
    assert timedelta(0) <= asked - start < timedelta(seconds=1.05)
    assert done["end"] == done["to"]
    duration = done["duration"]
    assert duration == pytest.approx((parse_iso(done["end"]) - start)
                                     .total_seconds(), abs=0.002)

    r = await rclient.get(done["file"], headers=auth(token))
    assert r.status == 200 and r.content_type == "video/mp4"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="recording-')
    data = await r.read()
    assert len(data) == done["bytes"] and hashlib.sha256(data).hexdigest() == done["sha256"]
    assert data.find(b"moov") < data.find(b"mdat"), "progressive MP4 with the index first"
    assert b"moof" not in data[:4096]
    got = decode_mp4(data)
    assert got["codecs"] == ["h264", "opus"] and got["size"] == (640, 360)
    assert abs(got["video"] - duration * FPS) <= 2, (got, duration)
    assert got["first"] == pytest.approx(0, abs=0.05)
    assert got["last"] == pytest.approx(duration - 1 / FPS, abs=2 / FPS)
    assert abs(got["samples"] - duration * 48_000) <= 2 * 960, (got, duration)

    r = await rclient.get(done["file"], headers={**auth(token), "Range": "bytes=0-99"})
    assert r.status == 206 and await r.read() == data[:100]
    r = await rclient.get(done["file"], headers={**auth(token), "Range": f"bytes={len(data)}-"})
    assert r.status == 416
    r = await rclient.get(done["file"], headers={**auth(token), "Range": "bytes=100-"})
    assert r.status == 206 and await r.read() == data[100:]

    await rclient.app[CORE].bus.drain()
    seen = [(ev.data["state"], ev.data["percent"]) for ev in events.ready()
            if ev.kind == "recording.export"]
    assert seen[0] == ("queued", 0) and seen[-1] == ("done", 100), seen
    percents = [p for s, p in seen if s == "running"]
    assert percents == sorted(percents) and len(percents) >= 3, seen

    svc = rclient.app[CORE]
    with svc.db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action.like("recording.export%"))
                         .order_by(AuditEvent.id)).all()
        # One row per download begun (from byte 0); resumed pieces are not audited again.
        assert [(a.action, a.actor) for a in rows] == [
            ("recording.export", "pres.harbin"), ("recording.export.download", "pres.harbin"),
            ("recording.export.download", "pres.harbin")]
        assert rows[0].detail["reason"] == REASON
        job_row = s.get(ExportJob, job["id"])
        assert job_row is not None and job_row.state == "done"
    exports = rclient.app[RECORDER].exports.folder
    assert exports == svc.settings.data_dir / "exports"
    assert [p.name for p in exports.iterdir()] == [job_row.file_name]
    r = await rclient.get(f"/static/../exports/{job_row.file_name}", headers=auth(token))
    assert r.status == 404

    r = await rclient.get(url, headers=auth(tokens["admin"]))
    assert [j["id"] for j in (await r.json())["items"]] == [job["id"]]


async def test_who_may_export(rclient: TestClient, tokens: dict[str, str],
                              recorded: dict[str, Any]) -> None:
    url = f"/api/recordings/{recorded['id']}/exports"
    body = {"from": at(recorded, 1), "to": at(recorded, 3), "reason": REASON}
    expected = {"clerk.daoli": 403, "judge.daoli": 404, "sec.daoli": 404, "sec.harbin": 404}
    for user, status in expected.items():
        r = await rclient.post(url, json=body, headers=auth(tokens[user]))
        assert r.status == status, user
        assert (await r.json())["error"]
        r = await rclient.get(url, headers=auth(tokens[user]))
        assert r.status == status, user
    r = await rclient.post(url, json=body)
    assert r.status == 401
    r = await rclient.post(url, json=body, headers=auth(tokens["pres.daoli"]))
    assert r.status == 202
    job = await r.json()
    done = await wait_done(rclient, job["url"], tokens["pres.daoli"])
    for user, status in expected.items():
        for suffix in ("", "/file"):
            r = await rclient.get(done["url"] + suffix, headers=auth(tokens[user]))
            assert r.status == status, (user, suffix)
    r = await rclient.get(done["file"])
    assert r.status == 401


async def test_bad_export_requests(rclient: TestClient, tokens: dict[str, str],
                                   recorded: dict[str, Any]) -> None:
    admin = auth(tokens["admin"])
    url = f"/api/recordings/{recorded['id']}/exports"
    good = {"from": at(recorded, 1), "to": at(recorded, 3), "reason": REASON}
    bad_bodies = [
        {k: v for k, v in good.items() if k != "reason"},
        {**good, "reason": "abc"}, {**good, "reason": "   abc   "}, {**good, "reason": 7},
        {**good, "reason": "x" * 501}, {**good, "from": at(recorded, 4)},
        {**good, "to": good["from"]}, {**good, "from": "2001-01-01T00:00:00Z",
                                       "to": "2001-01-01T01:00:00Z"},
        {**good, "from": at(recorded, 3600), "to": at(recorded, 7200)},
        {**good, "to": at(recorded, 25 * 3600)}, {**good, "from": "yesterday"},
        {**good, "from": "2024-05-01T10:00:00"}, {**good, "from": 1}, {**good, "to": None},
        {**good, "from": "9" * 100},
    ]
    for body in bad_bodies:
        r = await rclient.post(url, json=body, headers=admin)
        assert r.status == 400, (body, await r.text())
        assert (await r.json())["error"]
    r = await rclient.post(url, data="[1]", headers={**admin, "Content-Type": "application/json"})
    assert r.status == 400
    r = await rclient.post(url, data="x", headers=admin)
    assert r.status == 415
    for path in ("/api/recordings/abc/exports", "/api/recordings/99999999/exports",
                 f"{url}/abc", f"{url}/999999", f"{url}/1e3", f"{url}/-1", f"{url}/%2e%2e",
                 f"{url}/999999/file", f"{url}/..%2F..%2Fcourtav.db/file", f"{url}/0x1/file",
                 f"/api/recordings/{recorded['id']}%2F..%2F1/exports"):
        r = await rclient.get(path, headers=admin)
        assert r.status == 404, (path, await r.text())
        assert r.content_type == "application/json", path
    # An export id of another recording is not found under this one.
    r = await rclient.post(url, json=good, headers=admin)
    job = await r.json()
    await wait_done(rclient, job["url"], tokens["admin"])
    other = await make_recording_id(rclient, tokens)
    r = await rclient.get(f"/api/recordings/{other}/exports/{job['id']}", headers=admin)
    assert r.status == 404


async def make_recording_id(client: TestClient, tokens: dict[str, str]) -> int:
    svc = client.app[CORE]
    with svc.db.session() as s:
        rec = Recording(room="HL0102-01", feed="main", court="HL0102", stream_path="x",
                        directory="HL0102/HL0102-01/2024-01-01/0/main", state="closed")
        s.add(rec)
        s.flush()
        return rec.id


async def test_interrupted_exports_fail_at_start(rclient: TestClient, tokens: dict[str, str],
                                                 recorded: dict[str, Any]) -> None:
    queue = rclient.app[RECORDER].exports
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        job = ExportJob(recording_id=recorded["id"], requested_by="pres.hl", reason=REASON,
                        from_at=parse_iso(at(recorded, 1)),
                        to_at=parse_iso(at(recorded, 2)), state="running",
                        file_name="export-000099.mp4")
        s.add(job)
    queue.folder.mkdir(parents=True, exist_ok=True)
    (queue.folder / "export-000099.mp4.part").write_bytes(b"half")
    await queue.stop()
    await queue.start()
    with svc.db.session() as s:
        row = s.scalars(select(ExportJob)).one()
        assert row.state == "failed" and "interrupted" in row.detail
    assert not list(queue.folder.glob("*.part"))
    r = await rclient.get(f"/api/recordings/{recorded['id']}/exports/{row.id}/file",
                          headers=auth(tokens["admin"]))
    assert r.status == 409
