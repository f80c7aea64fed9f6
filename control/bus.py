"""In-process publish/subscribe for state changes; subscribers have bounded queues."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from control.db import utcnow
from control.policy import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """A state change. `action` and `target` say who may see it (via the policy)."""

    kind: str
    target: Target
    data: dict[str, Any] = field(default_factory=dict)
    action: str = "room.status"
    at: datetime = field(default_factory=utcnow)

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "at": self.at.isoformat().replace("+00:00", "Z"),
                "court": self.target.court,
                "room": self.target.room,
                "data": self.data,
            },
            ensure_ascii=False,
            default=str,
        )


class Subscription:
    """One subscriber's bounded queue. Overflow drops the subscriber instead of growing."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.closed = False

    def offer(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    async def get(self) -> Event | None:
        """The next event, or None once the subscription is closed (or overflowed)."""
        if self.closed and self._queue.empty():
            return None
        if self.overflowed:
            return None
        event = await self._queue.get()
        return None if self.overflowed else event

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._bus._subscribers.discard(self)
        # Wake a reader blocked in get(); with a full queue, drop the backlog first.
        while not self._queue.empty() and self.overflowed:
            self._queue.get_nowait()
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:  # pragma: no cover - the queue was just drained
            pass


class EventBus:
    """Fan-out of events to subscribers; publishing never blocks."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self.published = 0

    def subscribe(self, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subscribers.add(sub)
        return sub

    def publish(self, event: Event) -> None:
        self.published += 1
        for sub in list(self._subscribers):
            sub.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
