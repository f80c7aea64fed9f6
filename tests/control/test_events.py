"""The event bus over WebSocket: per-user filtering, first-message auth, slow clients."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from control.api_events import CLOSE_UNAUTHORIZED
from control.bus import Event, EventBus
from control.core import Core
from control.policy import Target
from tests.conftest import auth
from tests.media.peers import wait_until


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> dict:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def test_each_client_gets_only_what_it_may_see(client: TestClient,
                                                     tokens: dict[str, str],
                                                     services: Core) -> None:
    daoli = await client.ws_connect("/api/events", headers=auth(tokens["pres.daoli"]))
    harbin = await client.ws_connect("/api/events", headers=auth(tokens["pres.harbin"]))
    assert (await next_event(daoli))["kind"] == "hello"
    assert (await next_event(harbin))["kind"] == "hello"
    services.monitor.set_status("HL0103-01", "live")  # Nangang: Harbin's, not Daoli's
    services.monitor.set_status("HL0102-02", "recording")  # Daoli's
    got = await next_event(harbin)
    assert (got["kind"], got["room"], got["data"]["status"]) == ("room.status", "HL0103-01", "live")
    assert (await next_event(harbin))["room"] == "HL0102-02"
    first = await next_event(daoli)
    assert first["room"] == "HL0102-02" and first["data"]["previous"] == "idle"
    assert first["court"] == "HL0102" and first["at"].endswith("Z")
    with pytest.raises(asyncio.TimeoutError):
        await daoli.receive(timeout=0.2)
    await daoli.close()
    await harbin.close()


async def test_token_as_first_message(client: TestClient, tokens: dict[str, str],
                                      services: Core) -> None:
    ws = await client.ws_connect("/api/events")
    await ws.send_json({"token": tokens["sec.daoli"]})
    hello = await next_event(ws)
    assert hello["data"] == {"username": "sec.daoli", "role": "security"}
    services.monitor.set_status("HL0102-03", "fault", "frozen picture")
    assert (await next_event(ws))["data"]["detail"] == "frozen picture"
    await ws.close()


async def test_no_or_bad_token_is_closed(client: TestClient) -> None:
    ws = await client.ws_connect("/api/events")
    await ws.send_json({"token": "forged"})
    msg = await ws.receive(timeout=2)
    assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == CLOSE_UNAUTHORIZED
    ws = await client.ws_connect("/api/events")
    await ws.send_str("not json at all")
    msg = await ws.receive(timeout=2)
    assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == CLOSE_UNAUTHORIZED


async def test_slow_subscriber_is_dropped_not_buffered() -> None:
    bus = EventBus()
    slow = bus.subscribe(maxsize=4)
    fast = bus.subscribe(maxsize=100)
    for i in range(50):
        bus.post(Event("room.status", Target(court="HL"), {"n": i}))
    await bus.drain()
    assert slow.overflowed and slow.closed and await slow.get(within=1) is None
    assert bus.subscriber_count == 1
    assert [event.data["n"] for event in fast.ready()] == list(range(50))


async def test_slow_websocket_client_is_disconnected(client: TestClient,
                                                     tokens: dict[str, str],
                                                     services: Core) -> None:
    bus = services.bus
    before = bus.subscriber_count  # any the node has of its own
    ws = await client.ws_connect("/api/events", headers=auth(tokens["admin"]))
    await next_event(ws)
    assert bus.subscriber_count == before + 1
    # Never read: the socket buffers fill, then the bounded queue, then the client is dropped.
    big = "x" * 4000
    for i in range(3000):
        bus.post(Event("room.status", Target(court="HL"), {"n": i, "pad": big}))
        if i % 100 == 0:
            await bus.drain()  # let the socket's sender run and fall behind
        if bus.subscriber_count == before:
            break
    assert await wait_until(lambda: bus.subscriber_count == before, 5)
    await ws.close()
