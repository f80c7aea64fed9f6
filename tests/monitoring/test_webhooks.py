"""Webhooks: signed JSON posts to a receiver on loopback, retried, bounded, never blocking."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from control.bus import Event, EventBus
from control.policy import Target
from control.webhooks import SIGNATURE_HEADER, Webhooks, WebhookSettings, sign, verify
from tests.media.peers import wait_until

SECRET = "s3cret-shared-with-case-management"
ROOM = Target(kind="room", court="HL0102", room="HL0102-01")


class Receiver:
    """A court system on 127.0.0.1 that fails the first `fail` posts with `status`."""

    def __init__(self, fail: int = 0, status: int = 503) -> None:
        self.fail, self.status = fail, status
        self.attempts = 0
        self.got: list[tuple[dict, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if self.attempts <= self.fail:
            return web.Response(status=self.status)
        assert verify(SECRET, body, request.headers[SIGNATURE_HEADER])
        self.got.append((json.loads(body), dict(request.headers)))
        return web.Response(status=204)


async def start(aiohttp_server, receiver: Receiver) -> str:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/hook"))


def settings(*urls: str, **kw) -> WebhookSettings:
    return WebhookSettings(urls=urls, secret=SECRET, timeout_s=2.0, backoff_s=0.01, **kw)


async def test_events_are_signed_and_delivered(aiohttp_server) -> None:
    receiver = Receiver()
    bus = EventBus()
    hooks = Webhooks(bus, settings(await start(aiohttp_server, receiver)))
    await hooks.start()
    try:
        bus.post(Event("room.status", ROOM, {"status": "live"}))
        bus.post(Event("stream.viewer_joined", ROOM, {"reader": "x"}))  # not wanted
        bus.post(Event("hearing.opened", ROOM, {"hearing": 7}, action="hearing.view"))
        bus.post(Event("hearing.opened", Target(kind="hearing", court="HL0102",
                                                   private=True), {"hearing": 8}))
        # Published on another node: that node delivers it, not every node again.
        bus.post(Event("alert.raised", ROOM, {"kind": "silent"}, action="alert.view",
                       node="node-b"))
        bus.post(Event("alert.raised", ROOM, {"kind": "frozen"}, action="alert.view"))
        assert await wait_until(lambda: len(receiver.got) == 3, 5)
    finally:
        await hooks.stop()
    kinds = [body["kind"] for body, _ in receiver.got]
    assert kinds == ["room.status", "hearing.opened", "alert.raised"]  # in order
    assert receiver.got[2][0]["data"] == {"kind": "frozen"}
    body, headers = receiver.got[0]
    assert body["room"] == "HL0102-01" and body["data"] == {"status": "live"}
    assert headers["X-Courtav-Event"] == "room.status" and len(headers["X-Courtav-Delivery"]) == 32
    assert headers["Content-Type"] == "application/json"
    assert hooks.stats.delivered == 3 and hooks.stats.failed == 0


async def test_failures_are_retried_with_back_off(aiohttp_server) -> None:
    receiver = Receiver(fail=3, status=503)
    bus = EventBus()
    hooks = Webhooks(bus, settings(await start(aiohttp_server, receiver), retries=4))
    await hooks.start()
    try:
        bus.post(Event("recording.stopped", ROOM, {"recording": 1}))
        assert await wait_until(lambda: len(receiver.got) == 1, 5)
    finally:
        await hooks.stop()
    assert receiver.attempts == 4 and hooks.stats.retries == 3 and hooks.stats.delivered == 1


async def test_a_refusal_is_not_retried_and_a_dead_receiver_is_given_up(aiohttp_server) -> None:
    refusing = Receiver(fail=100, status=400)
    bus = EventBus()
    dead = "http://127.0.0.1:9/hook"  # discard port: nothing listens
    hooks = Webhooks(bus, settings(await start(aiohttp_server, refusing), dead, retries=2))
    await hooks.start()
    try:
        bus.post(Event("alert.cleared", ROOM, {}))
        assert await wait_until(lambda: hooks.stats.failed == 2, 5)
    finally:
        await hooks.stop()
    assert refusing.attempts == 1  # 400 means "never": no retry
    assert hooks.stats.retries == 2  # the dead one: first try and two more


async def test_a_slow_receiver_costs_its_own_bounded_queue() -> None:
    bus = EventBus()
    hooks = Webhooks(bus, settings("http://127.0.0.1:9/hook", queue_size=3))
    for i in range(10):  # not started: nothing drains, offering must still not block
        hooks.offer(Event("room.status", ROOM, {"n": i}))
    assert hooks.queued == 3 and hooks.stats.dropped == 7


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError):
        WebhookSettings(urls=("ftp://example.org/x",), secret=SECRET)
    with pytest.raises(ValueError):
        WebhookSettings(urls=("http://127.0.0.1/x",), secret="")
    assert sign("k", b"{}") == sign("k", b"{}") != sign("k", b"{ }")
