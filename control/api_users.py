"""Accounts for administrators: list, create, change role/court/name, disable, reset password.

Every change is audited. Disabling an account or changing its role, court or password ends its
sessions at once (its tokens are deleted and dropped from the token cache).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from control.auth import add_user, set_password, validate_account
from control.errors import ApiError
from control.http import client_address, core_of, field, query_int, read_fields, read_json, require
from control.iso8601 import iso
from control.models import AuthToken, User
from control.policy import Principal, Target

routes = web.RouteTableDef()
SYSTEM = Target(kind="system")
EDITABLE = {"role", "court", "display_name", "active"}


def user_json(u: User) -> dict[str, Any]:
    return {"username": u.username, "role": u.role, "court": u.court_code,
            "display_name": u.display_name, "active": u.active,
            "created_at": iso(u.created_at), "password_changed_at": iso(u.password_changed_at)}


async def _admin(request: web.Request) -> Principal:
    return await require(request, "user.manage", SYSTEM)


async def _audit(request: web.Request, who: Principal, action: str, username: str,
                 detail: dict[str, Any]) -> None:
    await core_of(request).audit.record(who, action, f"user:{username}",
                                         address=client_address(request), detail=detail)


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    await _admin(request)
    court, role, q = (request.query.get(k, "")[:64] for k in ("court", "role", "q"))
    limit = query_int(request, "limit", 100, 1, 1000)
    offset = query_int(request, "offset", 0, 0, 1_000_000)

    def run(session: Session) -> tuple[int, list[dict[str, Any]]]:
        where = []
        if court:
            where.append(User.court_code == court)
        if role:
            where.append(User.role == role)
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            where.append(or_(User.username.like(like), User.display_name.like(like)))
        total = session.scalar(select(func.count()).select_from(User).where(*where)) or 0
        rows = session.scalars(select(User).where(*where).order_by(User.username)
                               .limit(limit).offset(offset))
        return total, [user_json(u) for u in rows]

    total, items = await core_of(request).db.run(run)
    return web.json_response({"total": total, "items": items, "limit": limit, "offset": offset})


@routes.post("/api/users")
async def create_user(request: web.Request) -> web.Response:
    who = await _admin(request)
    body = await read_json(request)
    username = field(body, "username", str, max_len=64)
    role = field(body, "role", str, max_len=16)
    court = field(body, "court", str, required=False, max_len=16)
    password = field(body, "password", str, max_len=256)
    name = field(body, "display_name", str, required=False, max_len=128) or ""
    svc = core_of(request)
    user = await svc.db.run(
        lambda s: user_json(add_user(s, svc.registry, username, role, court, password, name)))
    await _audit(request, who, "user.create", username, {"role": role, "court": court})
    return web.json_response(user, status=201)


@routes.patch("/api/users/{username}")
async def change_user(request: web.Request) -> web.Response:
    who = await _admin(request)
    username = request.match_info["username"][:64]
    body = await read_fields(request, EDITABLE)
    if username == who.username and ("active" in body or "role" in body):
        raise ApiError(409, "administrators cannot disable or demote themselves")
    active = field(body, "active", bool, required=False)
    name = field(body, "display_name", str, required=False, max_len=128)
    svc = core_of(request)

    def change(session: Session) -> dict[str, Any]:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise ApiError(404, "no such user")
        role = field(body, "role", str, required=False, max_len=16) or user.role
        court = body["court"] if "court" in body else user.court_code
        if court is not None and not isinstance(court, str):
            raise ApiError(400, "field 'court' must be str or null")
        validate_account(user.username, role, court, svc.registry)
        ends_sessions = (role, court) != (user.role, user.court_code) or active is False
        user.role, user.court_code = role, court
        if name is not None:
            user.display_name = name
        if active is not None:
            user.active = active
        if ends_sessions:
            session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
        return user_json(user)

    user = await svc.db.run(change)
    svc.auth.forget_user(username)
    await _audit(request, who, "user.change", username,
                 {k: body[k] for k in sorted(body) if k in EDITABLE})
    return web.json_response(user)


@routes.post("/api/users/{username}/password")
async def reset_password(request: web.Request) -> web.Response:
    who = await _admin(request)
    username = request.match_info["username"][:64]
    password = field(await read_json(request), "password", str, max_len=256)
    svc = core_of(request)
    await svc.db.run(lambda s: set_password(s, username, password))
    svc.auth.forget_user(username)
    await _audit(request, who, "user.password", username, {})
    return web.Response(status=204)
