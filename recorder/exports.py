"""Export jobs: a time range of a recording remuxed into one MP4 file, in the background.

A job is a row (`ExportJob`) and, while it runs, a task on the event loop that hands the remux
(recorder/exportmux.py) to a small thread pool of its own; its progress is kept in memory,
published on the bus as `recording.export` events and written to the row at each tenth. Files
live under `<data_dir>/exports/` (never served directly: the download route checks access).
A restart fails the jobs it interrupted; their partial files are removed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from control.bus import Event, EventBus
from control.db import Database, utcnow
from control.errors import ApiError
from control.iso8601 import MILLIS, iso
from control.policy import Target
from recorder.exportmux import ExportCancelled, ExportError, ExportPart, MuxResult, remux
from recorder.models import ExportJob, Recording, Segment
from recorder.storage import file_sha256

log = logging.getLogger(__name__)

MAX_ACTIVE: Final = 16  # queued or running exports on this node
MAX_ACTIVE_PER_USER: Final = 3
WORKERS: Final = 1  # remuxing is I/O bound; one at a time leaves the cores to live media
HASH_SHARE: Final = 5  # percent of the progress bar that hashing the file takes


class ExportRefused(ApiError):
    """The export cannot be queued: `status` is the HTTP status to answer with."""


@dataclass(frozen=True)
class ExportPlan:
    """The segments an export copies, and those it leaves out."""

    parts: tuple[ExportPart, ...]
    omitted: tuple[int, ...]


def plan_export(session: Session, root: Path, rec: Recording, start: datetime, end: datetime,
                withheld: Callable[[datetime, datetime], bool]) -> ExportPlan:
    """The indexed segments overlapping [start, end), minus missing and withheld ones."""
    rows = session.execute(
        select(Segment.sequence, Segment.path, Segment.init_name, Segment.start_at,
               Segment.end_at, Segment.missing)
        .where(Segment.recording_id == rec.id, Segment.end_at > start, Segment.start_at < end)
        .order_by(Segment.sequence)).all()
    parts: list[ExportPart] = []
    omitted: list[int] = []
    for seq, path, init_name, s_start, s_end, missing in rows:
        if missing or withheld(s_start, s_end):
            omitted.append(seq)
            continue
        file = root / path
        parts.append(ExportPart(seq, file, file.parent / init_name,
                                (s_start - rec.started_at).total_seconds(),
                                (s_end - rec.started_at).total_seconds()))
    return ExportPlan(tuple(parts), tuple(omitted))


def export_json(job: ExportJob, percent: int | None = None) -> dict[str, Any]:
    base = f"/api/recordings/{job.recording_id}/exports/{job.id}"
    duration = (job.end_at - job.start_at).total_seconds() if job.start_at and job.end_at \
        else None
    return {
        "id": job.id, "recording": job.recording_id, "state": job.state,
        "percent": job.percent if percent is None else percent, "reason": job.reason,
        "requested_by": job.requested_by,
        "from": iso(job.from_at, MILLIS), "to": iso(job.to_at, MILLIS),
        "start": iso(job.start_at, MILLIS), "end": iso(job.end_at, MILLIS),
        "duration": round(duration, 3) if duration is not None else None,
        "segments": job.segments, "omitted": len(job.omitted or []), "bytes": job.bytes,
        "sha256": job.sha256, "detail": job.detail, "created_at": iso(job.created_at, MILLIS),
        "finished_at": iso(job.finished_at, MILLIS), "url": base,
        "file": f"{base}/file" if job.state == "done" else None,
    }


class ExportQueue:
    """Runs export jobs of one node; see the module docstring. `folder` defaults to `exports/`
    beside the recordings folder (the app passes `<data_dir>/exports`)."""

    def __init__(self, db: Database, bus: EventBus, root: Path,
                 folder: Path | None = None) -> None:
        self.db = db
        self.bus = bus
        self.root = root
        self.folder = folder or root.parent / "exports"
        self.progress: dict[int, int] = {}  # job id -> percent, while it runs
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = threading.Event()

    def path_of(self, job: ExportJob) -> Path | None:
        """The file of a finished job, if it is still there."""
        if job.state != "done" or not job.file_name:
            return None
        path = self.folder / job.file_name
        return path if path.is_file() else None

    async def start(self) -> None:
        """Fail the jobs a stop interrupted and remove their partial files."""
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="export")

        def fail_interrupted(session: Session) -> int:
            result = session.execute(
                update(ExportJob).where(ExportJob.state.in_(("queued", "running")))
                .values(state="failed", detail="interrupted: the server stopped",
                        finished_at=utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

        count = await self.db.run(fail_interrupted)
        if count:
            log.warning("%d export(s) interrupted by a restart marked failed", count)
        if self.folder.is_dir():
            for leftover in self.folder.glob("*.part"):
                leftover.unlink(missing_ok=True)

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def submit(self, rec: Recording, target: Target, who: str, reason: str,
                     start: datetime, end: datetime,
                     withheld: Callable[[datetime, datetime], bool]) -> ExportJob:
        """Queue an export of [start, end) of `rec`; ExportRefused when it cannot be."""
        if self._pool is None:
            raise ExportRefused(503, "exports are not available (the recorder is stopped)")
        root = self.root

        def create(session: Session) -> tuple[ExportJob, ExportPlan]:
            busy = session.execute(
                select(ExportJob.requested_by, func.count()).where(
                    ExportJob.state.in_(("queued", "running"))
                ).group_by(ExportJob.requested_by)).all()
            if sum(n for _u, n in busy) >= MAX_ACTIVE or any(
                    u == who and n >= MAX_ACTIVE_PER_USER for u, n in busy):
                raise ExportRefused(429, "too many exports in progress; wait for one to finish")
            plan = plan_export(session, root, rec, start, end, withheld)
            if not plan.parts:
                raise ExportRefused(400, "nothing in the range can be exported")
            job = ExportJob(recording_id=rec.id, requested_by=who, reason=reason, from_at=start,
                            to_at=end, state="queued", segments=len(plan.parts),
                            omitted=list(plan.omitted))
            session.add(job)
            session.flush()
            job.file_name = f"export-{job.id:06d}.mp4"
            return job, plan

        job, plan = await self.db.run(create)
        self._publish(job, target)
        task = asyncio.get_running_loop().create_task(self._run(job, plan, rec, target))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, job: ExportJob, plan: ExportPlan, rec: Recording,
                   target: Target) -> None:
        loop = asyncio.get_running_loop()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.progress[job.id] = 0
        await self._save(job, state="running")
        self._publish(job, target)
        last_step = 0

        def moved(fraction: float) -> None:  # on the event loop
            nonlocal last_step
            percent = min(100 - HASH_SHARE, int(fraction * (100 - HASH_SHARE)))
            if percent <= self.progress.get(job.id, 0):
                return
            self.progress[job.id] = percent
            self._publish(job, target, percent)
            if percent // 10 > last_step:  # the row follows at each tenth
                last_step = percent // 10
                self._spawn(self._save_percent(job.id, percent))

        def tell(fraction: float) -> None:  # on the worker thread
            loop.call_soon_threadsafe(moved, fraction)

        def work() -> tuple[MuxResult, str]:
            origin = rec.started_at
            result = remux(plan.parts, (job.from_at - origin).total_seconds(),
                           (job.to_at - origin).total_seconds(), self.folder / job.file_name,
                           tell, self._stopping.is_set)
            sha, _size = file_sha256(self.folder / job.file_name)
            return result, sha

        try:
            assert self._pool is not None
            result, sha = await loop.run_in_executor(self._pool, work)
        except (ExportError, ExportCancelled, OSError) as exc:
            detail = "the server stopped" if isinstance(exc, ExportCancelled) else str(exc)
            log.warning("export %d of recording %d failed: %s", job.id, rec.id, detail)
            await self._save(job, state="failed", detail=detail[:256], finished_at=utcnow())
        except Exception as exc:
            log.exception("export %d of recording %d failed", job.id, rec.id)
            await self._save(job, state="failed", detail=f"{type(exc).__name__}"[:256],
                             finished_at=utcnow())
        else:
            origin = rec.started_at
            await self._save(job, state="done", percent=100, bytes=result.bytes, sha256=sha,
                             start_at=origin + timedelta(seconds=result.start_s),
                             end_at=origin + timedelta(seconds=result.end_s),
                             finished_at=utcnow())
        finally:
            self.progress.pop(job.id, None)
        self._publish(job, target)

    async def _save(self, job: ExportJob, **values: Any) -> None:
        for key, value in values.items():  # the caller's copy follows the row
            setattr(job, key, value)
        job_id = job.id
        await self.db.run(lambda s: s.execute(
            update(ExportJob).where(ExportJob.id == job_id).values(**values)))

    async def _save_percent(self, job_id: int, percent: int) -> None:
        await self.db.run(lambda s: s.execute(
            update(ExportJob).where(ExportJob.id == job_id, ExportJob.state == "running")
            .values(percent=percent)))

    def _publish(self, job: ExportJob, target: Target, percent: int | None = None) -> None:
        self.bus.post(Event("recording.export", target, {
            "recording": job.recording_id, "export": job.id, "state": job.state,
            "percent": job.percent if percent is None else percent, "bytes": job.bytes,
            "sha256": job.sha256, "by": job.requested_by}, action="recording.export"))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
