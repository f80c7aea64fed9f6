"""Retention removes exactly the expired recordings that are not held, not recording and whose
hash chain verifies; legal holds through the API; the retention settings in the config file."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.config import ConfigError, RetentionSettings, load_settings
from control.core import CORE
from control.db import utcnow
from control.models import AuditEvent
from media.sources import Clip
from recorder.models import ExportJob, Marker, Recording, RetentionFlag, Segment
from recorder.retention import keep_days
from recorder.service import RECORDER
from tests.conftest import auth
from tests.recorder.conftest import OTHER_ROOM, FastFeed, streams_of
from tests.recorder.test_exports import at, wait_done
from tests.recorder.test_routes import make_recording

INTERMEDIATE_ROOM = "HL01-01"  # Harbin intermediate court


async def export(client: TestClient, rec: dict[str, Any], token: str) -> dict[str, Any]:
    r = await client.post(f"/api/recordings/{rec['id']}/exports", headers=auth(token), json={
        "from": at(rec, 0.5), "to": at(rec, 1.5), "reason": "retention test"})
    assert r.status == 202, await r.text()
    done = await wait_done(client, (await r.json())["url"], token)
    assert done["state"] == "done"
    return done


async def test_hold_api(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2)
    url = f"/api/recordings/{rec['id']}/hold"
    body = {"hold": True, "reason": "appeal lodged"}
    for user, status in (("clerk.daoli", 403), ("judge.daoli", 404), ("sec.harbin", 404),
                         ("pres.daoli", 200)):
        r = await rclient.post(url, json=body, headers=auth(tokens[user]))
        assert r.status == status, user
    assert (await r.json())["legal_hold"] is True
    for bad in ({"hold": "yes", "reason": "appeal lodged"}, {"reason": "appeal lodged"},
                {"hold": True}, {"hold": True, "reason": "no"}, {"hold": 1, "reason": "abcd"}):
        r = await rclient.post(url, json=bad, headers=auth(tokens["admin"]))
        assert r.status == 400, bad
    r = await rclient.post("/api/recordings/x1/hold", json=body, headers=auth(tokens["admin"]))
    assert r.status == 404
    r = await rclient.post(url, json={"hold": False, "reason": "appeal decided"},
                           headers=auth(tokens["pres.harbin"]))
    assert (await r.json())["legal_hold"] is False
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "recording.hold")).all()
        assert [(a.actor, a.detail["hold"], a.detail["reason"]) for a in rows] == [
            ("pres.daoli", True, "appeal lodged"), ("pres.harbin", False, "appeal decided")]


async def test_retention_removes_exactly_the_expired(rclient: TestClient,
                                                    tokens: dict[str, str],
                                                    clip: Clip) -> None:
    svc, recorder = rclient.app[CORE], rclient.app[RECORDER]
    clerk, admin = tokens["clerk.daoli"], tokens["admin"]
    expired = await make_recording(rclient, clip, clerk, seconds=2)
    held = await make_recording(rclient, clip, clerk, seconds=2)
    altered = await make_recording(rclient, clip, clerk, seconds=2)
    criminal = await make_recording(rclient, clip, clerk, seconds=2, hearing="hearing:9")
    higher = await make_recording(rclient, clip, admin, room=INTERMEDIATE_ROOM, seconds=2)
    r = await rclient.post(f"/api/recordings/{held['id']}/hold", headers=auth(admin),
                           json={"hold": True, "reason": "appeal lodged"})
    assert r.status == 200
    r = await rclient.post(f"/api/recordings/{expired['id']}/markers", headers=auth(admin),
                           json={"kind": "bookmark", "text": "x"})
    assert r.status == 201
    gone_export = await export(rclient, expired, admin)
    kept_export = await export(rclient, criminal, admin)
    root = recorder.root
    with svc.db.session() as s:
        rows = {r.id: r for r in s.scalars(select(Recording))}
        folders = {i: root / r.directory for i, r in rows.items()}
        victim = s.scalars(select(Segment).where(Segment.recording_id == altered["id"],
                                                 Segment.sequence == 2)).one()
        victim_path = root / victim.path
    victim_path.write_bytes(victim_path.read_bytes()[:-10] + b"0123456789")
    # A recording still running (its start moved back 10 years) is never removed either.
    feed = FastFeed(streams_of(rclient), f"rooms/{OTHER_ROOM}/main", clip)
    feed.push(2)
    r = await rclient.post(f"/api/courtrooms/{OTHER_ROOM}/recording", headers=auth(admin),
                           json={"action": "start"})
    running = await r.json()
    with svc.db.session() as s:
        row = s.get(Recording, running["id"])
        assert row is not None
        row.started_at -= timedelta(days=3650)
    # Exported files are kept 7 days by default: longer here until that is tested below.
    recorder.retention.settings = replace(recorder.retention.settings, export_days=5000,
                                          hearing_types={"criminal": 3650})
    with svc.db.session() as s:
        row = s.get(Recording, criminal["id"])
        assert row is not None
        row.retention_class = "criminal"  # as the hearing that records it sets it
    events = svc.bus.subscribe(1024)

    now = utcnow()
    report = await recorder.retention.run(now + timedelta(days=1094))
    assert report.removed == [] and report.held == [] and report.flagged == []
    assert report.recording == [running["id"]]

    report = await recorder.retention.run(now + timedelta(days=1100))
    assert report.removed == [expired["id"]]
    assert report.held == [held["id"]]
    assert report.flagged == [altered["id"]]
    assert report.recording == [running["id"]]
    assert report.bytes > 0 and report.exports_removed == 0
    with svc.db.session() as s:
        ids = set(s.scalars(select(Recording.id)))
        assert ids == {held["id"], altered["id"], criminal["id"], higher["id"], running["id"]}
        for table in (Segment, Marker, ExportJob):
            assert not s.scalar(select(func.count()).select_from(table)
                                .where(table.recording_id == expired["id"]))
        flag = s.get(RetentionFlag, altered["id"])
        assert flag is not None and "altered" in flag.problem
    assert not folders[expired["id"]].exists()
    assert not folders[expired["id"]].parent.exists(), "the emptied <id> folder goes too"
    for rec in (held, altered, criminal, higher):
        assert list(folders[rec["id"]].glob("*.m4s")), rec["id"]
    exported = recorder.exports.folder
    assert [p.name for p in exported.glob("*.mp4")] == [f"export-{kept_export['id']:06d}.mp4"]
    r = await rclient.get(gone_export["file"], headers=auth(admin))
    assert r.status == 404
    r = await rclient.get(kept_export["file"], headers=auth(admin))
    assert r.status == 200

    await svc.bus.drain()
    alerts = [ev.data["recording"] for ev in events.ready() if ev.kind == "alert.raised"]
    assert alerts == [altered["id"]]

    # Again later: the flag is not raised twice; the intermediate court's recording goes after
    # 1825 days, the criminal hearing's after 3650; the lifted hold lets its recording go.
    r = await rclient.post(f"/api/recordings/{held['id']}/hold", headers=auth(admin),
                           json={"hold": False, "reason": "appeal decided"})
    assert r.status == 200
    report = await recorder.retention.run(now + timedelta(days=1900))
    assert report.removed == [held["id"], higher["id"]]
    assert report.flagged == [altered["id"]] and report.exports_removed == 0
    recorder.retention.settings = replace(recorder.retention.settings, export_days=7)
    report = await recorder.retention.run(now + timedelta(days=1900))
    assert report.removed == [] and report.exports_removed == 1
    assert not list(exported.glob("*.mp4"))
    r = await rclient.get(kept_export["file"], headers=auth(admin))
    assert r.status == 410
    report = await recorder.retention.run(now + timedelta(days=3651))
    assert report.removed == [criminal["id"]] and report.flagged == [altered["id"]]
    with svc.db.session() as s:
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action.like(
            "recording.retention%")).order_by(AuditEvent.id)).all()
        assert [(a.action, a.target) for a in audits] == [
            ("recording.retention", f"recording:{expired['id']}"),
            ("recording.retention.flag", f"recording:{altered['id']}"),
            ("recording.retention", f"recording:{held['id']}"),
            ("recording.retention", f"recording:{higher['id']}"),
            ("recording.retention", f"recording:{criminal['id']}"),
        ]
        assert audits[0].actor == "recorder.retention" and audits[0].detail["keep_days"] == 1095
    await rclient.post(f"/api/courtrooms/{OTHER_ROOM}/recording", headers=auth(admin),
                       json={"action": "stop"})
    feed.close()
    await asyncio.sleep(0)


def test_keep_days() -> None:
    s = RetentionSettings(hearing_types={"criminal": 7300, "civil": 30})
    assert keep_days(s, "high", None) == 3650
    assert keep_days(s, "intermediate", "civil") == 1825, "the longer of the two"
    assert keep_days(s, "basic", "criminal") == 7300
    assert keep_days(s, None, None) == 3650, "an unknown court keeps the longest"


def test_retention_config(tmp_path: Path) -> None:
    base = Path(__file__).resolve().parents[2] / "configs" / "courtav.toml"
    text = base.read_text(encoding="utf-8")
    assert "[recorder.retention]" in text
    cfg = tmp_path / "c.toml"
    cfg.write_text(text.replace("# criminal = 7300", "criminal = 7300")
                   .replace('signing_key_env = ""', 'signing_key_env = "TEST_KEY"'),
                   encoding="utf-8")
    (tmp_path / "province.toml").write_text("")
    settings = load_settings(cfg, env={"TEST_KEY": "k" * 32})
    r = settings.recorder.retention
    assert (r.high, r.intermediate, r.basic, r.hearing_types) == (3650, 1825, 1095,
                                                                  {"criminal": 7300})
    assert settings.recorder.signing_key == "k" * 32
    assert "k" * 32 not in repr(settings), "the key is never printed"
    with pytest.raises(ConfigError, match="TEST_KEY"):
        load_settings(cfg, env={})
    cfg.write_text(text.replace("basic = 1095", "basic = 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="retention"):
        load_settings(cfg, env={})
    cfg.write_text(text.replace("basic = 1095", "basic = 1095\nfoo = 1"), encoding="utf-8")
    with pytest.raises(ConfigError, match="foo"):
        load_settings(cfg, env={})


async def test_retention_class_of_the_row_wins(rclient: TestClient) -> None:
    """The recording's own retention class sets its keep time; without one, the court's."""
    svc, retention = rclient.app[CORE], rclient.app[RECORDER].retention
    retention.settings = replace(retention.settings, hearing_types={"criminal": 3650})
    ended = utcnow() - timedelta(days=1200)  # past the basic court's 1095 days
    with svc.db.session() as s:
        rows = [Recording(room="HL0102-01", feed="main", court="HL0102",
                          stream_path="rooms/HL0102-01/main", hearing_ref=f"hearing:{n}",
                          retention_class=kind, started_at=ended, ended_at=ended,
                          state="closed")
                for n, kind in ((1, "criminal"), (2, None), (3, "civil"))]
        s.add_all(rows)
        s.flush()
        criminal, unset, civil = (r.id for r in rows)
    report = await retention.run()
    assert sorted(report.removed) == sorted([unset, civil])
    with svc.db.session() as s:
        assert set(s.scalars(select(Recording.id))) == {criminal}
