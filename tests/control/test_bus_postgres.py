"""The bus across two nodes (two apps, one PostgreSQL database): order, opt-in handlers, large
payloads, reconnect with resync, and token revocation within a second."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text

from control.app import build_services, create_app
from control.auth import SESSIONS_ENDED, TOKEN_REVOKED, add_user
from control.bus import RESYNC, Event
from control.bus_postgres import BUS_BRIDGE, NOTIFY_LIMIT, PostgresBusBridge, libpq_url
from control.config import Settings
from control.core import Core
from control.db import utcnow
from control.models import BusPayload
from control.policy import Target
from tests.conftest import PASSWORD, auth, login

pytestmark = pytest.mark.postgres


@dataclass
class Node:
    client: TestClient
    core: Core
    app: web.Application

    @property
    def bridge(self) -> PostgresBusBridge:
        return self.app[BUS_BRIDGE]


@pytest.fixture
async def nodes(aiohttp_client, settings: Settings, pg_url: str) -> AsyncIterator[list[Node]]:
    out: list[Node] = []
    try:
        for name in ("node-a", "node-b"):
            node_settings = replace(settings, database_url=pg_url,
                                    node=replace(settings.node, id=name))
            core = build_services(node_settings)
            if not out:
                with core.db.session() as s:
                    add_user(s, core.registry, "admin", "admin", None, PASSWORD)
                    add_user(s, core.registry, "pres.harbin", "president", "HL01", PASSWORD)
            app = create_app(node_settings, core, record_hearings=False)
            out.append(Node(await aiohttp_client(app), core, app))
        yield out
    finally:
        for node in out:
            await node.client.close()
            node.core.db.close()


async def ws_events(ws: aiohttp.ClientWebSocketResponse, kind: str, count: int,
                    within: float = 5.0) -> list[dict]:
    got: list[dict] = []
    while len(got) < count:
        msg = await ws.receive(timeout=within)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        body = json.loads(msg.data)
        if body["kind"] == kind:
            got.append(body)
    return got


async def test_an_event_on_a_reaches_b_in_order_and_only_opted_in_handlers(
        nodes: list[Node]) -> None:
    a, b = nodes
    shared: list[int] = []
    local_only: list[int] = []
    b.core.bus.on("test.tick", lambda e: shared.append(e.data["n"]), remote=True)
    b.core.bus.on("test.tick", lambda e: local_only.append(e.data["n"]))
    echoed: list[Event] = []
    a.core.bus.on("test.tick", lambda e: echoed.append(e) if e.is_remote else None, remote=True)
    token = await login(b.client, "admin")
    ws = await b.client.ws_connect("/api/events", headers=auth(token))
    assert (await ws.receive_json())["kind"] == "hello"
    sub = b.core.bus.subscribe(512)

    for n in range(200):
        await a.core.bus.publish(Event("test.tick", Target(court="HL01"), {"n": n}))
    last = await sub.next("test.tick", where=lambda e: e.data["n"] == 199)
    assert last.node == "node-a" and last.is_remote
    assert shared == list(range(200))
    assert local_only == []
    assert [e["data"]["n"] for e in await ws_events(ws, "test.tick", 200)] == list(range(200))
    assert b.bridge.gaps == 0 and b.bridge.received >= 200
    # Not echoed back: A forwarded its own 200 and received none of them (other nodes' own
    # events, such as B's node.up, do reach it).
    marker = Event("test.marker", Target(court="HL01"))
    marked = a.core.bus.subscribe()
    await b.core.bus.publish(marker)
    await marked.next("test.marker")
    assert a.bridge.sent >= 200 and echoed == []
    await ws.close()


async def test_a_payload_over_the_notify_limit_arrives_whole(nodes: list[Node]) -> None:
    a, b = nodes
    sub = b.core.bus.subscribe()
    blob = "判" * 10_000  # 30 000 bytes of UTF-8
    await a.core.bus.publish(Event("test.large", Target(court="HL01"), {"blob": blob}))
    got = await sub.next("test.large")
    assert got.data["blob"] == blob and len(got.encode().encode()) > NOTIFY_LIMIT
    with a.core.db.session() as s:  # it went by reference
        assert s.scalar(select(func.count()).select_from(BusPayload)) == 1
        s.add(BusPayload(body="{}", created_at=utcnow() - timedelta(minutes=2)))
    # Rows older than a minute go on the sweep timer; the recent one stays.
    assert await b.bridge.sweep() == 1
    with a.core.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BusPayload)) == 1


async def test_b_reconnects_after_its_listen_connection_is_killed(nodes: list[Node]) -> None:
    a, b = nodes
    token = await login(b.client, "pres.harbin")
    ws = await b.client.ws_connect("/api/events", headers=auth(token))
    assert (await ws.receive_json())["kind"] == "hello"
    sub = b.core.bus.subscribe()
    killed = b.bridge.listen_pid
    with a.core.db.session() as s:
        assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    resync = await sub.next(RESYNC)
    assert resync.data == {"node": "node-b"} and not resync.is_remote
    assert b.bridge.listen_pid != killed and b.bridge.reconnects == 1
    # Every client gets it, whatever the court it may see (a president of Harbin here).
    assert (await ws_events(ws, RESYNC, 1))[0]["data"] == {"node": "node-b"}
    # And B hears A again.
    await a.core.bus.publish(Event("test.after", Target(court="HL01")))
    assert (await sub.next("test.after")).node == "node-a"
    await ws.close()


@pytest.mark.parametrize("how", ["logout", "password", "disable"])
async def test_ending_a_session_on_a_refuses_the_token_on_b_within_a_second(
        nodes: list[Node], how: str) -> None:
    a, b = nodes
    token = await login(a.client, "pres.harbin")
    admin = await login(a.client, "admin")
    a.client.session.cookie_jar.clear()
    assert (await b.client.get("/api/me", headers=auth(token))).status == 200  # cached on B
    sub = b.core.bus.subscribe()
    started = time.monotonic()
    if how == "logout":
        r = await a.client.post("/api/logout", headers=auth(token))
    elif how == "password":
        r = await a.client.post("/api/users/pres.harbin/password", headers=auth(admin),
                                json={"password": "another horse battery staple"})
    else:
        r = await a.client.patch("/api/users/pres.harbin", headers=auth(admin),
                                 json={"active": False})
    assert r.status in (200, 204), await r.text()
    await sub.next(TOKEN_REVOKED if how == "logout" else SESSIONS_ENDED, within=1.0)
    refused = await b.client.get("/api/me", headers=auth(token))
    elapsed = time.monotonic() - started
    assert refused.status == 401
    assert elapsed < 1.0, elapsed


def test_a_sqlite_node_builds_no_bridge(settings: Settings, services: Core) -> None:
    assert BUS_BRIDGE not in create_app(settings, services)


def test_libpq_url_of_a_sqlalchemy_url() -> None:
    assert libpq_url("postgresql+psycopg://u:p%40ss@db:5433/courtav?sslmode=require") == (
        "postgresql://u:p%40ss@db:5433/courtav?sslmode=require")


async def test_a_reconnects_its_sending_connection_and_loses_no_event(nodes: list[Node]) -> None:
    a, b = nodes
    sub = b.core.bus.subscribe()
    killed = a.bridge.send_pid
    with b.core.db.session() as s:
        assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    for n in range(3):
        await a.core.bus.publish(Event("test.tick", Target(court="HL01"), {"n": n}))
    for n in range(3):
        assert (await sub.next("test.tick")).data == {"n": n}
    assert a.bridge.send_pid not in (0, killed) and b.bridge.gaps == 0


async def test_remote_events_are_filtered_by_the_one_policy(nodes: list[Node]) -> None:
    a, b = nodes
    token = await login(b.client, "pres.harbin")  # Harbin's subtree (HL01) only
    ws = await b.client.ws_connect("/api/events", headers=auth(token))
    assert (await ws.receive_json())["kind"] == "hello"
    await a.core.bus.publish(Event("test.tick", Target(court="HL02"), {"n": 0}))  # Qiqihar's
    await a.core.bus.publish(Event("test.tick", Target(court="HL0102"), {"n": 1}))  # Daoli's
    assert [e["data"] for e in await ws_events(ws, "test.tick", 1)] == [{"n": 1}]
    await ws.close()
