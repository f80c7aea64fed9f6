"""Webhooks: room, hearing, recording and alert events POSTed as signed JSON to the court's
other systems (case management, the public site).

A bus subscriber copies each wanted event into one bounded queue per URL and returns at once;
a sender per URL delivers in order, retrying with exponential back-off. A receiver that is
down costs its own queue (oldest events are dropped first), never the bus or the media path.
Each body is signed: `X-Courtav-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlparse

import aiohttp

from control.bus import Event, EventBus, Subscription

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Courtav-Signature"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class WebhookSettings:
    """Where to send events and how hard to try (the `[webhooks]` table of the config)."""

    urls: tuple[str, ...] = ()
    secret: str = ""
    timeout_s: float = 5.0
    retries: int = 5  # further attempts after the first
    backoff_s: float = 1.0  # doubled after each failed attempt ...
    max_backoff_s: float = 60.0  # ... up to this
    queue_size: int = 1000  # events waiting per URL
    kinds: tuple[str, ...] = ("room.", "hearing.", "recording.", "alert.")

    def __post_init__(self) -> None:
        for url in self.urls:
            if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
                raise ValueError(f"webhook URL must be http(s)://host/...: {url!r}")
        if self.urls and not self.secret:
            raise ValueError("webhooks need a secret to sign with")
        if self.retries < 0 or self.queue_size < 1 or self.timeout_s <= 0:
            raise ValueError("webhook retries, queue_size and timeout_s must be positive")


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


@dataclass
class WebhookStats:
    delivered: int = 0
    failed: int = 0  # gave up after every retry, or refused (4xx)
    dropped: int = 0  # pushed out of a full queue
    retries: int = 0
    missed: int = 0  # bus subscription overflowed (events never seen)


@dataclass
class _Target:
    url: str
    queue: deque[tuple[str, bytes]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Webhooks:
    """Delivers bus events to the configured URLs; `start()` and `stop()` with the app."""

    def __init__(self, bus: EventBus, settings: WebhookSettings) -> None:
        self.bus = bus
        self.settings = settings
        self.stats = WebhookStats()
        self._targets = [_Target(url) for url in settings.urls]
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    @property
    def queued(self) -> int:
        return sum(len(t.queue) for t in self._targets)

    def wanted(self, event: Event) -> bool:
        # Private business (sealed hearings, say) stays inside.
        # A remote event is delivered by the node it was published on, once.
        return (event.kind.startswith(self.settings.kinds) and not event.target.private
                and not event.is_remote)

    def offer(self, event: Event) -> None:
        """Queue one event for every URL (never blocks; a full queue drops its oldest)."""
        if not self._targets or not self.wanted(event):
            return
        body = event.to_json().encode()
        for target in self._targets:
            if len(target.queue) >= self.settings.queue_size:
                target.queue.popleft()
                self.stats.dropped += 1
            target.queue.append((event.kind, body))
            target.wake.set()

    async def start(self) -> None:
        if not self._targets:
            return
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout)
        sub = self.bus.subscribe(self.settings.queue_size)
        self._tasks = [asyncio.create_task(self._follow(sub), name="webhooks-bus")]
        self._tasks += [asyncio.create_task(self._send(t), name=f"webhook {t.url}")
                        for t in self._targets]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _follow(self, sub: Subscription) -> None:
        while True:
            event = await sub.get()
            if event is None:  # the bus dropped us for being slow: count it, carry on
                self.stats.missed += 1
                log.warning("webhooks fell behind the event bus; events were missed")
                sub = self.bus.subscribe(self.settings.queue_size)
                continue
            self.offer(event)

    async def _send(self, target: _Target) -> None:
        while True:
            while not target.queue:
                target.wake.clear()
                await target.wake.wait()
            kind, body = target.queue[0]
            delivered = await self._deliver(target.url, kind, body)
            if target.queue and target.queue[0][1] is body:
                target.queue.popleft()  # unless a full queue already pushed it out
            if delivered:
                self.stats.delivered += 1
            else:
                self.stats.failed += 1

    async def _deliver(self, url: str, kind: str, body: bytes) -> bool:
        """POST with retries; True once the receiver answers 2xx."""
        assert self._session is not None
        s = self.settings
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(s.secret, body),
                   "X-Courtav-Event": kind, "X-Courtav-Delivery": uuid.uuid4().hex}
        delay = s.backoff_s
        for attempt in range(s.retries + 1):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.max_backoff_s)
            try:
                async with self._session.post(url, data=body, headers=headers) as resp:
                    if 200 <= resp.status < 300:
                        return True
                    if resp.status not in RETRY_STATUSES:
                        log.warning("webhook %s refused %s: HTTP %s", url, kind, resp.status)
                        return False
                    reason = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            log.info("webhook %s: %s attempt %d failed (%s)", url, kind, attempt + 1, reason)
        log.warning("webhook %s: gave up on %s after %d attempts", url, kind, s.retries + 1)
        return False
