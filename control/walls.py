"""Monitoring walls: layouts saved per user, and shared walls that every screen showing them
follows (the command centre's big screen, fed from the operators' desks).

A tile shows a room (its main picture, or one named feed) or an alarm of a room. What may be on
a wall is what its user may view: a personal layout holds rooms its owner may view; a shared
wall belongs to a court and holds rooms of that court's subtree only, so whoever may use the
wall may view all of it. Each change of a shared wall is published as `wall.changed`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.errors import ApiError
from control.iso8601 import iso
from control.models import SharedWall, WallLayout
from control.policy import Principal, Target
from control.province import ROOM_CODE

SIZES = (1, 4, 9, 16, 25, 36)
TOUR_INTERVAL_S = (5, 600)
MAX_LAYOUTS = 50
_UPDATE_RETRIES = 5


@dataclass(frozen=True)
class WallView:
    """A shared wall as stored, detached from its session."""

    id: int
    name: str
    court: str
    size: int
    tiles: tuple[dict[str, Any] | None, ...]
    version: int
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: SharedWall) -> WallView:
        return cls(row.id, row.name, row.court, row.size, tuple(row.tiles), row.version,
                   row.created_by, row.updated_at)

    @property
    def target(self) -> Target:
        return Target(kind="court", court=self.court)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "court": self.court, "size": self.size,
                "tiles": list(self.tiles), "version": self.version,
                "created_by": self.created_by, "updated_at": iso(self.updated_at)}


def layout_json(row: WallLayout) -> dict[str, Any]:
    return {"name": row.name, "size": row.size, "tiles": row.tiles, "tour": row.tour,
            "updated_at": iso(row.updated_at)}


def fit(tiles: list[Any], size: int) -> list[Any]:
    """`tiles` cut or padded with empty tiles to `size`."""
    return (tiles + [None] * size)[:size]


class WallRules:
    """Checks what a principal may put on a wall; errors never reveal rooms out of scope."""

    def __init__(self, services: Core) -> None:
        self.services = services

    def size(self, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value not in SIZES:
            raise ApiError(400, "unsupported wall size", {"allowed": list(SIZES)})
        return value

    def may_use(self, who: Principal) -> None:
        if not self.services.policy.visible_courts(who, "wall.use"):
            raise ApiError(403, "forbidden", {"action": "wall.use"})

    def room_tile(self, who: Principal, raw: Any, within: str | None = None) -> dict[str, Any]:
        """`{"room", "feed"}` checked: the room exists, `who` may view it, and it lies in
        `within`'s subtree when given; anything else is an unknown room."""
        if not isinstance(raw, dict):
            raise ApiError(400, "a tile is null or an object with 'room'")
        code, feed = raw.get("room"), raw.get("feed")
        reg = self.services.registry
        room = reg.rooms.get(code) if isinstance(code, str) and ROOM_CODE.match(code) else None
        if room is None or not self.services.policy.can(
                who, "room.view", Target(kind="room", court=room.court, room=room.code)) or (
                within is not None and not reg.is_within(room.court, within)):
            raise ApiError(404, "unknown room", {"room": str(code)[:32]})
        if feed is not None and (not isinstance(feed, str) or feed not in room.feeds):
            raise ApiError(400, "unknown feed", {"room": room.code, "feeds": list(room.feeds)})
        return {"room": room.code, "feed": feed}

    def layout(self, who: Principal, body: dict[str, Any]) -> tuple[int, list[Any],
                                                                     dict[str, Any] | None]:
        """(size, tiles, tour) of a personal layout body, every room checked."""
        size = self.size(body.get("size"))
        raw = body.get("tiles", [])
        if not isinstance(raw, list) or len(raw) > size:
            raise ApiError(400, "'tiles' must be a list of at most 'size' tiles")
        tiles = fit([None if t is None else self.room_tile(who, t) for t in raw], size)
        return size, tiles, self.tour(who, body.get("tour"))

    def tour(self, who: Principal, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ApiError(400, "'tour' must be null or an object")
        court, interval = raw.get("court"), raw.get("interval_s")
        lo, hi = TOUR_INTERVAL_S
        if not isinstance(interval, int) or isinstance(interval, bool) or not lo <= interval <= hi:
            raise ApiError(400, f"tour 'interval_s' must be an integer from {lo} to {hi}")
        if court is not None and (not isinstance(court, str) or court not in
                                  self.services.policy.visible_courts(who, "room.view")):
            raise ApiError(404, "unknown court", {"court": str(court)[:32]})
        return {"court": court, "interval_s": interval}


class WallBoard:
    """Shared walls: created by court leaders, fed tile by tile, each change on the bus."""

    def __init__(self, services: Core) -> None:
        self.services = services
        self.rules = WallRules(services)
        self._lock = asyncio.Lock()  # one change at a time on this node; versions across nodes

    def usable(self, who: Principal, view: WallView | None) -> WallView:
        """The wall if `who` may use it, else 404 (its existence does not leak)."""
        if view is None or not self.services.policy.can(who, "wall.use", view.target):
            raise ApiError(404, "unknown wall")
        return view

    def owned(self, who: Principal, view: WallView | None) -> WallView:
        view = self.usable(who, view)
        # Creating, renaming and resizing shared walls is for court leaders (wall.manage);
        # operators with wall.use push tiles.
        if not self.services.policy.can(who, "wall.manage",
                                        Target(kind="court", court=view.court)):
            raise ApiError(403, "forbidden", {"action": "wall.manage"})
        return view

    async def get(self, wall_id: int) -> WallView | None:
        return await self.services.db.run(
            lambda s: WallView.of(r) if (r := s.get(SharedWall, wall_id)) else None)

    async def visible(self, who: Principal) -> list[WallView]:
        courts = self.services.policy.visible_courts(who, "wall.use")
        return await self.services.db.run(lambda s: [WallView.of(r) for r in s.scalars(
            select(SharedWall).where(SharedWall.court.in_(courts)).order_by(SharedWall.id))])

    async def create(self, who: Principal, name: str, court: str, size: int) -> WallView:
        if court not in self.services.registry.courts or not self.services.policy.can(
                who, "wall.use", Target(kind="court", court=court)):
            raise ApiError(404, "unknown court", {"court": court[:32]})
        if not self.services.policy.can(who, "wall.manage", Target(kind="court", court=court)):
            raise ApiError(403, "forbidden", {"action": "wall.manage"})

        def write(session: Session) -> WallView:
            now = utcnow()
            row = SharedWall(name=name, court=court, size=size, tiles=[None] * size, version=1,
                             created_by=who.username, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            return WallView.of(row)

        view = await self.services.db.run(write)
        self._publish(view, who, None)
        await self._audit(who, "wall.create", view, {"name": name, "size": size})
        return view

    async def change(self, who: Principal, view: WallView, *, tile: int | None = None,
                     value: dict[str, Any] | None = None, size: int | None = None,
                     name: str | None = None) -> WallView:
        """Set one tile (`value`, None clears it) or the wall's size and name; bumps version."""
        async with self._lock:
            changed = None
            for _ in range(_UPDATE_RETRIES):
                current = await self.get(view.id)
                if current is None:
                    raise ApiError(404, "unknown wall")
                new_size = size or current.size
                tiles = fit(list(current.tiles), new_size)
                if tile is not None:
                    if not 0 <= tile < new_size:
                        raise ApiError(404, "no such tile", {"tiles": new_size})
                    tiles[tile] = None if value is None else {
                        **value, "by": who.username, "at": iso(utcnow())}
                changed = await self._write(current, tiles, new_size, name or current.name)
                if changed is not None:
                    break
            if changed is None:
                raise ApiError(409, "the wall kept changing; try again")
            self._publish(changed, who, tile)
        # What was put on the command centre's screen, and by whom, is on the record.
        detail = ({"tile": tile, **(value or {})} if tile is not None
                  else {"size": changed.size, "name": changed.name})
        await self._audit(who, "wall.tile" if tile is not None else "wall.change", changed, detail)
        return changed

    async def delete(self, who: Principal, view: WallView) -> None:
        def remove(session: Session) -> None:
            row = session.get(SharedWall, view.id)
            if row is not None:
                session.delete(row)

        async with self._lock:
            await self.services.db.run(remove)
        self.services.bus.post(Event(
            kind="wall.changed", target=view.target, action="wall.use",
            data={"id": view.id, "deleted": True, "by": who.username}))
        await self._audit(who, "wall.delete", view, {"name": view.name})

    async def _audit(self, who: Principal, action: str, view: WallView,
                     detail: dict[str, Any]) -> None:
        await self.services.audit.record(who, action, f"wall/{view.id}", court=view.court,
                                         detail=detail)

    async def _write(self, current: WallView, tiles: list[Any], size: int,
                     name: str) -> WallView | None:
        """Compare-and-set on the version, so two nodes never lose each other's change."""
        def write(session: Session) -> WallView | None:
            done = session.execute(
                update(SharedWall)
                .where(SharedWall.id == current.id, SharedWall.version == current.version)
                .values(tiles=tiles, size=size, name=name, version=current.version + 1,
                        updated_at=utcnow()))
            if getattr(done, "rowcount", 0) != 1:
                return None
            row = session.get(SharedWall, current.id, populate_existing=True)
            return WallView.of(row) if row is not None else None

        return await self.services.db.run(write)

    def _publish(self, view: WallView, who: Principal, tile: int | None) -> None:
        self.services.bus.post(Event(
            kind="wall.changed", target=view.target, action="wall.use",
            data={**view.to_json(), "tile": tile, "by": who.username}))
