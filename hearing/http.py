"""Request plumbing of the hearing routes: ids in paths, court and room scopes, text fields,
JSON replies in the wire format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from control.http import core_of, field, path_number
from control.province import COURT_CODE, ROOM_CODE
from hearing.access import Reach
from hearing.errors import HearingError
from hearing.service import HEARINGS, HearingService
from hearing.wire import dumps

MAX_ID = 2**62
NO_STORE: Final = {"Cache-Control": "no-store"}


def desk(request: web.Request) -> HearingService:
    return request.config_dict[HEARINGS]


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer id from the path; anything else names nothing (404)."""
    value = path_number(request, name, 18)
    if value is None or value > MAX_ID:
        raise HearingError(404, "not found")
    return value


def court_scope(request: web.Request, reach: Reach) -> frozenset[str] | None:
    """The `court` query as that court's subtree within reach; 404 for one out of reach."""
    court = request.query.get("court", "")
    if not court:
        return None
    registry = core_of(request).registry
    if not COURT_CODE.match(court) or court not in reach.courts:
        raise HearingError(404, "unknown court", {"court": court[:32]})
    return registry.subtree(court) & reach.courts


def room_scope(request: web.Request, reach: Reach) -> str | None:
    """The `room` query if it names a courtroom of a court within reach; 404 otherwise."""
    room = request.query.get("room", "")
    if not room:
        return None
    info = core_of(request).registry.rooms.get(room) if ROOM_CODE.match(room) else None
    if info is None or info.court not in reach.courts:
        raise HearingError(404, "unknown courtroom", {"room": room[:32]})
    return room


def text(body: dict[str, Any], name: str, max_len: int, required: bool = False,
         default: str = "") -> str:
    """A text field, stored verbatim (pages escape it; the API only ever returns JSON)."""
    value = field(body, name, str, required=required, max_len=max_len)
    return default if value is None else value


def optional_name(body: dict[str, Any], name: str) -> str | None:
    value = field(body, name, str, required=False, max_len=64)
    return value or None


def reply(body: Any, status: int = 200,
          headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response in the wire format (Chinese stays readable)."""
    return web.json_response(body, status=status, dumps=dumps, headers=headers)


def no_store_reply(body: Any, status: int = 200) -> web.Response:
    """A JSON response no cache on the way may keep: it may carry a credential or a ticket."""
    return reply(body, status, NO_STORE)
