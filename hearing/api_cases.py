"""Cases API: file, read, change and search cases; add and list parties; preview redaction."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from control.http import (
    client_address,
    core_of,
    field,
    only_fields,
    query_int,
    read_fields,
    read_json,
    require_user,
)
from hearing import cases
from hearing.access import reach
from hearing.case_number import CASE_TYPES
from hearing.errors import HearingError
from hearing.http import court_scope, desk, optional_name, path_id, reply, text
from hearing.models import CASE_STATUSES
from hearing.redaction import Person, Redactor

routes = web.RouteTableDef()

MAX_PAGE = 200
MAX_REDACT_CHARS = 200_000
_CHANGEABLE = {"cause", "presiding_judge", "clerk", "status", "restriction"}
_PARTY_FIELDS = {"role", "kind", "name", "id_number", "phone", "address", "minor"}


def _party(raw: object) -> cases.PartyInput:
    if not isinstance(raw, dict):
        raise HearingError(400, "each party must be a JSON object")
    only_fields(raw, _PARTY_FIELDS)
    return cases.PartyInput(
        role=text(raw, "role", 24, required=True), kind=text(raw, "kind", 16, default="natural"),
        name=text(raw, "name", 128, required=True),
        id_number=field(raw, "id_number", str, required=False, max_len=32),
        phone=field(raw, "phone", str, required=False, max_len=32),
        address=field(raw, "address", str, required=False, max_len=256),
        minor=bool(field(raw, "minor", bool, required=False)),
    )


def _parties(raw: object) -> list[cases.PartyInput]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > cases.MAX_PARTIES:
        raise HearingError(400, f"'parties' must be a list of at most {cases.MAX_PARTIES}")
    return [_party(p) for p in raw]


@routes.post("/api/cases")
async def file_case(request: web.Request) -> web.Response:
    who = await require_user(request)
    body = await read_fields(request, {"number", "parties", "type", "court"} | _CHANGEABLE)
    number = text(body, "number", 64, required=True)
    parsed, court = desk(request).parse_number(number)
    # `type` and `court` are implied by the number; if given they must agree with it.
    if body.get("type") not in (None, parsed.case_type):
        raise HearingError(400, "type does not match the case number",
                           {"type": parsed.case_type})
    if body.get("court") not in (None, court):
        raise HearingError(400, "court does not match the case number", {"court": court})
    created = await desk(request).file_case(
        who, number, cause=text(body, "cause", 256), judge=optional_name(body, "presiding_judge"),
        clerk=optional_name(body, "clerk"), status=text(body, "status", 16, default="filed"),
        restriction=optional_name(body, "restriction"), parties=_parties(body.get("parties")),
        address=client_address(request),
    )
    return reply(created, 201)


@routes.get("/api/cases")
async def search(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    where = reach(svc.policy, who)
    status = request.query.get("status") or None
    if status is not None and status not in CASE_STATUSES:
        raise HearingError(400, "unknown status", {"allowed": list(CASE_STATUSES)})
    case_type = request.query.get("type") or None
    if case_type is not None and case_type not in CASE_TYPES:
        raise HearingError(400, "unknown type", {"allowed": list(CASE_TYPES)})
    number = "".join(request.query.get("number", "").split())
    party = request.query.get("party", "").strip()
    if len(number) > 64 or len(party) > 64:
        raise HearingError(400, "search text is longer than 64 characters")
    # Half-typed numbers match as text; ASCII brackets match the stored full-width ones.
    number = number.replace("(", "（").replace(")", "）")
    query = cases.CaseQuery(
        courts=court_scope(request, where), number=number, party=party, status=status,
        case_type=case_type, limit=query_int(request, "limit", 50, 1, MAX_PAGE),
        offset=query_int(request, "offset", 0, 0, 10_000_000),
    )
    page = await svc.db.run(functools.partial(
        cases.search_cases, policy=svc.policy, who=who, reach=where, query=query))
    return reply(page)


@routes.get("/api/cases/{id}")
async def read_case(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    case_id = path_id(request)
    return reply(await svc.db.run(functools.partial(
        cases.get_case, policy=svc.policy, who=who, case_id=case_id)))


@routes.patch("/api/cases/{id}")
async def change_case(request: web.Request) -> web.Response:
    who = await require_user(request)
    case_id = path_id(request)
    body = await read_json(request)
    if "number" in body:
        raise HearingError(400, "a case number never changes; file a new case instead")
    only_fields(body, _CHANGEABLE)
    changes: dict[str, Any] = {}
    if "cause" in body:
        changes["cause"] = text(body, "cause", 256)
    if "status" in body:
        changes["status"] = text(body, "status", 16, required=True)
    for key in ("presiding_judge", "clerk", "restriction"):
        if key in body:  # null clears the field
            changes[key] = optional_name(body, key)
    if not changes:
        raise HearingError(400, "nothing to change", {"allowed": sorted(_CHANGEABLE)})
    updated = await desk(request).change_case(who, case_id, changes, client_address(request))
    return reply(updated)


@routes.post("/api/cases/{id}/parties")
async def add_parties(request: web.Request) -> web.Response:
    who = await require_user(request)
    case_id = path_id(request)
    body = await read_json(request)
    parties = _parties(body["parties"]) if "parties" in body else [_party(body)]
    if not parties:
        raise HearingError(400, "no party given")
    added = await desk(request).add_parties(who, case_id, parties, client_address(request))
    return reply({"parties": added}, 201)


@routes.get("/api/cases/{id}/parties")
async def list_parties(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    case_id = path_id(request)
    parties = await svc.db.run(functools.partial(
        cases.list_parties, policy=svc.policy, who=who, case_id=case_id))
    return reply({"parties": parties})


@routes.post("/api/cases/{id}/redaction")
async def redaction_preview(request: web.Request) -> web.Response:
    """The text as it would be published, redacted with this case's parties and the rules."""
    who = await require_user(request)
    svc = core_of(request)
    case_id = path_id(request)
    body = await read_json(request)
    original = text(body, "text", MAX_REDACT_CHARS, required=True)

    def persons(session: Session) -> list[Person]:
        case, _ = cases.load_case(session, svc.policy, who, case_id)
        return [Person(p.name, p.role, p.kind, p.minor) for p in case.parties]

    redactor = Redactor(await svc.db.run(persons), desk(request).rules)
    return reply({"text": redactor.redact(original)})
