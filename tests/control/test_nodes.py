"""Nodes on one database: registration, heartbeats, one death per silence, and /api/nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.audit import AuditLog
from control.bus import EventBus
from control.config import NodeSettings, Settings
from control.core import Core
from control.db import Database
from control.migrate import upgrade
from control.models import AuditEvent
from control.nodes import NodeDirectory
from tests.conftest import auth


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def directory(db: Database, bus: EventBus, clock: Clock, node_id: str,
              streams: int = 0) -> NodeDirectory:
    settings = NodeSettings(id=node_id, url=f"http://{node_id}.court:8080", heartbeat_s=2.0,
                            dead_after_beats=3)
    load: dict[str, Any] = {"streams": streams, "viewers": 0}
    return NodeDirectory(db, bus, AuditLog(db), settings, lambda: load, clock=clock)


def downs_in_audit(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).where(AuditEvent.action == "node.down")) or 0)


async def test_a_silent_node_is_declared_dead_once_and_comes_back(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nodes.db'}")
    upgrade(db)
    bus, clock = EventBus(), Clock()
    sub = bus.subscribe()
    a, b, c = (directory(db, bus, clock, n, streams=i) for i, n in enumerate(("a", "b", "c")))
    for node in (a, b, c):
        await node.register()
    states = {n.id: (n.state, n.load["streams"]) for n in await a.nodes()}
    assert states == {"a": ("alive", 0), "b": ("alive", 1), "c": ("alive", 2)}

    # b falls silent; a and c beat on. Within the silence allowed nobody is declared dead.
    for _ in range(3):
        clock.advance(2.0)
        await a.beat()
        await c.beat()
    assert {n.id: n.state for n in await a.nodes()}["b"] == "alive"
    # One beat later both see the silence; the database lets only one of them claim it.
    clock.advance(2.0)
    await a.beat()
    await c.beat()
    await bus.drain()
    assert {n.id: n.state for n in await c.nodes()} == {"a": "alive", "b": "dead", "c": "alive"}
    assert (a.declared_dead, c.declared_dead) == (1, 0)
    events = sub.ready()
    downs = [e for e in events if e.kind == "node.down"]
    alerts = [e for e in events if e.kind == "alert.raised"]
    assert [e.data["node"] for e in downs] == ["b"] and downs[0].data["declared_by"] == "a"
    assert len(alerts) == 1 and alerts[0].target.kind == "system"
    assert alerts[0].action == "alert.view" and alerts[0].data["severity"] == "critical"
    assert downs_in_audit(db) == 1
    with db.session() as s:
        assert AuditLog(db).verify(s) is None

    # More beats raise nothing more; b coming back is alive again and says so.
    clock.advance(2.0)
    await a.beat()
    await c.beat()
    await b.beat()
    await bus.drain()
    back = sub.ready()
    assert [(e.kind, e.data["node"], e.data["previous"]) for e in back] == [
        ("node.up", "b", "dead")]
    assert {n.id: n.state for n in await a.nodes()}["b"] == "alive"
    assert downs_in_audit(db) == 1
    db.close()


async def test_a_node_that_stops_is_no_death(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nodes.db'}")
    upgrade(db)
    bus, clock = EventBus(), Clock()
    sub = bus.subscribe()
    a, b = directory(db, bus, clock, "a"), directory(db, bus, clock, "b")
    await a.start()
    await b.start()
    await b.stop()
    clock.advance(60.0)
    await a.beat()
    await bus.drain()
    assert [e.kind for e in sub.ready()] == ["node.up", "node.up"]
    assert {n.id: n.state for n in await a.nodes()} == {"a": "alive", "b": "stopped"}
    # Restarted with the same id: the same row, alive, started anew.
    await b.register()
    assert {n.id: (n.state, n.started_at) for n in await a.nodes()}["b"] == (
        "alive", clock.now)
    await a.stop()
    db.close()


async def test_api_nodes_for_admins_only(client: TestClient, tokens: dict[str, str],
                                         settings: Settings, services: Core) -> None:
    assert (await client.get("/api/nodes")).status == 401
    assert (await client.get("/api/nodes", headers=auth(tokens["pres.hl"]))).status == 403
    r = await client.get("/api/nodes", headers=auth(tokens["admin"]))
    assert r.status == 200
    body = await r.json()
    me = settings.node.id
    assert body["self"] == me
    [node] = body["nodes"]
    assert (node["id"], node["url"], node["state"], node["self"]) == (
        me, settings.node.url, "alive", True)
    assert node["last_beat_at"].endswith("Z") and node["started_at"].endswith("Z")
    assert {"streams", "live_streams", "viewers", "recordings", "cpu_cores",
            "bitrate_in_bps"} <= set(node["load"])
