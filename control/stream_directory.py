"""The province's stream directory: which node holds each live stream (path -> node).

The shared `live_streams` table is written only by the node that holds a stream (`stream.up`
inserts or takes over the row, `stream.down` deletes it if still its own) and read by every
node at start. Between starts each node keeps a mirror in memory from the `stream.up` and
`stream.down` events of every node (the bus crosses nodes), so asking where a stream is costs
no query on the media path.

A node that dies leaves rows behind: the node that declares it dead (`node.down`, one winner)
deletes them and publishes `stream.down` for each of its streams, so every node sees its rooms
go down; a node that restarts after a crash clears its own leftovers the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from control.bus import Event, EventBus
from control.db import Database, utcnow
from control.media_paths import parse_room_path
from control.models import LiveStream, Node
from control.policy import Target
from control.registry import CourtRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    """The node holding a stream, and the URL other nodes reach it at."""

    node: str
    url: str


class StreamDirectory:
    """Where each live stream of the province is; this node's part of the shared table."""

    def __init__(self, db: Database, bus: EventBus, registry: CourtRegistry,
                 node_id: str) -> None:
        self.db, self.bus, self.registry = db, bus, registry
        self.node_id = node_id
        self._holders: dict[str, str] = {}  # path -> node id, every node's live streams
        self._urls: dict[str, str] = {}  # node id -> URL
        bus.on("stream.up", self._up, remote=True)
        bus.on("stream.down", self._down, remote=True)
        bus.on("node.up", self._node_up, remote=True)
        bus.on("node.down", self._node_down, remote=True)

    # ---- reading ----

    def holder(self, path: str) -> str | None:
        """The id of the node holding `path` live, if any node does."""
        return self._holders.get(path)

    def locate(self, path: str) -> Holder | None:
        """The other node holding `path`, if it is live elsewhere and that node's URL is known."""
        node = self._holders.get(path)
        if node is None or node == self.node_id or node not in self._urls:
            return None
        return Holder(node, self._urls[node])

    def paths_of(self, node: str) -> list[str]:
        return sorted(p for p, n in self._holders.items() if n == node)

    # ---- life cycle ----

    async def start(self) -> None:
        """Clear what a previous life of this node left, then mirror the table."""
        me = self.node_id
        stale = await self.db.run(lambda s: self._delete_node(s, me))
        await self._announce_down(stale, me, "the node restarted")

        def load(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
            streams = [(r.path, r.node_id) for r in session.scalars(select(LiveStream))]
            urls = [(n.id, n.url) for n in session.scalars(select(Node))]
            return streams, urls

        streams, urls = await self.db.run(load)
        self._urls.update(urls)
        for path, node in streams:
            self._holders.setdefault(path, node)

    # ---- events ----

    async def _up(self, event: Event) -> None:
        path, node = str(event.data.get("path", "")), str(event.data.get("holder", ""))
        if not path or not node:
            return
        self._holders[path] = node
        if event.is_remote or node != self.node_id:
            return
        now = event.at

        def claim(session: Session) -> None:
            insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                      else sqlite.insert)
            stmt = insert(LiveStream).values(path=path, node_id=node, since=now)
            session.execute(stmt.on_conflict_do_update(
                index_elements=[LiveStream.path],
                set_={"node_id": stmt.excluded.node_id, "since": stmt.excluded.since}))

        await self.db.run(claim)

    async def _down(self, event: Event) -> None:
        path, node = str(event.data.get("path", "")), str(event.data.get("holder", ""))
        if not path or self._holders.get(path) != node:
            return  # taken over meanwhile by another node: its stream is the live one
        del self._holders[path]
        if event.is_remote or node != self.node_id:
            return

        def release(session: Session) -> None:
            session.execute(delete(LiveStream).where(LiveStream.path == path,
                                                     LiveStream.node_id == node))

        await self.db.run(release)

    def _node_up(self, event: Event) -> None:
        node, url = str(event.data.get("node", "")), str(event.data.get("url", ""))
        if node and url:
            self._urls[node] = url

    async def _node_down(self, event: Event) -> None:
        """Only the node that declared the death cleans up after it, once for the province."""
        dead = str(event.data.get("node", ""))
        if event.is_remote or not dead or event.data.get("declared_by") != self.node_id:
            return
        paths = await self.db.run(lambda s: self._delete_node(s, dead))
        await self._announce_down(paths, dead, f"node {dead} is down")

    @staticmethod
    def _delete_node(session: Session, node: str) -> list[str]:
        rows = session.execute(delete(LiveStream).where(LiveStream.node_id == node)
                               .returning(LiveStream.path))
        return sorted(r[0] for r in rows)

    async def _announce_down(self, paths: list[str], node: str, reason: str) -> None:
        """`stream.down` for streams that ended with their node, as LiveMedia words it."""
        now: datetime = utcnow()
        for path in paths:
            parsed = parse_room_path(path)
            room = self.registry.rooms.get(parsed[0]) if parsed else None
            data: dict[str, object] = {"path": path, "holder": node, "reason": reason}
            if parsed is None or room is None:
                target = Target(kind="feed", private=True)
            else:
                target = Target(kind="feed", court=room.court, room=room.code, feed=parsed[1])
                data["feed"] = parsed[1]
            log.warning("stream %s ended with its node %s", path, node)
            await self.bus.publish(Event("stream.down", target, data, at=now))


STREAMS: Final = web.AppKey("stream_directory", StreamDirectory)
