"""Request plumbing shared by every route: the caller, JSON bodies, path ids, paging."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from control.core import CORE, Core
from control.errors import ApiError
from control.node_auth import SCHEME as NODE_SCHEME
from control.policy import PUBLIC, Principal, Target

_PRINCIPAL = web.RequestKey("principal", Principal)


def core_of(request: web.Request) -> Core:
    """The node's core services, set by `create_app`."""
    return request.config_dict[CORE]


def bearer_token(request: web.Request) -> str:
    """The token from `Authorization: Bearer ...`, else the `token` cookie, else ''."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("token", "")


async def principal(request: web.Request) -> Principal:
    """Who is asking; the anonymous public when no valid token came with the request."""
    cached = request.get(_PRINCIPAL)
    if cached is not None:
        return cached
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme == NODE_SCHEME:  # another node of the province (control.node_auth)
        who = core_of(request).credential.verify(value) or PUBLIC
    else:
        token = bearer_token(request)
        who = (await core_of(request).auth.resolve(token) if token else None) or PUBLIC
    request[_PRINCIPAL] = who
    return who


async def require_user(request: web.Request) -> Principal:
    who = await principal(request)
    if who.is_anonymous:
        raise ApiError(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    return who


async def require(request: web.Request, action: str, target: Target,
                  hide: bool = False) -> Principal:
    """The request's principal if the policy allows; else as `Policy.require` refuses."""
    who = await principal(request)
    core_of(request).policy.require(who, action, target, hide)
    return who


def client_address(request: web.Request) -> str:
    return request.remote or ""


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 4xx naming what is wrong with it."""
    if request.content_type != "application/json":
        raise ApiError(415, "expected Content-Type: application/json")
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "malformed JSON", str(exc)) from None
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    return body


def only_fields(body: dict[str, Any], allowed: set[str]) -> None:
    """400 naming the first field of `body` that is not `allowed`."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r}", {"allowed": sorted(allowed)})


async def read_fields(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    """The body as a JSON object with no field but the `allowed` ones, else a 4xx."""
    body = await read_json(request)
    only_fields(body, allowed)
    return body


def path_number(request: web.Request, name: str, max_digits: int) -> int | None:
    """A whole number from the path (ASCII digits, at most `max_digits`), else None."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > max_digits:
        return None
    return int(raw)


def field(body: dict[str, Any], name: str, kind: type, required: bool = True,
          max_len: int = 256) -> Any:
    """One typed field of a JSON body; wrong types and over-long strings are 400."""
    if name not in body or body[name] is None:
        if required:
            raise ApiError(400, f"missing field {name!r}")
        return None
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(400, f"field {name!r} must be {kind.__name__}")
    if isinstance(value, str) and len(value) > max_len:
        raise ApiError(400, f"field {name!r} is longer than {max_len} characters")
    return value


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"query parameter {name!r} must be between {lo} and {hi}")
    return value
