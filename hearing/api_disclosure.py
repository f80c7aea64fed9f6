"""Disclosure decisions of the court: broadcast approval and publishing, with audit."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from control.db import utcnow
from control.http import client_address, core_of, field, read_fields, require_user
from hearing.disclosure import (
    BROADCASTS,
    publication_json,
    publish_document,
    publish_recording,
    set_broadcast,
    withdraw,
)
from hearing.errors import HearingError
from hearing.http import desk, path_id, reply, text
from hearing.models import Case, Publication
from hearing.public_views import case_redactor

routes = web.RouteTableDef()

MAX_DOCUMENT_CHARS = 200_000


@routes.post("/api/hearings/{id}/broadcast")
async def broadcast(request: web.Request) -> web.Response:
    """`{"approved": true}` by a court leader puts a public hearing on air while it is live."""
    who = await require_user(request)
    svc = core_of(request)
    hearing_id = path_id(request)
    body = await read_fields(request, {"approved"})
    approved = bool(field(body, "approved", bool))
    now = utcnow()
    async with desk(request).lock:
        result = await svc.db.run(functools.partial(
            set_broadcast, policy=svc.policy, who=who, hearing_id=hearing_id,
            approved=approved, now=now))
    await svc.audit.record(who, "hearing.broadcast_approved" if approved else
                           "hearing.broadcast_withdrawn", f"hearing:{hearing_id}",
                           court=result["court"], address=client_address(request),
                           detail={"case": result["case"]["number"]})
    await request.config_dict[BROADCASTS].update(result["room"])
    return reply(result)


@routes.post("/api/cases/{id}/publications")
async def publish(request: web.Request) -> web.Response:
    """Publish a document (`title`, `text`) or a recording (`recording_id`) of the case."""
    who = await require_user(request)
    svc = core_of(request)
    case_id = path_id(request)
    body = await read_fields(request, {"kind", "title", "text", "recording_id"})
    kind = text(body, "kind", 16, required=True)
    title = text(body, "title", 256).strip()
    now = utcnow()
    if kind == "document":
        doc = text(body, "text", MAX_DOCUMENT_CHARS, required=True)
        if not title or not doc.strip():
            raise HearingError(400, "a document needs a title and a text")
        work = functools.partial(publish_document, policy=svc.policy, who=who,
                                 case_id=case_id, title=title, text=doc, now=now)
    elif kind == "recording":
        rec_id = field(body, "recording_id", int)
        work = functools.partial(publish_recording, policy=svc.policy, who=who,
                                 case_id=case_id, recording_id=rec_id, title=title, now=now)
    else:
        raise HearingError(400, "unknown kind", {"allowed": ["document", "recording"]})
    rules = desk(request).rules

    def run(session: Session) -> dict[str, Any]:
        pub: Publication = work(session)
        case = session.get(Case, pub.case_id)
        assert case is not None
        redactor = case_redactor(case, rules)
        out = publication_json(pub)
        out["public_title"] = redactor.redact(pub.title)  # what the public will read
        if pub.kind == "document":
            out["public_text"] = redactor.redact(pub.body)
        return out

    result = await svc.db.run(run)
    await svc.audit.record(who, f"publication.{kind}", f"publication:{result['id']}",
                           court=result["court"], address=client_address(request),
                           detail={"case": case_id, "recording": result["recording"]})
    return reply(result, 201)


@routes.delete("/api/publications/{id}")
async def withdraw_publication(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    pub_id = path_id(request)
    now = utcnow()
    result = await svc.db.run(lambda s: publication_json(
        withdraw(s, svc.policy, who, pub_id, now)))
    await svc.audit.record(who, "publication.withdrawn", f"publication:{pub_id}",
                           court=result["court"], address=client_address(request))
    return reply(result)
