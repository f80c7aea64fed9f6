"""Request helpers the recorder's route modules share: the recording in the path (policy
checked, 404 when not visible), what of it is withheld from the caller, byte ranges of files,
reasons and audit."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from sqlalchemy import select

from control.errors import ApiError
from control.http import client_address, core_of, field, path_number, require, require_user
from control.policy import Principal
from recorder.models import Recording, Segment
from recorder.portions import Withheld, load_portions, withheld_for
from recorder.service import RECORDER, RecorderService
from recorder.storage import INIT_NAME, SEGMENT_NAME

MAX_ID_DIGITS: Final = 12
REASON_MIN: Final = 4
REASON_MAX: Final = 500


def recorder(request: web.Request) -> RecorderService:
    return request.config_dict[RECORDER]


def path_id(request: web.Request, name: str) -> int | None:
    """A numeric id from the path, or None when it is not one (the caller answers 404)."""
    return path_number(request, name, MAX_ID_DIGITS)


def query_text(request: web.Request, name: str, max_len: int = 64) -> str | None:
    raw = request.query.get(name, "").strip()
    if len(raw) > max_len:
        raise ApiError(400, f"query parameter {name!r} is longer than {max_len} characters")
    return raw or None


async def visible_recording(request: web.Request) -> tuple[Principal, Recording]:
    """The recording named in the path, if the caller may view it; 401/404 otherwise."""
    rec_id = path_id(request, "id")
    rec = None
    if rec_id is not None:
        rec = await core_of(request).db.run(lambda s: s.get(Recording, rec_id))
    if rec is None:
        await require_user(request)
        raise ApiError(404, "not found")
    who = await require(request, "recording.view", await recorder(request).target(rec), hide=True)
    return who, rec


async def recording_for(request: web.Request, action: str) -> tuple[Principal, Recording]:
    """The recording named in the path if the caller may view it (404) and `action` it (403)."""
    who, rec = await visible_recording(request)
    await require(request, action, await recorder(request).target(rec))
    return who, rec


def byte_range(request: web.Request, size: int) -> slice:
    """The request's Range over a file of `size` bytes; 416 when it is malformed or past the
    end (FileResponse then serves it)."""
    try:
        wanted = request.http_range
    except ValueError:
        raise ApiError(416, "malformed Range header",
                       headers={"Content-Range": f"bytes */{size}"}) from None
    if wanted.start is not None and (wanted.start >= size or wanted.start < -size):
        raise ApiError(416, "range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return wanted


async def withheld(request: web.Request, who: Principal, rec: Recording) -> Withheld:
    """The spans of `rec` withheld from `who` (sealed or confidential portions)."""
    portions = await core_of(request).db.run(lambda s: load_portions(s, rec.id))
    if not portions:
        return Withheld()
    return withheld_for(core_of(request).policy, who, await recorder(request).target(rec), portions)


async def segment_response(request: web.Request, rec: Recording, hidden: Withheld,
                           cache: str) -> web.FileResponse:
    """The segment or init file `name` of `rec`, with ranges; 404 for anything else: names
    that are not ours, paths outside the recordings root, segments not (or no longer) indexed
    and segments in a span withheld from the caller (as if absent)."""
    name = request.match_info["name"]
    seg = SEGMENT_NAME.match(name)
    if seg is None and INIT_NAME.match(name) is None:
        raise ApiError(404, "not found")
    root = recorder(request).root.resolve()
    path = (root / rec.directory / name).resolve()
    if not rec.directory or not path.is_relative_to(root) or not path.is_file():
        raise ApiError(404, "not found")
    if seg is not None:
        sequence = int(seg.group(1))
        indexed = await core_of(request).db.run(lambda s: s.execute(
            select(Segment.start_at, Segment.end_at).where(
                Segment.recording_id == rec.id, Segment.sequence == sequence,
                Segment.missing.is_(False))).first())
        if indexed is None or hidden.covers(indexed[0], indexed[1]):
            raise ApiError(404, "not found")
    byte_range(request, path.stat().st_size)
    return web.FileResponse(path, headers={
        "Content-Type": "video/iso.segment" if seg is not None else "video/mp4",
        "Cache-Control": cache})


def reason_field(body: dict[str, Any], name: str = "reason") -> str:
    """A required free-text reason, 4 to 500 characters once trimmed."""
    text = field(body, name, str, max_len=REASON_MAX * 2)
    text = text.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise ApiError(400, f"field {name!r} must be {REASON_MIN} to {REASON_MAX} characters")
    return str(text)


async def audit(request: web.Request, who: Principal, action: str, rec_id: int | str,
                court: str | None, detail: dict[str, Any]) -> None:
    await core_of(request).audit.record(who, action, f"recording:{rec_id}", court=court,
                                         address=client_address(request), detail=detail)
