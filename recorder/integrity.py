"""Integrity: recompute every segment's SHA-256 and the chain, and name what does not match."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recorder.models import GENESIS, Recording, Segment
from recorder.storage import file_sha256


@dataclass(frozen=True)
class ChainLink:
    """What the index says about one segment (read in one query, checked off the session)."""

    sequence: int
    path: str
    sha256: str
    prev_sha256: str
    bytes: int
    init_name: str
    init_sha256: str | None


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `kind` is altered | missing | chain | gap | init | head."""

    kind: str
    sequence: int | None
    name: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "sequence": self.sequence, "segment": self.name,
                "detail": self.detail}


@dataclass
class VerifyReport:
    """The outcome of checking one recording."""

    recording_id: int
    segments: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        first = next((p.sequence for p in self.problems if p.sequence is not None), None)
        return {"recording": self.recording_id, "ok": self.ok, "segments": self.segments,
                "bytes": self.bytes, "first_bad_sequence": first,
                "problems": [p.to_json() for p in self.problems]}


def load_chain(session: Session, recording_id: int) -> tuple[str, int, list[ChainLink]]:
    """The recording's head hash, its segment count and the index's links in order."""
    rec = session.get(Recording, recording_id)
    if rec is None:
        raise LookupError(recording_id)
    rows = session.execute(
        select(Segment.sequence, Segment.path, Segment.sha256, Segment.prev_sha256,
               Segment.bytes, Segment.init_name, Segment.init_sha256)
        .where(Segment.recording_id == recording_id).order_by(Segment.sequence)
    ).all()
    return rec.head_sha256, rec.segment_count, [ChainLink(*row) for row in rows]


def verify_chain(root: Path, recording_id: int, head: str, count: int,
                 links: list[ChainLink]) -> VerifyReport:
    """Hash every file (blocking: run it on a worker thread) and walk the chain."""
    report = VerifyReport(recording_id)
    prev_sha, prev_seq = GENESIS, 0
    seen_inits: set[str] = set()
    for link in links:
        name = link.path.rsplit("/", 1)[-1]
        if link.sequence != prev_seq + 1:
            report.problems.append(Problem(
                "gap", link.sequence, name,
                f"segments {prev_seq + 1}..{link.sequence - 1} are not in the index"))
        if link.prev_sha256 != prev_sha:
            report.problems.append(Problem(
                "chain", link.sequence, name,
                "prev_sha256 does not match the previous segment's hash"))
        path = root / link.path
        try:
            sha, size = file_sha256(path)
        except FileNotFoundError:
            report.problems.append(Problem("missing", link.sequence, name, "file is gone"))
        else:
            report.bytes += size
            if sha != link.sha256 or size != link.bytes:
                report.problems.append(Problem(
                    "altered", link.sequence, name,
                    f"sha256 {sha[:16]}… ({size} bytes) differs from the index"))
        if link.init_sha256 is not None and link.init_name not in seen_inits:
            seen_inits.add(link.init_name)
            _check_init(path.parent / link.init_name, link, report)
        report.segments += 1
        prev_sha, prev_seq = link.sha256, link.sequence
    if links and (head != prev_sha or count != len(links)):
        report.problems.append(Problem(
            "head", None, "", "the recording's head hash or segment count does not match "
            "its last segment (segments removed from the end?)"))
    return report


def _check_init(path: Path, link: ChainLink, report: VerifyReport) -> None:
    try:
        sha, _size = file_sha256(path)
    except FileNotFoundError:
        report.problems.append(Problem("init", link.sequence, link.init_name, "file is gone"))
        return
    if sha != link.init_sha256:
        report.problems.append(Problem("init", link.sequence, link.init_name,
                                       "init segment differs from the index"))
