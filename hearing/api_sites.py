"""Remote sites API: administrators register sites and manage their credentials (site.manage);
those who schedule hearings list the sites their courts may link."""

from __future__ import annotations

from aiohttp import web

from control.db import utcnow
from control.http import client_address, core_of, field, read_fields, require, require_user
from control.policy import Target
from hearing.arraignment import ARRAIGNMENT
from hearing.errors import HearingError
from hearing.http import no_store_reply, text
from hearing.sites import change_site, create_site, list_sites, rotate_credential

routes = web.RouteTableDef()

_MANAGE = Target(kind="system")


async def _cut(request: web.Request, code: str) -> None:
    """Sessions opened with a withdrawn credential end now, not when they next reconnect."""
    arraignment = request.config_dict.get(ARRAIGNMENT)
    if arraignment is not None:
        await arraignment.cut_site(code)


@routes.post("/api/sites")
async def create(request: web.Request) -> web.Response:
    who = await require(request, "site.manage", _MANAGE)
    body = await read_fields(request, {"code", "name", "kind", "court"})
    svc = core_of(request)
    code, court = text(body, "code", 24, required=True), text(body, "court", 16, required=True)
    name, kind = text(body, "name", 128, required=True), text(body, "kind", 24, required=True)
    now = utcnow()
    site, credential = await svc.db.run(
        lambda s: create_site(s, svc.registry, code, name, kind, court, who.username, now))
    await svc.audit.record(who, "site.created", f"site:{code}", court=court,
                           address=client_address(request),
                           detail={"name": site["name"], "kind": kind})
    return no_store_reply({**site, "credential": credential}, 201)


@routes.get("/api/sites")
async def listing(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    courts: frozenset[str] | None = None
    if not svc.policy.can(who, "site.manage", _MANAGE):
        courts = svc.policy.visible_courts(who, "hearing.schedule")
        if not courts:
            raise HearingError(403, "forbidden", {"action": "site.manage"})
    items = await svc.db.run(lambda s: list_sites(s, courts, svc.registry))
    return no_store_reply({"items": items})


@routes.post("/api/sites/{code}/credential")
async def rotate(request: web.Request) -> web.Response:
    who = await require(request, "site.manage", _MANAGE)
    svc = core_of(request)
    code, now = request.match_info["code"], utcnow()
    site, credential = await svc.db.run(lambda s: rotate_credential(s, code, now))
    await _cut(request, site["code"])
    await svc.audit.record(who, "site.credential_rotated", f"site:{site['code']}",
                           court=site["court"], address=client_address(request))
    return no_store_reply({**site, "credential": credential})


@routes.patch("/api/sites/{code}")
async def change(request: web.Request) -> web.Response:
    """Disable (or enable again) a site, or rename it."""
    who = await require(request, "site.manage", _MANAGE)
    body = await read_fields(request, {"enabled", "name"})
    enabled = field(body, "enabled", bool, required=False)
    name = field(body, "name", str, required=False, max_len=128)
    if enabled is None and name is None:
        raise HearingError(400, "nothing to change", {"allowed": ["enabled", "name"]})
    svc = core_of(request)
    code = request.match_info["code"]
    site = await svc.db.run(lambda s: change_site(s, code, enabled, name))
    if enabled is False:
        await _cut(request, site["code"])
    await svc.audit.record(who, "site.changed", f"site:{site['code']}", court=site["court"],
                           address=client_address(request), detail={"fields": sorted(body)})
    return no_store_reply(site)
