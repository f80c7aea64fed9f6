"""Retention: recordings past their keep time are removed, files and rows, with an audit trail.

How long is kept comes from `[recorder.retention]`: days by the level of the recording's court
(the registry knows it), or longer by hearing type (the recording's `retention_class`). Never
removed: recordings under legal hold, recordings still recording, and recordings whose hash
chain does not verify; those are flagged (a `RetentionFlag` row, an alert and an audit record)
and kept for a person to look at.
Exported MP4 files are removed after `export_days`. The job runs daily from the recorder's
start, on one node of the province: the node that takes the `retention` lease for the day
(`run_if_due`); `RetentionJob.run(now)` runs it once, here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from control.audit import AuditLog
from control.bus import Event, EventBus
from control.config import RetentionSettings
from control.db import Database, utcnow
from control.iso8601 import MILLIS, iso
from control.leases import Leases
from control.policy import Principal, Target
from control.registry import CourtRegistry
from recorder.exports import ExportQueue
from recorder.integrity import load_chain, verify_chain
from recorder.models import ExportJob, Recording, RetentionFlag
from recorder.storage import INIT_NAME, SEGMENT_NAME, TEMP_SUFFIX

log = logging.getLogger(__name__)

SYSTEM: Final = Principal("recorder.retention", "system")
FIRST_RUN_DELAY_S: Final = 300.0  # after start-up, so a restart loop does not thrash the disk
LEASE: Final = "retention"
LEASE_TRY_S: Final = 3600.0  # how often a node asks whether the day's run is free to take


def keep_days(settings: RetentionSettings, level: str | None, hearing_type: str | None) -> int:
    """Days to keep a recording of a court of `level` (unknown: the longest) and hearing type."""
    by_level = {"high": settings.high, "intermediate": settings.intermediate,
                "basic": settings.basic}
    days = by_level.get(level or "", max(by_level.values()))
    if hearing_type:
        days = max(days, settings.hearing_types.get(hearing_type, 0))
    return days


@dataclass
class RetentionReport:
    """What one run did, by recording id."""

    removed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # expired but under legal hold
    recording: list[int] = field(default_factory=list)  # expired but still recording
    flagged: list[int] = field(default_factory=list)  # expired but failed verification
    bytes: int = 0
    exports_removed: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class _Candidate:
    id: int
    court: str
    room: str
    hearing_ref: str | None
    retention_class: str | None
    directory: str
    state: str
    legal_hold: bool
    ended_at: datetime


class RetentionJob:
    """Applies the retention settings to the index and the recordings folder."""

    def __init__(self, db: Database, bus: EventBus, registry: CourtRegistry, root: Path,
                 exports: ExportQueue, settings: RetentionSettings,
                 audit: AuditLog | None = None, leases: Leases | None = None) -> None:
        self.db, self.bus, self.registry, self.root = db, bus, registry, root
        self.exports, self.settings, self.audit = exports, settings, audit
        self.leases = leases
        self.last_report: RetentionReport | None = None
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._daily())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _daily(self) -> None:
        await asyncio.sleep(FIRST_RUN_DELAY_S)
        interval = self.settings.interval_hours * 3600
        # With a lease, every node asks often and the lease keeps it to one run per interval.
        tick = interval if self.leases is None else min(interval, LEASE_TRY_S)
        while True:  # until stop() cancels it
            try:
                await self.run_if_due()
            except Exception:
                log.exception("retention run failed")
            await asyncio.sleep(tick)

    async def run_if_due(self, now: datetime | None = None) -> RetentionReport | None:
        """Run if this node takes the interval's `retention` lease (None: another node has it).

        The lease is kept for the whole interval, not released after the run: it stands for
        "this interval's run is taken", so one run per interval happens across the nodes; if
        its holder dies, the next interval's lease goes to whichever node asks first."""
        if self.leases is not None and not await self.leases.acquire(
                LEASE, self.settings.interval_hours * 3600):
            return None
        return await self.run(now)

    def keep_days_of(self, court: str, retention_class: str | None) -> int:
        """Days to keep: by the court's level, or longer by the recording's retention class."""
        node = self.registry.courts.get(court)
        return keep_days(self.settings, node.level if node else None, retention_class)

    async def run(self, now: datetime | None = None) -> RetentionReport:
        """One pass: remove what has expired, flag what cannot be removed safely."""
        now = now or utcnow()
        report = RetentionReport()
        s = self.settings
        shortest = min(s.high, s.intermediate, s.basic)
        cutoff = now - timedelta(days=shortest)
        ended = func.coalesce(Recording.ended_at, Recording.started_at)

        def candidates(session: Session) -> list[_Candidate]:
            rows = session.execute(
                select(Recording.id, Recording.court, Recording.room, Recording.hearing_ref,
                       Recording.retention_class, Recording.directory, Recording.state,
                       Recording.legal_hold, Recording.ended_at, Recording.started_at)
                .where(ended < cutoff).order_by(Recording.id)).all()
            return [_Candidate(*row[:8], row[8] or row[9]) for row in rows]

        for cand in await self.db.run(candidates):
            days = self.keep_days_of(cand.court, cand.retention_class)
            if cand.ended_at + timedelta(days=days) > now:
                continue
            if cand.state == "recording":
                report.recording.append(cand.id)
            elif cand.legal_hold:
                report.held.append(cand.id)
            else:
                await self._expire(cand, days, now, report)
        report.exports_removed = await self._expire_exports(now)
        self.last_report = report
        self.runs += 1
        log.info("retention run", extra={"retention": report.to_json()})
        return report

    async def _expire(self, cand: _Candidate, days: int, now: datetime,
                      report: RetentionReport) -> None:
        head, count, links = await self.db.run(lambda s: load_chain(s, cand.id))
        verified = await asyncio.to_thread(verify_chain, self.root, cand.id, head, count, links)
        if not verified.ok:
            report.flagged.append(cand.id)
            await self._flag(cand, verified.problems[0].kind, now)
            return

        def remove(session: Session) -> list[str] | None:
            names = list(session.scalars(select(ExportJob.file_name).where(
                ExportJob.recording_id == cand.id, ExportJob.file_name != "")))
            result = session.execute(delete(Recording).where(
                Recording.id == cand.id, Recording.legal_hold.is_(False),
                Recording.state != "recording"))
            gone = getattr(result, "rowcount", 0)
            return names if gone else None  # a hold placed meanwhile wins

        exports = await self.db.run(remove)
        if exports is None:
            report.held.append(cand.id)
            return
        await asyncio.to_thread(self._remove_files, cand.directory, exports)
        report.removed.append(cand.id)
        report.bytes += verified.bytes
        log.warning("recording %d removed by retention (%d days after it ended)", cand.id, days)
        if self.audit is not None:
            await self.audit.record(SYSTEM, "recording.retention", f"recording:{cand.id}",
                                    court=cand.court, detail={
                                        "removed": True, "room": cand.room,
                                        "ended_at": iso(cand.ended_at, MILLIS),
                                        "keep_days": days, "segments": verified.segments,
                                        "bytes": verified.bytes, "exports": len(exports)})

    async def _flag(self, cand: _Candidate, problem: str, now: datetime) -> None:
        detail = f"past retention but its hash chain does not verify ({problem}); kept"

        def upsert(session: Session) -> bool:
            row = session.get(RetentionFlag, cand.id)
            if row is not None:
                row.checked_at, row.problem = now, detail
                return False
            session.add(RetentionFlag(recording_id=cand.id, flagged_at=now, checked_at=now,
                                      problem=detail))
            return True

        first = await self.db.run(upsert)
        log.error("recording %d %s", cand.id, detail)
        if not first:
            return
        self.bus.post(Event(
            "alert.raised", Target(kind="alert", court=cand.court, room=cand.room),
            {"source": "recorder", "severity": "critical", "recording": cand.id,
             "message": f"recording {detail}"}, action="alert.view"))
        if self.audit is not None:
            await self.audit.record(SYSTEM, "recording.retention.flag", f"recording:{cand.id}",
                                    court=cand.court, detail={"problem": problem})

    def _remove_files(self, directory: str, exports: list[str]) -> None:
        """The recording's segment and init files, its emptied folders, its export files."""
        root = self.root.resolve()
        folder = (root / directory).resolve()
        if folder != root and folder.is_relative_to(root) and folder.is_dir():
            for entry in os.scandir(folder):
                name = entry.name
                if entry.is_file() and (SEGMENT_NAME.match(name) or INIT_NAME.match(name)
                                        or name.endswith(TEMP_SUFFIX)):
                    os.unlink(entry.path)
            for parent in (folder, *folder.parents):  # up to the root, while empty
                if parent == root or not parent.is_relative_to(root):
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break
        for name in exports:
            (self.exports.folder / name).unlink(missing_ok=True)

    async def _expire_exports(self, now: datetime) -> int:
        cutoff = now - timedelta(days=self.settings.export_days)

        def expire(session: Session) -> list[str]:
            names = list(session.scalars(select(ExportJob.file_name).where(
                ExportJob.finished_at < cutoff, ExportJob.file_name != "")))
            if names:
                session.execute(update(ExportJob).where(ExportJob.file_name.in_(names)).values(
                    file_name="", detail="file removed after the export retention"))
            return names

        names = await self.db.run(expire)
        for name in names:
            (self.exports.folder / name).unlink(missing_ok=True)
        return len(names)
