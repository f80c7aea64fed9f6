"""Export routes: ask for a range as one MP4 file, follow its progress, download it.

Exports need `recording.export` on the recording (presidents, admins); a caller who may not
see the recording at all gets 404. Every request for an export and every download is audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.errors import ApiError
from control.http import core_of, read_json
from control.iso8601 import MILLIS, iso, parse_iso
from control.policy import Principal
from recorder.access import (
    audit,
    byte_range,
    path_id,
    reason_field,
    recorder,
    recording_for,
    withheld,
)
from recorder.exports import export_json
from recorder.models import ExportJob, Recording, Segment
from recorder.playback import recorded_span
from recorder.portions import Withheld

routes = web.RouteTableDef()

MAX_EXPORT: Final = timedelta(hours=24)
MAX_LISTED: Final = 100


async def _job(request: web.Request) -> tuple[Principal, Recording, ExportJob]:
    who, rec = await recording_for(request, "recording.export")
    job_id = path_id(request, "export_id")
    job = None
    if job_id is not None:
        job = await core_of(request).db.run(lambda s: s.get(ExportJob, job_id))
    if job is None or job.recording_id != rec.id:
        raise ApiError(404, "no such export")
    return who, rec, job


@routes.post("/api/recordings/{id}/exports")
async def create_export(request: web.Request) -> web.Response:
    who, rec = await recording_for(request, "recording.export")
    body = await read_json(request)
    reason = reason_field(body)
    start, end = parse_iso(body.get("from"), "from"), parse_iso(body.get("to"), "to")
    if end <= start:
        raise ApiError(400, "'to' must be after 'from'")
    if end - start > MAX_EXPORT:
        raise ApiError(400, f"an export covers at most {MAX_EXPORT.total_seconds() / 3600:g} h")
    svc = core_of(request)
    span = await svc.db.run(lambda s: recorded_span(s, rec.id))
    if span is None or start >= span[1] or end <= span[0]:
        raise ApiError(400, "the range is outside the recording",
                       {"recorded": [iso(t, MILLIS) for t in span] if span else None})
    start, end = max(start, span[0]), min(end, span[1])
    hidden = await withheld(request, who, rec)
    queue = recorder(request).exports
    job = await queue.submit(rec, await recorder(request).target(rec), who.username, reason,
                             start, end, hidden.covers)
    await audit(request, who, "recording.export", rec.id, rec.court, {
        "export": job.id, "reason": reason, "from": iso(start, MILLIS), "to": iso(end, MILLIS),
        "segments": job.segments, "omitted": len(job.omitted)})
    return web.json_response(export_json(job), status=202,
                             headers={"Location": f"/api/recordings/{rec.id}/exports/{job.id}"})


@routes.get("/api/recordings/{id}/exports")
async def list_exports(request: web.Request) -> web.Response:
    _who, rec = await recording_for(request, "recording.export")
    rows = await core_of(request).db.run(lambda s: list(s.scalars(
        select(ExportJob).where(ExportJob.recording_id == rec.id)
        .order_by(ExportJob.id.desc()).limit(MAX_LISTED))))
    progress = recorder(request).exports.progress
    return web.json_response({"items": [export_json(j, progress.get(j.id)) for j in rows]})


@routes.get("/api/recordings/{id}/exports/{export_id}")
async def export_status(request: web.Request) -> web.Response:
    _who, _rec, job = await _job(request)
    return web.json_response(export_json(job, recorder(request).exports.progress.get(job.id)))


@routes.get("/api/recordings/{id}/exports/{export_id}/file")
async def export_file(request: web.Request) -> web.StreamResponse:
    who, rec, job = await _job(request)
    if job.state != "done":
        raise ApiError(409, "the export is not finished", {"state": job.state})
    path = recorder(request).exports.path_of(job)
    if path is None:
        raise ApiError(410, "the export file has been removed")
    hidden = await withheld(request, who, rec)
    if hidden:  # someone entitled to less than the exporter: only a file without it
        plan_omits = set(job.omitted or [])
        covered = await core_of(request).db.run(lambda s: _sequences_in(s, rec, job, hidden))
        if not covered <= plan_omits:
            raise ApiError(404, "no such export")
    wanted = byte_range(request, path.stat().st_size)
    if wanted.start in (None, 0):  # one audit row per download, not per resumed piece
        await audit(request, who, "recording.export.download", rec.id, rec.court, {
            "export": job.id, "bytes": job.bytes, "sha256": job.sha256})
    stamp = (job.start_at or job.from_at).strftime("%Y%m%dT%H%M%SZ")
    name = f"recording-{rec.id}-{rec.room}-{stamp}.mp4"
    return web.FileResponse(path, headers={
        "Content-Type": "video/mp4", "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-SHA256": job.sha256 or ""})


def _sequences_in(session: Session, rec: Recording, job: ExportJob,
                  hidden: Withheld) -> set[int]:
    """Sequences of the export's range that `hidden` withholds."""
    rows = session.execute(select(Segment.sequence, Segment.start_at, Segment.end_at).where(
        Segment.recording_id == rec.id, Segment.end_at > job.from_at,
        Segment.start_at < job.to_at)).all()
    return {seq for seq, start, end in rows if hidden.covers(start, end)}
