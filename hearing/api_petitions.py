"""Remote petitions API: public sign-up and ticket, and the court's reception desk.

The ticket travels as the `petition` cookie (HttpOnly, SameSite=Strict, set at sign-up, so the
browser's WHIP/WHEP requests carry it) or in an `X-Petition-Ticket` header.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from control.http import client_address, field, read_fields, require_user
from hearing.errors import HearingError
from hearing.http import NO_STORE, no_store_reply, path_id, reply
from hearing.petition_form import SignUp, check_id_number, clean_text, normalize_phone
from hearing.petition_media import TICKET_COOKIE, presented_ticket
from hearing.petitions import PETITIONS, PetitionDesk

routes = web.RouteTableDef()

_FORM = {"court", "name", "phone", "id_number", "subject"}


def petitions(request: web.Request) -> PetitionDesk:
    return request.config_dict[PETITIONS]


def _str(body: dict[str, Any], name: str, max_len: int) -> str:
    value = field(body, name, str, max_len=max_len)
    assert isinstance(value, str)
    return value


def _sign_up_form(body: dict[str, Any]) -> SignUp:
    return SignUp(
        court=_str(body, "court", 16).strip(),
        name=clean_text(_str(body, "name", 64), "name", 64),
        phone=normalize_phone(_str(body, "phone", 32)),
        id_number=check_id_number(_str(body, "id_number", 32)),
        subject=clean_text(_str(body, "subject", 500), "subject", 500, multiline=True),
    )


@routes.get("/api/petitions/courts")
async def courts(request: web.Request) -> web.Response:
    return reply({"courts": petitions(request).courts()},
                 headers={"Cache-Control": "public, max-age=300"})


@routes.post("/api/petitions")
async def sign_up(request: web.Request) -> web.Response:
    """A place in the court's queue and its ticket (also set as the `petition` cookie)."""
    desk = petitions(request)
    address = client_address(request)
    await desk.check_address(address)
    form = _sign_up_form(await read_fields(request, _FORM))
    ticket, body = await desk.sign_up(form, address)
    response = no_store_reply({**body, "ticket": ticket}, 201)
    response.set_cookie(TICKET_COOKIE, ticket, httponly=True, samesite="Strict", path="/",
                        max_age=int(desk.ttl.total_seconds()) + 24 * 3600,
                        secure=request.secure)
    return response


@routes.get("/api/petitions/ticket")
async def ticket_status(request: web.Request) -> web.Response:
    """The holder's place in the queue (poll it), or their stream paths once accepted."""
    return no_store_reply(await petitions(request).status(presented_ticket(request)))


@routes.delete("/api/petitions/ticket")
async def leave(request: web.Request) -> web.Response:
    await petitions(request).leave(presented_ticket(request), client_address(request))
    response = web.Response(status=204, headers=NO_STORE)
    response.del_cookie(TICKET_COOKIE, path="/")
    return response


@routes.get("/api/petitions")
async def queue(request: web.Request) -> web.Response:
    """The court's queue (`?court=`) and its sessions, for its reception staff."""
    who = await require_user(request)
    court = request.query.get("court", "") or (who.court or "")
    if not court:
        raise HearingError(400, "query parameter 'court' is required")
    return no_store_reply(await petitions(request).queue(who, court))


@routes.post("/api/petitions/next")
async def accept_next(request: web.Request) -> web.Response:
    who = await require_user(request)
    body = await read_fields(request, {"court"})
    court = field(body, "court", str, required=False, max_len=16) or who.court or ""
    if not court:
        raise HearingError(400, "missing field 'court'")
    accepted = await petitions(request).accept_next(who, court, client_address(request))
    return no_store_reply(accepted, 201)


@routes.get("/api/petitions/{id}")
async def detail(request: web.Request) -> web.Response:
    who = await require_user(request)
    return no_store_reply(await petitions(request).detail(who, path_id(request)))


@routes.post("/api/petitions/{id}/end")
async def end(request: web.Request) -> web.Response:
    """End the session with its outcome (required); the petitioner's ticket expires."""
    who = await require_user(request)
    petition_id = path_id(request)
    body = await read_fields(request, {"outcome"})
    outcome = clean_text(_str(body, "outcome", 4000), "outcome", 4000, multiline=True)
    ended = await petitions(request).end(who, petition_id, outcome, client_address(request))
    return no_store_reply(ended)
