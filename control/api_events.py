"""`GET /api/events`: the event bus over WebSocket, each client seeing only what it may."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import WSMsgType, web

from control.bus import RESYNC
from control.http import core_of, principal
from control.policy import Principal

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

HEARTBEAT_S = 20.0
AUTH_TIMEOUT_S = 5.0
QUEUE_SIZE = 256
SEND_TIMEOUT_S = 10.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4408


async def _first_message_token(ws: web.WebSocketResponse) -> str:
    """Browsers cannot set headers on a WebSocket: they may send `{"token": ...}` first."""
    try:
        msg = await ws.receive(timeout=AUTH_TIMEOUT_S)
    except TimeoutError:
        return ""
    if msg.type != WSMsgType.TEXT:
        return ""
    try:
        body = json.loads(msg.data)
    except json.JSONDecodeError:
        return ""
    token = body.get("token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else ""


@routes.get("/api/events")
async def events(request: web.Request) -> web.WebSocketResponse:
    svc = core_of(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096)
    await ws.prepare(request)
    who: Principal | None = await principal(request)
    if who is None or who.is_anonymous:
        token = await _first_message_token(ws)
        who = await svc.auth.resolve(token) if token else None
    if who is None:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"authentication required")
        return ws
    sub = svc.bus.subscribe(QUEUE_SIZE)
    await ws.send_json({"kind": "hello", "data": {"username": who.username, "role": who.role}})

    async def pump() -> None:
        policy = svc.policy
        while (event := await sub.get()) is not None:
            # A resync concerns the connection, not a court: every client gets it.
            if event.kind == RESYNC or policy.can(who, event.action, event.target):
                await asyncio.wait_for(ws.send_str(event.to_json()), SEND_TIMEOUT_S)

    sender = asyncio.create_task(pump())
    reader = asyncio.create_task(_drain(ws))
    try:
        await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sub.close()
        for task in (sender, reader):
            task.cancel()
        for task in (sender, reader):
            with contextlib.suppress(BaseException):
                await task
        if sub.overflowed or (sender.done() and not sender.cancelled()
                              and sender.exception() is not None):
            log.info("dropping slow event client %s", who.username)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    ws.close(code=CLOSE_TOO_SLOW, message=b"client too slow"), 1.0
                )
        if not ws.closed and request.transport is not None:
            request.transport.close()
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) client messages until the socket closes."""
    async for _msg in ws:
        pass
