"""Crash safety: SIGKILL mid-segment, then reconcile; orphan files, lost rows, temp files."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select

from control.app import build_services
from control.config import Settings
from control.core import Core
from media import StreamRegistry
from media.sources import Clip
from recorder.integrity import load_chain, verify_chain
from recorder.models import Recording, Segment
from recorder.reconcile import reconcile_recording
from recorder.service import RecorderService
from tests.conftest import auth
from tests.recorder.conftest import decode, segment_files
from tests.recorder.test_routes import make_recording

REPO = Path(__file__).resolve().parents[2]


async def read_line(stream: asyncio.StreamReader, timeout: float = 20) -> str:
    line = await asyncio.wait_for(stream.readline(), timeout)
    assert line, "the child process ended early"
    return line.decode().strip()


async def test_sigkill_mid_segment_then_reconcile(settings: Settings) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.recorder.record_child", str(settings.data_dir), "2",
        cwd=REPO, stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    try:
        rec_id = int((await read_line(child.stdout)).split()[1])
        for _ in range(10):  # bounded: segments arrive every 2 s
            if await read_line(child.stdout) == "segment 2":
                break
        # Segment 3 opened about now; its first whole fragment (1 s GOP) lands at ~1 s.
        await asyncio.sleep(1.5)
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    svc = build_services(settings)
    try:
        with svc.db.session() as s:
            rec = s.get(Recording, rec_id)
            assert rec is not None and rec.state == "recording"
            folder = settings.recordings_dir / rec.directory
        assert list(folder.glob("*.part")), "the killed recorder left its open segment"
        recorder = RecorderService(svc.db, svc.bus, svc.registry, StreamRegistry(),
                                   settings.recordings_dir)
        await recorder.start()
        await recorder.stop()
        report = recorder.last_reconcile
        print("reconcile:", report)
        assert report.interrupted == [rec_id]
        assert len(report.salvaged) + len(report.removed) == 1
        assert not list(folder.glob("*.part"))
        with svc.db.session() as s:
            rec = s.get(Recording, rec_id)
            assert rec is not None and rec.state == "failed" and "interrupted" in rec.detail
            head, count, links = load_chain(s, rec_id)
        files = segment_files(folder)
        assert [link.sequence for link in links] == [int(f.stem) for f in files]
        assert len(links) >= 2
        verdict = verify_chain(settings.recordings_dir, rec_id, head, count, links)
        assert verdict.ok, verdict.to_json()
        init = (folder / "init-000001.mp4").read_bytes()
        for f in files:  # every closed (or finished) segment decodes
            assert decode(init, f.read_bytes())["video"] >= 25
    finally:
        svc.db.close()


async def test_reconcile_indexes_orphans_flags_missing_and_finishes_temp(
        rclient: TestClient, tokens: dict[str, str], clip: Clip, settings: Settings,
        services: Core) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=4)
    root = settings.recordings_dir
    with services.db.session() as s:
        row = s.get(Recording, rec["id"])
        assert row is not None
        folder = root / row.directory
        before = {x.sequence: (x.sha256, x.prev_sha256) for x in s.scalars(
            select(Segment).where(Segment.recording_id == row.id))}
        # A crash between rename and insert: segment 4 is on disk without a row.
        s.execute(delete(Segment).where(Segment.recording_id == row.id, Segment.sequence == 4))
    (folder / "000002.m4s").unlink()  # someone deleted a file
    seg5 = (folder / "000005.m4s").read_bytes()
    (folder / "000005.m4s").unlink()  # ... and a crash mid-write of segment 5: a torn tail
    with services.db.session() as s:
        s.execute(delete(Segment).where(Segment.recording_id == row.id, Segment.sequence == 5))
    (folder / "000005.m4s.part").write_bytes(seg5 + seg5[:300])
    (folder / "init-000006.mp4.part").write_bytes(b"\x00\x00")
    (folder / "000006.m4s.part").write_bytes(seg5[:500])  # nothing whole in it
    with services.db.session() as s:
        row = s.get(Recording, rec["id"])
        assert row is not None
        report = reconcile_recording(s, root, row)
    assert report.indexed == [f"{row.directory}/000004.m4s", f"{row.directory}/000005.m4s"]
    assert report.salvaged == [f"{row.directory}/000005.m4s"]
    assert report.removed == [f"{row.directory}/000006.m4s.part",
                              f"{row.directory}/init-000006.mp4.part"]
    assert report.missing == [f"{row.directory}/000002.m4s"]
    assert (folder / "000005.m4s").read_bytes() == seg5, "cut back to its last whole fragment"
    with services.db.session() as s:
        after = {x.sequence: x for x in s.scalars(
            select(Segment).where(Segment.recording_id == rec["id"]))}
        assert after[2].missing
        for seq in (4, 5):  # re-indexed with the same hash and the same chain link
            assert (after[seq].sha256, after[seq].prev_sha256) == before[seq]
            assert after[seq].duration == 1.0 and after[seq].start_at == after[seq - 1].end_at
    r = await rclient.get(f"/api/recordings/{rec['id']}/verify", headers=auth(tokens["admin"]))
    body = await r.json()
    assert not body["ok"] and body["first_bad_sequence"] == 2
    assert [p["kind"] for p in body["problems"]] == ["missing"]
    r = await rclient.get(f"/api/recordings/{rec['id']}/playlist.m3u8",
                          headers=auth(tokens["admin"]))
    text = await r.text()
    assert "000002.m4s" not in text and "#EXT-X-DISCONTINUITY" in text

