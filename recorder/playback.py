"""Playback over the index: search, time-range parsing and HLS VOD playlists (RFC 8216).

A playlist is built from a single indexed query of a few columns, so a 3-hour recording
(1,800 six-second segments) takes milliseconds. `EXT-X-PROGRAM-DATE-TIME` on every segment
lets players show the true wall-clock time, which court rules require and which we never
burn into the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import String, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from control.iso8601 import MILLIS, iso, parse_iso
from recorder.models import Marker, Portion, Recording, Segment

MAX_OFFSET_S: Final = 31 * 24 * 3600.0  # no recording is longer than a month
DISCONTINUITY_GAP_S: Final = 0.5
MAX_POINT_LEN: Final = 40


def parse_point(raw: str, name: str, origin: datetime) -> datetime:
    """Seconds from `origin` (e.g. `90.5`) or an ISO 8601 time, as a UTC datetime."""
    text = raw.strip()
    if len(text) > MAX_POINT_LEN or not text:
        raise ValueError(f"{name} is empty or too long")
    if "T" not in text and ":" not in text:
        try:
            seconds = float(text)
        except ValueError:
            raise ValueError(f"{name} must be seconds from the start or an ISO 8601 time") \
                from None
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_OFFSET_S:
            raise ValueError(f"{name} is out of range (0 to {int(MAX_OFFSET_S)} seconds)")
        return origin + timedelta(seconds=seconds)
    return parse_iso(text, name)


@dataclass(frozen=True)
class SearchQuery:
    """Filters of a recording search; `courts`/`hearings` None means unrestricted."""

    courts: frozenset[str] | None = None
    hearings: frozenset[str] | None = None
    room: str | None = None
    hearing: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    marker: str | None = None
    text: str | None = None
    skip_withheld: bool = False  # markers in sealed or confidential portions do not match
    limit: int = 50
    offset: int = 0


def search_recordings(session: Session, q: SearchQuery) -> tuple[int, list[Recording]]:
    """(total matching, one page) of recordings, newest first."""
    conds: list[Any] = []
    if q.courts is not None:
        conds.append(Recording.court.in_(sorted(q.courts)))
    if q.hearings is not None:
        conds.append(Recording.hearing_ref.in_(sorted(q.hearings)))
    if q.room:
        conds.append(Recording.room == q.room)
    if q.hearing:
        conds.append(Recording.hearing_ref == q.hearing)
    if q.end is not None:
        conds.append(Recording.started_at < q.end)
    if q.start is not None:
        conds.append(or_(Recording.ended_at.is_(None), Recording.ended_at > q.start))
    if q.marker or q.text:
        m = [Marker.recording_id == Recording.id]
        if q.marker:
            m.append(Marker.kind == q.marker)
        if q.text:
            m.append(Marker.text.contains(q.text, autoescape=True))
        if q.skip_withheld:  # a marker inside a withheld portion is not found by it
            m.append(~exists().where(Portion.recording_id == Marker.recording_id,
                                     Portion.start_at <= Marker.at, Portion.end_at > Marker.at))
        conds.append(exists().where(*m))
    total = session.scalar(select(func.count()).select_from(Recording).where(*conds)) or 0
    page = session.scalars(
        select(Recording).where(*conds)
        .order_by(Recording.started_at.desc(), Recording.id.desc())
        .limit(q.limit).offset(q.offset)
    )
    return total, list(page)


def recording_json(rec: Recording) -> dict[str, Any]:
    end = rec.ended_at
    return {
        "id": rec.id, "room": rec.room, "feed": rec.feed, "court": rec.court,
        "hearing": rec.hearing_ref, "state": rec.state, "detail": rec.detail,
        "started_at": iso(rec.started_at, MILLIS), "ended_at": iso(end, MILLIS),
        "duration": round((end - rec.started_at).total_seconds(), 3) if end else None,
        "segments": rec.segment_count, "bytes": rec.bytes, "legal_hold": rec.legal_hold,
        "head_sha256": rec.head_sha256, "started_by": rec.started_by,
        "playlist": f"/api/recordings/{rec.id}/playlist.m3u8",
    }


def marker_json(m: Marker) -> dict[str, Any]:
    return {"id": m.id, "recording": m.recording_id, "hearing": m.hearing_ref,
            "at": iso(m.at, MILLIS),
            "kind": m.kind, "text": m.text, "author": m.author}


def recorded_span(session: Session, recording_id: int) -> tuple[datetime, datetime] | None:
    """Start of the first and end of the last indexed segment, or None if there are none."""
    row = session.execute(
        select(func.min(Segment.start_at), func.max(Segment.end_at))
        .where(Segment.recording_id == recording_id)
    ).one()
    return (row[0], row[1]) if row[0] is not None else None


def _stamp(raw: str | datetime) -> str:
    """ISO 8601 of a time column read without conversion (SQLite gives its stored text)."""
    if isinstance(raw, str):  # "YYYY-MM-DD HH:MM:SS.ffffff", UTC (see control.db.UTCDateTime)
        return f"{raw[:10]}T{raw[11:23]}Z"
    return iso(raw, MILLIS)


def _instant(raw: str | datetime) -> datetime:
    if isinstance(raw, str):
        return parse_iso(raw, "stored time", naive_is_utc=True)
    return raw if raw.tzinfo else raw.replace(tzinfo=UTC)


def build_playlist(session: Session, rec: Recording, start: datetime | None,
                   end: datetime | None,
                   hidden: Sequence[tuple[datetime, datetime]] = ()) -> tuple[str, int]:
    """The HLS media playlist of `rec` between `start` and `end`; (text, segment count).

    Segments overlapping a `hidden` span (withheld portions) are left out like missing ones:
    the player is told of the discontinuity and skips across."""
    conds = [Segment.recording_id == rec.id]
    if start is not None:
        conds.append(Segment.end_at > start)
    if end is not None:
        conds.append(Segment.start_at < end)
    # Times are read as stored and formatted by slicing: converting 1,800 rows to datetimes
    # and back would be most of the cost of a 3-hour playlist.
    rows: Sequence[tuple[int, Any, Any, float, str, bool]] = session.connection().execute(
        # Core rows: no ORM loading machinery per row
        select(Segment.sequence, type_coerce(Segment.start_at, String),
               type_coerce(Segment.end_at, String), Segment.duration, Segment.init_name,
               Segment.missing)
        .where(*conds).order_by(Segment.sequence)
    ).all()
    if hidden:
        rows = [(seq, at, end_at, duration, init_name, missing or any(
            _instant(at) < h_end and _instant(end_at) > h_start for h_start, h_end in hidden))
            for seq, at, end_at, duration, init_name, missing in rows]
    live = rec.state == "recording" and (end is None or not rows or _instant(rows[-1][2]) < end)
    target = max((math.ceil(r[3]) for r in rows), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(1, target)}",
             f"#EXT-X-MEDIA-SEQUENCE:{rows[0][0] if rows else 1}",
             f"#EXT-X-PLAYLIST-TYPE:{'EVENT' if live else 'VOD'}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    first = next((r for r in rows if not r[5]), None)
    if first is not None and start is not None:
        lead = (start - _instant(first[1])).total_seconds()
        if lead > 0.05:
            lines.append(f"#EXT-X-START:TIME-OFFSET={lead:.3f},PRECISE=YES")
    add = lines.append
    init: str | None = None
    prev_end: str | datetime | None = None
    broken = False
    for seq, at, end_at, duration, init_name, missing in rows:
        if missing:
            broken = True  # a flagged segment is left out; the player skips across it
            continue
        # Abutting segments share the exact stored instant; only a mismatch is parsed.
        if init is not None and (init_name != init or broken or (
                at != prev_end and prev_end is not None and (
                    _instant(at) - _instant(prev_end)).total_seconds() > DISCONTINUITY_GAP_S)):
            add("#EXT-X-DISCONTINUITY")
        if init_name != init:
            add(f'#EXT-X-MAP:URI="segments/{init_name}"')
            init = init_name
        add(f"#EXT-X-PROGRAM-DATE-TIME:{_stamp(at)}\n#EXTINF:{duration:.3f},\n"
            f"segments/{seq:06d}.m4s")
        prev_end, broken = end_at, False
    if not live:
        add("#EXT-X-ENDLIST")
    add("")
    return "\n".join(lines), len(rows)
