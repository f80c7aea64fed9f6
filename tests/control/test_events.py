"""The event bus: internal handlers (ordered, failures counted) and WebSocket clients (per-user
filtering, first-message auth, slow clients dropped)."""

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


async def test_a_failing_handler_is_logged_and_counted_and_stops_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[tuple[str, int]] = []

    def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    async def later(event: Event) -> None:
        seen.append((event.kind, event.data["n"]))

    bus.on("hearing.opened", broken)
    bus.on("hearing.*", later)  # the family runs after the exact kind's handlers
    client = bus.subscribe()
    with caplog.at_level("ERROR", logger="control.bus"):
        await bus.publish(Event("hearing.opened", Target(court="HL"), {"n": 1}))
        await bus.publish(Event("hearing.closed", Target(court="HL"), {"n": 2}))
    assert seen == [("hearing.opened", 1), ("hearing.closed", 2)]
    assert bus.handler_errors == 1
    assert "broken" in caplog.text and "hearing.opened" in caplog.text
    assert [e.data["n"] for e in client.ready()] == [1, 2]  # clients get both all the same
    await bus.close()


async def test_a_handler_publishing_queues_and_publish_waits_for_handlers() -> None:
    """From inside a handler, publishing only queues (no deadlock); outside, it returns once
    every handler of the event ran, including what those handlers awaited."""
    bus = EventBus()
    order: list[str] = []

    async def opened(event: Event) -> None:
        await bus.publish(Event("alert.raised", Target(court="HL")))
        await asyncio.sleep(0)
        order.append("opened handled")

    bus.on("hearing.opened", opened)
    bus.on("alert.raised", lambda e: order.append("alert handled"))
    await bus.publish(Event("hearing.opened", Target(court="HL")))
    assert order[0] == "opened handled"
    await bus.drain()
    assert order == ["opened handled", "alert handled"]
    await bus.close()


async def test_remote_events_reach_only_handlers_that_opt_in() -> None:
    bus = EventBus()
    seen: list[tuple[str, str, str]] = []
    bus.on("hearing.opened", lambda e: seen.append(("local-only", e.kind, e.node)))
    bus.on("hearing.*", lambda e: seen.append(("shared", e.kind, e.node)), remote=True)
    bus.on("*", lambda e: seen.append(("every", e.kind, e.node)))
    sub = bus.subscribe()
    await bus.publish(Event("hearing.opened", Target(court="HL")))
    await bus.publish(Event("hearing.opened", Target(court="HL"), node="node-b"))
    await bus.publish(Event("room.status", Target(court="HL")))
    assert seen == [("local-only", "hearing.opened", ""), ("shared", "hearing.opened", ""),
                    ("every", "hearing.opened", ""), ("shared", "hearing.opened", "node-b"),
                    ("every", "room.status", "")]
    # Client queues get every event, local or remote.
    assert [(e.kind, e.node) for e in sub.ready()] == [
        ("hearing.opened", ""), ("hearing.opened", "node-b"), ("room.status", "")]
    assert len(bus.handlers_of("hearing.opened")) == 3
    assert len(bus.handlers_of("hearing.opened", remote=True)) == 1
    assert len(bus.handlers_of("alert.raised")) == 1  # "*" alone


def test_an_event_crosses_a_process_boundary_with_its_origin() -> None:
    event = Event("hearing.opened", Target(court="HL", staff=frozenset({"judge.a"})),
                  {"id": 7}, node="node-a")
    back = Event.decode(event.encode())
    assert back == event and back.is_remote
    assert not Event.decode(Event("x.y", Target()).encode()).is_remote
