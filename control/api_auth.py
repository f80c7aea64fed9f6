"""Login, logout and who-am-I."""

from __future__ import annotations

from aiohttp import web

from control.auth import AuthError
from control.http import bearer_token, client_address, core_of, field, read_json, require_user
from control.policy import Principal, role_scopes

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
        "user": _describe(request, who),
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
    return web.json_response(_describe(request, who))


def _describe(request: web.Request, who: Principal) -> dict[str, object]:
    """Who the user is and what the one policy lets them do, so the pages need no role table.

    `grants`: action -> "*" (every court) or the court codes where it is granted. `limits`:
    action -> "bench" | "disclosed" where the target decides too (the server checks each request).
    `roles` (for those who manage users): role -> "everywhere" | "subtree" | "own court".
    """
    core = core_of(request)
    node = core.registry.courts.get(who.court or "")
    grants = core.policy.grants(who)
    described: dict[str, object] = {
        "username": who.username,
        "role": who.role,
        "court": who.court,
        "court_name_zh": node.name_zh if node else None,
        "court_name_en": node.name_en if node else None,
        "grants": grants,
        "limits": core.policy.limits(who),
    }
    if "user.manage" in grants:
        described["roles"] = role_scopes()
    return described


def _anonymous(username: str) -> Principal:
    """The not-yet-authenticated caller, named by the username they tried."""
    return Principal(username=username[:64] or "-", role="public")
