"""Portion routes: mark a range confidential or sealed, list and lift them; the timeline.

Marking and lifting need `recording.seal` (presidents, admins, judges on the bench) and are
audited with their reason. The timeline is what a player draws: segments (with their audio
level), markers and the withheld spans, each as the caller may see them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from control.bus import Event
from control.db import utcnow
from control.errors import ApiError
from control.http import core_of, field, read_json
from control.iso8601 import MILLIS, iso
from recorder.access import (
    audit,
    path_id,
    reason_field,
    recorder,
    recording_for,
    visible_recording,
    withheld,
)
from recorder.models import PORTION_LEVELS, Marker, Portion, Recording, Segment
from recorder.playback import marker_json, parse_point, recorded_span
from recorder.portions import load_portions, portion_json, withheld_json

routes = web.RouteTableDef()

MAX_PORTIONS: Final = 200  # per recording
MAX_TIMELINE: Final = 20_000  # segments (a month of 6 s segments is ~450k; a day is 14k)
MAX_MARKERS: Final = 2000
SLACK: Final = timedelta(seconds=1)


async def _publish(request: web.Request, rec: Recording, kind: str,
                   data: dict[str, object]) -> None:
    # Only those who may seal learn the details; viewers learn it from the timeline.
    core_of(request).bus.post(Event(kind, await recorder(request).target(rec),
                                        {"recording": rec.id, **data},
                                        action="recording.seal"))


@routes.post("/api/recordings/{id}/portions")
async def add_portion(request: web.Request) -> web.Response:
    who, rec = await recording_for(request, "recording.seal")
    body = await read_json(request)
    level = field(body, "level", str, max_len=16)
    if level not in PORTION_LEVELS:
        raise ApiError(400, "unknown level", {"allowed": list(PORTION_LEVELS)})
    reason = reason_field(body)
    try:
        start = parse_point(field(body, "from", str, max_len=40), "from", rec.started_at)
        end = parse_point(field(body, "to", str, max_len=40), "to", rec.started_at)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if end <= start:
        raise ApiError(400, "'to' must be after 'from'")
    svc = core_of(request)
    span = await svc.db.run(lambda s: recorded_span(s, rec.id))
    low, high = span or (rec.started_at, rec.started_at)
    if rec.state == "recording":  # what is being recorded now may be withheld at once
        high = max(high, utcnow())
    if start < low - SLACK or end > high + SLACK:
        raise ApiError(400, "the range is outside the recording",
                       {"recorded": [iso(t, MILLIS) for t in span] if span else None})

    def add(session: Session) -> Portion:
        count = session.scalar(select(func.count()).select_from(Portion)
                               .where(Portion.recording_id == rec.id)) or 0
        if count >= MAX_PORTIONS:
            raise ApiError(409, f"a recording has at most {MAX_PORTIONS} portions")
        portion = Portion(recording_id=rec.id, start_at=start, end_at=end, level=level,
                          reason=reason, created_by=who.username)
        session.add(portion)
        session.flush()
        return portion

    portion = await svc.db.run(add)
    await audit(request, who, "recording.seal", rec.id, rec.court, {
        "portion": portion.id, "level": level, "from": iso(start, MILLIS), "to": iso(end, MILLIS),
        "reason": reason})
    await _publish(request, rec, "recording.portion", {
        "portion": portion.id, "level": level, "from": iso(start, MILLIS), "to": iso(end, MILLIS)})
    return web.json_response(portion_json(portion), status=201)


@routes.get("/api/recordings/{id}/portions")
async def list_portions(request: web.Request) -> web.Response:
    _who, rec = await recording_for(request, "recording.seal")
    rows = await core_of(request).db.run(lambda s: load_portions(s, rec.id))
    return web.json_response({"items": [portion_json(p) for p in rows]})


@routes.delete("/api/recordings/{id}/portions/{pid}")
async def lift_portion(request: web.Request) -> web.Response:
    who, rec = await recording_for(request, "recording.seal")
    pid = path_id(request, "pid")
    body = await read_json(request) if request.can_read_body else {}
    reason = reason_field(body) if "reason" in body else ""

    def lift(session: Session) -> Portion | None:
        row = session.get(Portion, pid) if pid is not None else None
        if row is None or row.recording_id != rec.id:
            return None
        session.execute(delete(Portion).where(Portion.id == row.id))
        return row

    portion = await core_of(request).db.run(lift)
    if portion is None:
        raise ApiError(404, "no such portion")
    await audit(request, who, "recording.unseal", rec.id, rec.court, {
        "portion": portion.id, "level": portion.level, "from": iso(portion.start_at, MILLIS),
        "to": iso(portion.end_at, MILLIS), "reason": reason})
    await _publish(request, rec, "recording.portion.lifted", {"portion": portion.id})
    return web.json_response(portion_json(portion))


@routes.get("/api/recordings/{id}/timeline")
async def timeline(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    hidden = await withheld(request, who, rec)

    def load(session: Session) -> tuple[list[tuple[Any, ...]], list[Marker]]:
        segs = session.execute(
            select(Segment.sequence, Segment.start_at, Segment.end_at, Segment.audio_dbfs,
                   Segment.motion, Segment.missing)
            .where(Segment.recording_id == rec.id).order_by(Segment.sequence)
            .limit(MAX_TIMELINE)).all()
        marks = session.scalars(select(Marker).where(Marker.recording_id == rec.id)
                                .order_by(Marker.at).limit(MAX_MARKERS))
        return [tuple(r) for r in segs], list(marks)

    segs, marks = await core_of(request).db.run(load)
    segments = []
    for seq, start, end, dbfs, motion, missing in segs:
        hide = hidden.covers(start, end)
        segments.append({
            "sequence": seq, "start": iso(start, MILLIS), "end": iso(end, MILLIS),
            "duration": round((end - start).total_seconds(), 3),
            "audio_dbfs": None if hide else dbfs, "motion": None if hide else motion,
            "state": "withheld" if hide else "missing" if missing else "ok"})
    return web.json_response({
        "recording": rec.id,
        "started_at": iso(rec.started_at, MILLIS), "ended_at": iso(rec.ended_at, MILLIS),
        "state": rec.state, "segments": segments,
        "markers": [marker_json(m) for m in marks if not hidden.holds(m.at)],
        "withheld": withheld_json(hidden)})
