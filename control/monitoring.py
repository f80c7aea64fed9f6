"""Live status of every courtroom, held in memory and changed through one method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from control.bus import Event, EventBus
from control.db import utcnow
from control.policy import Target
from control.registry import CourtRegistry

ROOM_STATES = ("idle", "live", "recording", "fault")


@dataclass(frozen=True)
class RoomStatus:
    status: str
    since: datetime
    detail: str = ""


class RoomMonitor:
    """Holds each room's status; every change bumps `version` and is published on the bus."""

    def __init__(self, registry: CourtRegistry, bus: EventBus) -> None:
        self._registry = registry
        self._bus = bus
        started = utcnow()
        self._status = {code: RoomStatus("idle", started) for code in registry.rooms}
        self.version = 0

    def get(self, room: str) -> RoomStatus:
        return self._status[room]

    def set_status(self, room: str, status: str, detail: str = "") -> bool:
        """Change a room's status; returns False when nothing changed."""
        if status not in ROOM_STATES:
            raise ValueError(f"unknown room status {status!r}")
        info = self._registry.rooms[room]  # KeyError for an unknown room is a caller bug
        current = self._status[room]
        if current.status == status and current.detail == detail:
            return False
        new = RoomStatus(status, utcnow(), detail)
        self._status[room] = new
        self.version += 1
        self._bus.post(
            Event(
                kind="room.status",
                target=Target(kind="room", court=info.court, room=room),
                data={"status": status, "previous": current.status, "detail": detail},
            )
        )
        return True

    def counts(self, rooms: list[str]) -> dict[str, int]:
        result = dict.fromkeys(ROOM_STATES, 0)
        for code in rooms:
            result[self._status[code].status] += 1
        return result
