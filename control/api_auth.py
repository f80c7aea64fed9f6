"""Login, logout and who-am-I."""

from __future__ import annotations

from aiohttp import web

from control.auth import AuthError
from control.http import bearer_token, client_address, core_of, field, read_json, require_user
from control.policy import Principal

routes = web.RouteTableDef()


@routes.post("/api/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    username = field(body, "username", str, max_len=64).strip().lower()
    password = field(body, "password", str, max_len=256)
    svc = core_of(request)
    address = client_address(request)
    try:
        token, who = await svc.auth.login(username, password, address)
    except AuthError as exc:
        if exc.status == 401:
            await svc.audit.record(
                _anonymous(username), "login.failed", f"user:{username}", address=address
            )
        raise
    await svc.audit.record(who, "login", f"user:{who.username}", address=address)
    response = web.json_response({
        "token": token,
        "token_type": "Bearer",
        "expires_in": int(svc.settings.auth.token_ttl_hours * 3600),
        "user": _describe(request, who.username, who.role, who.court),
    })
    response.set_cookie(
        "token", token, httponly=True, samesite="Strict", path="/",
        max_age=int(svc.settings.auth.token_ttl_hours * 3600),
        secure=request.secure,
    )
    return response


@routes.post("/api/logout")
async def logout(request: web.Request) -> web.Response:
    who = await require_user(request)
    svc = core_of(request)
    await svc.auth.logout(bearer_token(request))
    await svc.audit.record(who, "logout", f"user:{who.username}",
                           address=client_address(request))
    response = web.Response(status=204)
    response.del_cookie("token", path="/")
    return response


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    who = await require_user(request)
    return web.json_response(_describe(request, who.username, who.role, who.court))


def _describe(
    request: web.Request, username: str, role: str, court: str | None
) -> dict[str, str | None]:
    node = core_of(request).registry.courts.get(court or "")
    return {
        "username": username,
        "role": role,
        "court": court,
        "court_name_zh": node.name_zh if node else None,
        "court_name_en": node.name_en if node else None,
    }


def _anonymous(username: str) -> Principal:
    """The not-yet-authenticated caller, named by the username they tried."""
    return Principal(username=username[:64] or "-", role="public")
