"""The bus across nodes: PostgreSQL `LISTEN/NOTIFY` on one channel, on psycopg 3 async connections.

Every event published on this node (origin "") is sent to the other nodes as
`<node> <instance> <seq> e\\n<encoded event>`; one too large for a NOTIFY is stored in
`bus_payloads` and sent as `<node> <instance> <seq> r\\n<row id>`. Events from other nodes are
published on the local bus marked with their origin and never forwarded again. The sequence
number per publishing process shows a lost notification (logged and counted). When the LISTEN
connection drops, it is opened again with bounded backoff and a local `bus.resync` event tells
WebSocket clients they may have missed events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import replace

import psycopg
from aiohttp import web
from sqlalchemy.engine import make_url

from control.bus import ANY, RESYNC, Event, EventBus
from control.policy import Target

log = logging.getLogger(__name__)

CHANNEL = "courtav_bus"
NOTIFY_LIMIT = 7900  # bytes; PostgreSQL refuses a payload of 8000 or more
BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 5.0
KEEP_PAYLOADS_S = 60.0  # a receiver reads a stored payload within moments; a minute is ample
SWEEP_S = 30.0
QUEUE_LIMIT = 10_000  # events waiting to be sent while the database is away


def libpq_url(sqlalchemy_url: str) -> str:
    """`postgresql+psycopg://...` (SQLAlchemy) as the `postgresql://...` libpq connects to."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


class PostgresBusBridge:
    """Forwards this node's events to the other nodes and publishes theirs on this node's bus."""

    def __init__(self, bus: EventBus, database_url: str, node_id: str) -> None:
        self.bus, self.node_id = bus, node_id
        self._url = libpq_url(database_url)
        self._instance = secrets.token_hex(4)  # a restarted node starts a new sequence
        self._seq = 0
        self._outbox: asyncio.Queue[tuple[int, Event]] = asyncio.Queue(QUEUE_LIMIT)
        self._send: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._listen: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._last: dict[str, tuple[str, int]] = {}  # origin node -> (instance, last seq)
        self._tasks: list[asyncio.Task[None]] = []
        self._opening = asyncio.Lock()  # sender, payload reader and sweeper share `_send`
        self.listen_pid = 0  # the backend of the LISTEN connection (tests terminate it)
        self.sent = self.received = self.gaps = self.dropped = self.reconnects = 0
        bus.on(ANY, self._forward)

    # ---- start and stop ----

    async def start(self) -> None:
        """Connect and LISTEN before returning, so what other nodes publish next is heard."""
        self._send = await self._connect()
        self._listen = await self._open_listen()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._sender(), name="bus-notify"),
                       loop.create_task(self._listener(), name="bus-listen"),
                       loop.create_task(self._sweeper(), name="bus-payload-sweep")]

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):  # the last events out, if the database is there
            await asyncio.wait_for(self._outbox.join(), 2.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for conn in (self._send, self._listen):
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    await conn.close()
        self._send = self._listen = None

    @property
    def send_pid(self) -> int:
        """The backend of the sending connection (0 when none is open)."""
        return self._send.info.backend_pid if self._send is not None else 0

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(self._url, autocommit=True)

    async def _sending(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        """The connection that sends, reads stored payloads and sweeps; opened again if lost."""
        async with self._opening:
            if self._send is None or self._send.closed:
                self._send = await self._connect()
            return self._send

    async def _open_listen(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        conn = await self._connect()
        await conn.execute(f"LISTEN {CHANNEL}")
        self.listen_pid = conn.info.backend_pid
        return conn

    # ---- sending ----

    def _forward(self, event: Event) -> None:
        if event.is_remote or event.kind == RESYNC:  # never echo; a resync is this node's own
            return
        self._seq += 1
        try:
            self._outbox.put_nowait((self._seq, event))
        except asyncio.QueueFull:
            self.dropped += 1
            log.error("cross-node bus: %d events waiting; %s not sent", QUEUE_LIMIT, event.kind)

    async def _sender(self) -> None:
        while True:
            seq, event = await self._outbox.get()
            try:
                await self._notify(seq, event)
            finally:
                self._outbox.task_done()

    async def _notify(self, seq: int, event: Event) -> None:
        """Send one event; on a broken connection, reconnect (bounded backoff) and send again."""
        delay = BACKOFF_MIN_S
        head = f"{self.node_id} {self._instance} {seq}"
        body = event.encode()
        while True:
            try:
                conn = await self._sending()
                if len(head) + len(body.encode()) + 3 <= NOTIFY_LIMIT:
                    payload = f"{head} e\n{body}"
                else:
                    cur = await conn.execute(
                        "INSERT INTO bus_payloads (body, created_at) VALUES (%s, now()) "
                        "RETURNING id", (body,))
                    row = await cur.fetchone()
                    assert row is not None
                    payload = f"{head} r\n{row[0]}"
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                self.sent += 1
                return
            except psycopg.OperationalError as exc:  # the server or the network is away
                log.warning("cross-node bus: sending %s failed (%s); retrying in %.2f s",
                            event.kind, exc, delay)
                async with self._opening:
                    if self._send is not None and (self._send.broken or self._send.closed):
                        with contextlib.suppress(psycopg.Error):
                            await self._send.close()
                        self._send = None
            except psycopg.Error as exc:  # this event cannot go: retrying would not help
                self.dropped += 1
                log.error("cross-node bus: %s not sent: %s", event.kind, exc)
                return
            await asyncio.sleep(delay)  # backoff before reconnecting, not synchronisation
            delay = min(delay * 2, BACKOFF_MAX_S)

    # ---- receiving ----

    async def _listener(self) -> None:
        delay = BACKOFF_MIN_S
        while True:
            try:
                if self._listen is None:
                    self._listen = await self._open_listen()
                    self._resynced()
                delay = BACKOFF_MIN_S
                async for note in self._listen.notifies():
                    await self._receive(note.payload)
            except psycopg.Error as exc:
                log.warning("cross-node bus: LISTEN connection lost (%s); reconnecting in %.2f s",
                            exc, delay)
            if self._listen is not None:
                with contextlib.suppress(psycopg.Error):
                    await self._listen.close()
                self._listen = None
            await asyncio.sleep(delay)  # bounded backoff between attempts
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _resynced(self) -> None:
        self.reconnects += 1
        self._last.clear()  # what was sent meanwhile is lost: sequences start over
        log.info("cross-node bus: listening again; clients told to resync")
        self.bus.post(Event(RESYNC, Target(kind="system"), {"node": self.node_id}))

    async def _receive(self, payload: str) -> None:
        try:
            head, _, rest = payload.partition("\n")
            origin, instance, seq_text, form = head.split(" ")
            seq = int(seq_text)
        except ValueError:
            log.warning("cross-node bus: not a bus notification: %.80r", payload)
            return
        if origin == self.node_id:
            return  # our own, echoed by PostgreSQL
        last = self._last.get(origin)
        if last is not None and last[0] == instance and seq != last[1] + 1:
            self.gaps += 1
            log.warning("cross-node bus: from %s expected #%d, got #%d", origin, last[1] + 1, seq)
        self._last[origin] = (instance, seq)
        try:
            body = rest if form == "e" else await self._stored(int(rest))
            event = Event.decode(body)
        except (ValueError, LookupError, psycopg.Error) as exc:
            log.warning("cross-node bus: event #%d from %s unreadable: %s", seq, origin, exc)
            return
        self.received += 1
        self.bus.post(replace(event, node=origin))

    async def _stored(self, row_id: int) -> str:
        conn = await self._sending()
        cur = await conn.execute("SELECT body FROM bus_payloads WHERE id = %s", (row_id,))
        row = await cur.fetchone()
        if row is None:
            raise LookupError(f"bus payload {row_id} is gone")
        return str(row[0])

    async def sweep(self) -> int:
        """Delete stored payloads older than a minute; how many went."""
        conn = await self._sending()
        cur = await conn.execute(
            "DELETE FROM bus_payloads WHERE created_at < now() - %s * interval '1 s'",
            (KEEP_PAYLOADS_S,))
        return cur.rowcount

    async def _sweeper(self) -> None:
        while True:  # on a timer, not per event
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except psycopg.Error as exc:
                log.warning("cross-node bus: sweeping stored payloads failed: %s", exc)


BUS_BRIDGE = web.AppKey("bus_bridge", PostgresBusBridge)
