"""The one event bus: every state change another part reacts to is an `Event` published here.

Two kinds of subscriber:
- internal handlers (`bus.on(kind, handler)`): reliable, called in publishing order, awaited one
  at a time; an error is logged and counted, never dropped silently and never stops the bus.
  This is how packages react to each other: grep an event kind to see who reacts to it.
- client queues (`bus.subscribe()`): bounded and lossy; a client that falls behind is dropped
  (WebSocket clients, webhooks).

Events are small JSON-serialisable dataclasses so the same event can cross a process boundary.
Per-packet and per-frame work never goes through the bus.

Across nodes (PostgreSQL, `control/bus_postgres.py`) every local event is forwarded to the other
nodes, which publish it marked with its origin (`event.node`, "" when local). Client queues get
every event, local or remote. An internal handler gets remote events only when registered with
`remote=True`: opt in where the state it keeps is shared by all nodes (a cache of database rows,
token revocation); leave it out where the handler acts on what THIS node holds (its streams,
its recorders), or every node would act on one event.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from control.db import utcnow
from control.iso8601 import iso, parse_iso
from control.policy import Target

log = logging.getLogger(__name__)

Handler = Callable[["Event"], Awaitable[None] | None]
ANY = "*"  # `bus.on(ANY, handler)`: every event, whatever its kind
# Published locally when this node may have missed events of other nodes (its LISTEN
# connection dropped): every WebSocket client gets it and should refetch what it shows.
RESYNC = "bus.resync"

CLOSE_DRAIN_S = 10.0  # a handler stuck at shutdown must not hold the node up for ever

# True inside the bus's dispatcher and every task a handler starts: publishing from there
# queues the event and returns (waiting for the dispatcher from inside it would deadlock).
_IN_DISPATCH: contextvars.ContextVar[bool] = contextvars.ContextVar("in_dispatch", default=False)


@dataclass(frozen=True)
class Event:
    """A state change. `kind` names it (`hearing.opened`); `action` and `target` say who may see
    it through the one policy; `data` is its JSON payload."""

    kind: str
    target: Target
    data: dict[str, Any] = field(default_factory=dict)
    action: str = "room.status"
    at: datetime = field(default_factory=utcnow)
    node: str = ""  # the node it was published on; "" = this one

    @property
    def is_remote(self) -> bool:
        return bool(self.node)

    def to_json(self) -> str:
        """The form WebSocket clients receive."""
        return json.dumps(
            {"kind": self.kind, "at": iso(self.at), "court": self.target.court,
             "room": self.target.room, "data": self.data},
            ensure_ascii=False, default=str,
        )

    def encode(self) -> str:
        """The whole event as JSON, target included, for another process."""
        target = asdict(self.target)
        target["staff"] = sorted(self.target.staff)
        return json.dumps({"kind": self.kind, "action": self.action, "at": iso(self.at),
                           "target": target, "data": self.data, "node": self.node},
                          ensure_ascii=False, default=str)

    @classmethod
    def decode(cls, text: str) -> Event:
        """The inverse of `encode`; ValueError when `text` is not an encoded event."""
        try:
            body = json.loads(text)
            target = dict(body["target"])
            target["staff"] = frozenset(target.get("staff", ()))
            return cls(kind=str(body["kind"]), action=str(body["action"]),
                       at=parse_iso(body["at"]), target=Target(**target),
                       data=dict(body["data"]), node=str(body.get("node", "")))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an encoded event: {exc}") from None


class Subscription:
    """One client's bounded queue. Overflow drops the subscriber instead of growing."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self.bus = bus
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

    async def get(self, within: float | None = None) -> Event | None:
        """The next event, or None once the subscription is closed (or overflowed).

        With `within` (seconds), TimeoutError when no event came in time."""
        if self.closed and self._queue.empty():
            return None
        if self.overflowed:
            return None
        if within is None:
            event = await self._queue.get()
        else:
            event = await asyncio.wait_for(self._queue.get(), within)
        return None if self.overflowed else event

    async def next(self, kind: str, within: float = 5.0,
                   where: Callable[[Event], bool] | None = None) -> Event:
        """The next event of `kind` (that `where` accepts), skipping others; TimeoutError after
        `within` seconds. For code and tests that wait for something to happen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no {kind!r} event within {within} s")
            event = await self.get(left)
            if event is None:
                raise TimeoutError(f"subscription closed while waiting for {kind!r}")
            if event.kind == kind and (where is None or where(event)):
                return event

    def ready(self) -> list[Event]:
        """Every event queued now, without waiting (after `bus.drain()`: all published)."""
        out: list[Event] = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is not None:
                out.append(event)
        return out

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.bus._unsubscribe(self)
        # Wake a reader blocked in get(); with a full queue, drop the backlog first.
        while not self._queue.empty() and self.overflowed:
            self._queue.get_nowait()
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:  # pragma: no cover - the queue was just drained
            pass


class EventBus:
    """Publishes events in order to internal handlers (awaited) and client queues (lossy)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[Handler, bool]]] = {}
        self._subscribers: set[Subscription] = set()
        self._pending: deque[tuple[Event, asyncio.Future[None] | None]] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None
        self.published = 0
        self.handler_errors = 0

    # ---- subscribing ----

    def on(self, kind: str, handler: Handler, *, remote: bool = False) -> None:
        """Call `handler(event)` for every event of `kind`; `"prefix.*"` matches a family and
        `"*"` every kind. With `remote`, also for events published on other nodes."""
        self._handlers.setdefault(kind, []).append((handler, remote))

    def subscribe(self, maxsize: int = 256) -> Subscription:
        """A bounded client queue of every event (filter by policy when reading)."""
        sub = Subscription(self, maxsize)
        self._subscribers.add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def handlers_of(self, kind: str, *, remote: bool = False) -> list[Handler]:
        """The internal handlers an event of `kind` reaches, in the order they run: exact kind,
        then family, then `"*"`; for a `remote` event only those registered `remote=True`."""
        family = kind.rpartition(".")[0]
        entries = [*self._handlers.get(kind, ()),
                   *(self._handlers.get(f"{family}.*", ()) if family else ()),
                   *(self._handlers.get(ANY, ()) if kind != ANY else ())]
        return [handler for handler, opted in entries if opted or not remote]

    # ---- publishing ----

    def post(self, event: Event) -> None:
        """Publish without waiting (from synchronous code); order is kept all the same."""
        self._enqueue(event, None)

    async def publish(self, event: Event) -> None:
        """Publish and wait until every internal handler has run (unless called from one)."""
        if _IN_DISPATCH.get():
            self._enqueue(event, None)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(event, done)
        await done

    async def drain(self) -> None:
        """Wait until every event published so far has been dispatched."""
        while self._pending or (self._idle is not None and not self._idle.is_set()):
            if self._idle is None:
                return
            await self._idle.wait()

    async def close(self, within: float = CLOSE_DRAIN_S) -> None:
        """Dispatch what is queued (for at most `within` seconds), then stop the dispatcher."""
        try:
            await asyncio.wait_for(self.drain(), within)
        except TimeoutError:
            log.error("event bus closed with %d event(s) undispatched", len(self._pending))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _enqueue(self, event: Event, done: asyncio.Future[None] | None) -> None:
        self.published += 1
        self._pending.append((event, done))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script or a synchronous test): deliver at once
            self._dispatch_sync()
            return
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._wake, self._idle = asyncio.Event(), asyncio.Event()
            self._task = loop.create_task(self._run(), name="event-bus")
        assert self._wake is not None and self._idle is not None
        self._idle.clear()
        self._wake.set()

    def _dispatch_sync(self) -> None:
        while self._pending:
            event, _ = self._pending.popleft()
            for handler in self.handlers_of(event.kind, remote=event.is_remote):
                try:
                    result = handler(event)
                    if inspect.isawaitable(result):
                        raise RuntimeError("an async handler needs a running event loop")
                except Exception:
                    self._failed(handler, event)
            self._offer(event)

    async def _run(self) -> None:
        _IN_DISPATCH.set(True)
        assert self._wake is not None and self._idle is not None
        wake, idle = self._wake, self._idle
        while True:
            if not self._pending:
                idle.set()
                wake.clear()
                await wake.wait()
                continue
            event, done = self._pending.popleft()
            for handler in self.handlers_of(event.kind, remote=event.is_remote):
                try:
                    result = handler(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    self._failed(handler, event)
            self._offer(event)
            if done is not None and not done.done():
                done.set_result(None)

    def _offer(self, event: Event) -> None:
        for sub in list(self._subscribers):
            sub.offer(event)

    def _failed(self, handler: Handler, event: Event) -> None:
        self.handler_errors += 1
        log.exception("event handler %s failed on %s",
                      getattr(handler, "__qualname__", repr(handler)), event.kind)
