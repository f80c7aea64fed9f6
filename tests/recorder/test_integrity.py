"""Integrity: the hash chain verifies, and each kind of tampering is named at its segment."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select, update

from control.config import Settings
from control.core import CORE, Core
from control.models import AuditEvent
from media.sources import Clip
from recorder.integrity import load_chain, verify_chain
from recorder.models import Recording, Segment
from tests.conftest import auth
from tests.recorder.test_routes import make_recording


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


async def test_flipped_byte_is_reported_at_that_segment(
        rclient: TestClient, tokens: dict[str, str], clip: Clip, settings: Settings) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=4)
    url = f"/api/recordings/{rec['id']}/verify"
    r = await rclient.get(url, headers=auth(tokens["pres.daoli"]))
    body = await r.json()
    assert body["ok"] and body["segments"] == 5 and body["problems"] == []
    assert body["first_bad_sequence"] is None
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        row = s.get(Recording, rec["id"])
        assert row is not None
        folder = settings.recordings_dir / row.directory
    flip_byte(folder / "000003.m4s", 5000)
    events = svc.bus.subscribe()
    r = await rclient.get(url, headers=auth(tokens["pres.daoli"]))
    body = await r.json()
    assert not body["ok"] and body["first_bad_sequence"] == 3
    assert [(p["kind"], p["segment"]) for p in body["problems"]] == [("altered", "000003.m4s")]
    alert = await events.next("alert.raised", within=5)
    assert alert.data["first_bad_sequence"] == 3
    with svc.db.session() as s:
        audits = [a.detail for a in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "recording.verify"))]
    assert [a["ok"] for a in audits] == [True, False]


async def test_each_kind_of_tampering(rclient: TestClient, tokens: dict[str, str], clip: Clip,
                                      settings: Settings, services: Core) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=6)
    root = settings.recordings_dir

    def check() -> list[tuple[str, int | None]]:
        with services.db.session() as s:
            head, count, links = load_chain(s, rec["id"])
        report = verify_chain(root, rec["id"], head, count, links)
        return [(p.kind, p.sequence) for p in report.problems]

    assert check() == []
    with services.db.session() as s:
        row = s.get(Recording, rec["id"])
        assert row is not None
        folder = root / row.directory
    (folder / "000006.m4s").unlink()
    assert check() == [("missing", 6)]
    flip_byte(folder / "init-000001.mp4", 40)
    assert check() == [("init", 1), ("missing", 6)]
    with services.db.session() as s:  # a row rewritten to match a replaced file breaks the chain
        s.execute(update(Segment).where(Segment.recording_id == row.id, Segment.sequence == 4)
                  .values(sha256="f" * 64))
    assert check() == [("init", 1), ("altered", 4), ("chain", 5), ("missing", 6)]
    with services.db.session() as s:  # a row removed from the middle leaves a gap
        s.execute(delete(Segment).where(Segment.recording_id == row.id, Segment.sequence == 2))
    problems = check()
    assert ("gap", 3) in problems and ("chain", 3) in problems
    with services.db.session() as s:  # and one cut from the end shows at the head
        s.execute(delete(Segment).where(Segment.recording_id == row.id, Segment.sequence == 7))
    assert ("head", None) in check()
