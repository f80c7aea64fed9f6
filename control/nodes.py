"""The province's nodes: every `courtav serve` registers in the shared `nodes` table, beats with
its load, and at each beat declares dead the nodes that went silent.

Declaring a node dead is one conditional UPDATE (`state='alive' AND last_beat_at < cutoff`):
however many nodes see the silence at once, the database lets exactly one of them win, and
only the winner raises the alert. Beats and cutoffs use the nodes' own clocks, which a
province keeps in step (NTP); a skew well under one heartbeat is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from control.audit import AuditLog
from control.bus import Event, EventBus
from control.config import NodeSettings
from control.db import Database, utcnow
from control.iso8601 import iso
from control.models import Node
from control.policy import Principal, Target

log = logging.getLogger(__name__)

NODE_STATES: Final = ("alive", "dead", "stopped")
SYSTEM: Final = Principal("node.directory", "system")
SYSTEM_TARGET: Final = Target(kind="system")


@dataclass(frozen=True)
class NodeView:
    """A node as stored, detached from its session."""

    id: str
    url: str
    state: str
    started_at: datetime
    last_beat_at: datetime
    load: dict[str, Any]

    @classmethod
    def of(cls, row: Node) -> NodeView:
        return cls(row.id, row.url, row.state, row.started_at, row.last_beat_at,
                   dict(row.load or {}))

    def to_json(self, self_id: str) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "state": self.state,
                "started_at": iso(self.started_at), "last_beat_at": iso(self.last_beat_at),
                "load": self.load, "self": self.id == self_id}


class NodeDirectory:
    """This node's entry among the province's nodes, its heartbeat, and the watch for silence."""

    def __init__(self, db: Database, bus: EventBus, audit: AuditLog, settings: NodeSettings,
                 load: Callable[[], dict[str, Any]], *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.bus, self.audit = db, bus, audit
        self.settings = settings
        self.id = settings.id
        self._load, self._clock = load, clock
        self._task: asyncio.Task[None] | None = None
        self.beats = 0
        self.declared_dead = 0  # nodes this node won the claim on

    @property
    def silence(self) -> timedelta:
        """How long a node may stay silent before it is dead."""
        return timedelta(seconds=self.settings.heartbeat_s * self.settings.dead_after_beats)

    # ---- life cycle ----

    async def start(self) -> None:
        await self.register()
        self._task = asyncio.create_task(self._beating(), name="node-heartbeat")

    async def stop(self) -> None:
        """Stop beating and leave cleanly: `stopped` is no death, nobody raises an alert."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        now, me = self._clock(), self.id

        def leave(session: Session) -> None:
            session.execute(update(Node).where(Node.id == me)
                            .values(state="stopped", last_beat_at=now))

        try:
            await self.db.run(leave)
        except Exception:  # the others will find this node silent and declare it dead
            log.exception("node %s: could not record its stop", self.id)

    async def _beating(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                await self.beat()
            except Exception:  # a database hiccup skips a beat; the next one tries again
                log.exception("node %s: heartbeat failed", self.id)

    # ---- the beat ----

    async def register(self) -> None:
        """Insert or refresh this node's row as alive, started now."""
        now, load = self._clock(), self._load()
        previous = await self.db.run(lambda s: self._upsert(s, now, load, started=True))
        await self.bus.publish(Event(
            "node.up", SYSTEM_TARGET,
            {"node": self.id, "url": self.settings.url, "previous": previous},
            action="system.metrics", at=now))

    async def beat(self) -> None:
        """One heartbeat with this node's load, then declare dead whoever fell silent."""
        now, load = self._clock(), self._load()
        previous = await self.db.run(lambda s: self._upsert(s, now, load, started=False))
        self.beats += 1
        if previous != "alive":
            # Declared dead (or removed) while this process still ran, e.g. a long stall.
            log.warning("node %s: back after being %s", self.id, previous)
            await self.bus.publish(Event(
                "node.up", SYSTEM_TARGET,
                {"node": self.id, "url": self.settings.url, "previous": previous},
                action="system.metrics", at=now))
        cutoff, me = now - self.silence, self.id

        def claim(session: Session) -> list[tuple[str, str, datetime]]:
            rows = session.execute(
                update(Node)
                .where(Node.state == "alive", Node.last_beat_at < cutoff, Node.id != me)
                .values(state="dead")
                .returning(Node.id, Node.url, Node.last_beat_at))
            return [(r[0], r[1], r[2]) for r in rows]

        for node_id, url, last in await self.db.run(claim):
            await self._declare_dead(node_id, url, last, now)

    def _upsert(self, session: Session, now: datetime, load: dict[str, Any], *,
                started: bool) -> str | None:
        """The row's state before this beat (None if there was no row)."""
        # The row lock orders this beat against another node's claim on this row.
        row = session.get(Node, self.id, with_for_update=True)
        if row is None:
            session.add(Node(id=self.id, url=self.settings.url, state="alive", started_at=now,
                             last_beat_at=now, load=load))
            return None
        previous = row.state
        row.url, row.state, row.last_beat_at, row.load = self.settings.url, "alive", now, load
        if started:
            row.started_at = now
        return previous

    async def _declare_dead(self, node_id: str, url: str, last: datetime,
                            now: datetime) -> None:
        self.declared_dead += 1
        silent_s = round((now - last).total_seconds(), 1)
        log.error("node %s declared dead (silent %.1f s)", node_id, silent_s)
        data = {"node": node_id, "url": url, "last_beat_at": iso(last), "silent_s": silent_s,
                "declared_by": self.id}
        await self.audit.record(SYSTEM, "node.down", f"node:{node_id}", detail=data)
        await self.bus.publish(Event("node.down", SYSTEM_TARGET, data,
                                     action="system.metrics", at=now))
        await self.bus.publish(Event(
            "alert.raised", SYSTEM_TARGET,
            {"source": "node", "severity": "critical", "kind": "node_down", "node": node_id,
             "message": f"node {node_id} ({url}) is silent since {iso(last)}"},
            action="alert.view", at=now))

    # ---- reading ----

    async def nodes(self) -> list[NodeView]:
        """Every node the province has seen, by id."""
        return await self.db.run(
            lambda s: [NodeView.of(r) for r in s.scalars(select(Node).order_by(Node.id))])


NODES: Final = web.AppKey("nodes", NodeDirectory)
