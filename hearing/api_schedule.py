"""Day and week schedule views per court subtree or courtroom, in the courts' local day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from control.http import core_of, require_user
from control.iso8601 import iso
from hearing.access import reach
from hearing.errors import HearingError
from hearing.http import court_scope, desk, reply, room_scope
from hearing.schedule import HearingQuery, schedule_view

routes = web.RouteTableDef()

MAX_ROWS = 5000
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def utc_offset(raw: str | None, default: timedelta) -> timedelta:
    """`+08:00` style offsets (within ±14 h); the service's default when absent."""
    if not raw:
        return default
    m = _OFFSET.match(raw.replace(" ", "+"))  # an unencoded '+' arrives as a space
    if m is None or int(m.group(2)) > 14 or int(m.group(3)) >= 60:
        raise HearingError(400, "query parameter 'tz' must be an offset such as +08:00")
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return timedelta(minutes=-minutes if m.group(1) == "-" else minutes)


def window(day: str | None, week: str | None, offset: timedelta) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local day (YYYY-MM-DD) or week (YYYY-Www, or a day in it)."""
    if bool(day) == bool(week):
        raise HearingError(400, "give exactly one of 'day' (YYYY-MM-DD) or 'week' (YYYY-Www)")
    try:
        if day:
            first, length = date.fromisoformat(day), 1
        else:
            assert week is not None
            m = _ISO_WEEK.match(week)
            if m:
                first = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
            else:
                some = date.fromisoformat(week)
                first = some - timedelta(days=some.weekday())
            length = 7
    except ValueError:
        raise HearingError(400, "not a valid day or week", {"day": day, "week": week}) from None
    local = datetime(first.year, first.month, first.day, tzinfo=timezone(offset))
    start = local.astimezone(UTC)
    return start, start + timedelta(days=length)


def _tz_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@routes.get("/api/schedule")
async def schedule(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    where = reach(svc.policy, who)
    offset = utc_offset(request.query.get("tz"), desk(request).utc_offset)
    start, end = window(request.query.get("day"), request.query.get("week"), offset)
    q = HearingQuery(courts=court_scope(request, where), room=room_scope(request, where),
                     starts=start, ends=end, limit=MAX_ROWS)

    def view(session: Session) -> list[dict[str, Any]]:
        return schedule_view(session, svc.policy, who, where, svc.registry, q)

    rooms = await svc.db.run(view)
    body = {"court": request.query.get("court") or None, "room": q.room, "from": iso(start),
            "to": iso(end), "tz": _tz_text(offset), "rooms": rooms,
            "total": sum(len(r["hearings"]) for r in rooms)}
    return reply(body)
