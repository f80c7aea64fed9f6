"""Crash safety: bring the index and the segment files back into agreement.

After a crash a recording's folder may hold a closed segment whose row was never written (the
process died between rename and insert), a `.part` file (died mid-segment) or, if someone
deleted files, rows without files. Whole fragments of a `.part` file are kept: the file is
cut back to its last whole moof+mdat, synced and renamed, so SIGKILL loses at most one GOP.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.db import utcnow
from recorder import fmp4
from recorder.models import GENESIS, Recording, Segment
from recorder.storage import (
    INIT_NAME,
    SEGMENT_NAME,
    TEMP_SUFFIX,
    file_sha256,
    fsync_dir,
    init_name,
    segment_name,
)

log = logging.getLogger(__name__)

MAX_SALVAGE_BYTES = 512 * 1024 * 1024  # a temp file larger than this is not read into memory


@dataclass
class ReconcileReport:
    """What reconcile changed, by relative path (or recording id)."""

    indexed: list[str] = field(default_factory=list)  # closed files that had no row
    salvaged: list[str] = field(default_factory=list)  # temp files finished into segments
    removed: list[str] = field(default_factory=list)  # temp files with nothing whole in them
    missing: list[str] = field(default_factory=list)  # rows whose file is gone (flagged)
    interrupted: list[int] = field(default_factory=list)  # recordings left "recording"

    @property
    def changed(self) -> bool:
        return any(vars(self).values())

    def merge(self, other: ReconcileReport) -> None:
        for key, value in vars(other).items():
            getattr(self, key).extend(value)


def reconcile_interrupted(session: Session, root: Path,
                          active: Iterable[int] = ()) -> ReconcileReport:
    """Reconcile every recording still marked `recording` that no recorder holds; fail them."""
    busy = set(active)
    report = ReconcileReport()
    rows = session.scalars(select(Recording).where(Recording.state == "recording"))
    for rec in list(rows):
        if rec.id in busy:
            continue
        report.merge(reconcile_recording(session, root, rec))
        rec.state = "failed"
        rec.detail = "interrupted: the server stopped while recording"
        report.interrupted.append(rec.id)
    return report


def reconcile_recording(session: Session, root: Path, rec: Recording) -> ReconcileReport:
    """Finish or remove temp files, index unindexed segments, flag rows without files."""
    report = ReconcileReport()
    folder = root / rec.directory
    rows = {s.sequence: s for s in session.scalars(
        select(Segment).where(Segment.recording_id == rec.id))}
    names = sorted(os.listdir(folder)) if folder.is_dir() else []
    for name in names:
        if name.endswith(TEMP_SUFFIX):
            _finish_temp(folder, name, rows, rec.directory, report)
    files = {int(m.group(1)): m.group(0) for m in map(SEGMENT_NAME.match, os.listdir(folder))
             if m} if folder.is_dir() else {}
    inits = sorted(int(m.group(1)) for m in map(INIT_NAME.match, os.listdir(folder)) if m) \
        if folder.is_dir() else []
    for seq in sorted(set(files) - set(rows)):
        row = _index_file(folder, seq, files[seq], inits, rows, rec)
        if row is None:
            continue
        session.add(row)
        rows[seq] = row
        report.indexed.append(row.path)
    for seq, row in rows.items():
        gone = seq not in files
        if gone and not row.missing:
            report.missing.append(row.path)
        row.missing = gone
    _totals(rec, rows)
    if rec.state == "recording" and rows:
        rec.ended_at = max(r.end_at for r in rows.values())
    elif rec.state == "recording":
        rec.ended_at = utcnow()
    return report


def _finish_temp(folder: Path, name: str, rows: dict[int, Segment], directory: str,
                 report: ReconcileReport) -> None:
    path = folder / name
    final = name[: -len(TEMP_SUFFIX)]
    m = SEGMENT_NAME.match(final)
    rel = f"{directory}/{name}"
    if path.stat().st_size > MAX_SALVAGE_BYTES:
        log.warning("temp file %s is too large to salvage; left in place", rel)
        return
    if m is None or int(m.group(1)) in rows or (folder / final).exists():
        path.unlink()  # an init being written, or a segment already closed: nothing to keep
        report.removed.append(rel)
        return
    data = path.read_bytes()
    fragments = fmp4.read_fragments(data)
    if not fragments:
        path.unlink()
        report.removed.append(rel)
        return
    with open(path, "r+b") as f:
        f.truncate(fragments[-1].end)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path, folder / final)
    fsync_dir(folder)
    report.salvaged.append(f"{directory}/{final}")


def _index_file(folder: Path, seq: int, name: str, inits: list[int], rows: dict[int, Segment],
                rec: Recording) -> Segment | None:
    """A row for a segment file found on disk, its times read from its own fragments."""
    first = max((n for n in inits if n <= seq), default=None)
    if first is None:
        log.warning("segment %s/%s has no init file; left unindexed", folder, name)
        return None
    init_path = folder / init_name(first)
    try:
        tracks = fmp4.read_init(init_path.read_bytes())
        fragments = fmp4.read_fragments((folder / name).read_bytes())
    except (OSError, ValueError):
        log.warning("segment %s/%s is unreadable; left unindexed", folder, name, exc_info=True)
        return None
    if not fragments or not tracks:
        return None
    key = next((tid for tid, (h, _ts) in tracks.items() if h == "vide"), min(tracks))
    timescale = tracks[key][1]
    runs = [f.tracks[key] for f in fragments if key in f.tracks]
    if not runs or timescale <= 0:
        return None
    base = runs[0][0]
    ticks = sum(r[1] for r in runs)
    duration = ticks / timescale
    sha, size = file_sha256(folder / name)
    before = [s for s in rows if s < seq]
    prev = rows[max(before)].sha256 if before else GENESIS
    start_at = rec.started_at + timedelta(seconds=base / timescale)
    return Segment(
        recording_id=rec.id, sequence=seq, start_at=start_at,
        end_at=rec.started_at + timedelta(seconds=(base + ticks) / timescale),
        duration=duration, bytes=size,
        sha256=sha, prev_sha256=prev, path=f"{rec.directory}/{segment_name(seq)}",
        init_name=init_path.name,
        init_sha256=file_sha256(init_path)[0] if first == seq else None,
        audio_dbfs=None, motion=None, missing=False,
    )


def _totals(rec: Recording, rows: dict[int, Segment]) -> None:
    rec.segment_count = len(rows)
    rec.bytes = sum(r.bytes for r in rows.values())
    rec.head_sha256 = rows[max(rows)].sha256 if rows else GENESIS
