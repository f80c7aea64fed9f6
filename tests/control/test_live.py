"""Live media through the control plane: the policy on WHIP/WHEP, room status, audit, thumbnails."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.app import build_services, create_app
from control.config import DemoSettings, Settings
from control.core import Core
from control.live import LIVE
from control.models import AuditEvent
from media import TrackInfo
from tests.conftest import auth, login
from tests.media.peers import WhepViewer, WhipPublisher, wait_until


async def test_clerk_publishes_and_president_watches(client: TestClient, tokens: dict[str, str],
                                                     services: Core) -> None:
    events = services.bus.subscribe()
    pub = await WhipPublisher(client, "rooms/HL0102-01/main", tokens["clerk.daoli"]).start()
    assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "live", 5)
    viewer = await WhepViewer(client, "rooms/HL0102-01/main", tokens["pres.harbin"]).start()
    try:
        await viewer.wait_video(10, timeout=8)
        assert viewer.video_sizes[-1] == (320, 240)
        thumb = await client.get("/api/courtrooms/HL0102-01/feeds/main/thumbnail.jpg",
                                 headers=auth(tokens["judge.daoli"]))
        assert thumb.status == 200 and thumb.content_type == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(await thumb.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == 320
        assert (await pub.delete()) == 200
        assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "idle", 5)
    finally:
        await viewer.close()
        await pub.close()
    await services.bus.drain()
    kinds = [(ev.kind, ev.data.get("status")) for ev in events.ready()]
    assert ("room.status", "live") in kinds and ("stream.up", None) in kinds
    assert ("room.status", "idle") in kinds

    def live_rows() -> list[tuple[str | None, str | None, str]]:
        with services.db.session() as s:
            return [(r.actor, r.role, r.action) for r in s.scalars(
                select(AuditEvent).where(AuditEvent.action.like("live.%")))]

    expected = {("clerk.daoli", "clerk", "live.publish.start"),
                ("pres.harbin", "president", "live.view.start"),
                ("clerk.daoli", "clerk", "live.publish.end")}
    # The session audit is written off the request path: wait for the rows, not for a while.
    assert await wait_until(lambda: expected <= set(live_rows()), 5), live_rows()


async def test_policy_guards_whip_and_whep(client: TestClient, tokens: dict[str, str]) -> None:
    sdp = {"Content-Type": "application/sdp"}
    offer = "v=0\r\n"
    cases = [
        ("/whep/rooms/HL0102-01/main", None, 401),
        ("/whip/rooms/HL0102-01/main", None, 401),
        # A sibling court's president and a judge publishing: the room does not exist for them.
        ("/whep/rooms/HL0102-01/main", "pres.hl", None),
        ("/whep/rooms/HL0103-01/main", "pres.daoli", 404),
        ("/whip/rooms/HL0102-01/main", "judge.daoli", 404),
        ("/whip/rooms/HL0102-01/main", "pres.harbin", 404),
        ("/whep/rooms/HL0102-01/nosuchfeed", "admin", 404),
        ("/whep/rooms/NOPE-01/main", "admin", 404),
        ("/whep/elsewhere/x", "admin", 404),
    ]
    for path, user, status in cases:
        headers = {**sdp, **(auth(tokens[user]) if user else {})}
        r = await client.post(path, data=offer, headers=headers)
        if status is None:  # allowed: refused only later, because nothing is published there
            assert r.status == 404 and "no stream" in (await r.json())["detail"], path
            continue
        assert r.status == status, (path, user, await r.text())
        assert "error" in await r.json()


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return replace(settings, demo=DemoSettings(enabled=True, test_pattern_rooms=("HL0102-02",)))


async def test_demo_rooms_run_a_test_pattern(aiohttp_client, demo_settings: Settings) -> None:
    services = build_services(demo_settings)
    client = await aiohttp_client(create_app(demo_settings, services))
    assert await wait_until(lambda: services.monitor.get("HL0102-02").status == "live", 10)
    token = await login(client, "judge.daoli")
    viewer = await WhepViewer(client, "rooms/HL0102-02/main", token).start()
    try:
        await viewer.wait_video(5, timeout=8)
        assert viewer.video_sizes[0] == (640, 360)
        await viewer.wait_audio(5)
    finally:
        await viewer.close()
    live = client.app[LIVE]
    assert len(live.patterns) == 1 and live.patterns[0].running


async def test_every_stream_event_is_on_the_bus_outside_rooms_privately(
        client: TestClient, services: Core) -> None:
    """Live media turns the media plane's stream events into bus events in one place: a room
    feed's with its room; any other path's (a remote site) private, for internal handlers."""
    seen: list[tuple[str, str, bool]] = []
    services.bus.on("stream.*", lambda e: seen.append(
        (e.kind, str(e.data["path"]), e.target.private)))
    sub = services.bus.subscribe()
    streams = client.app[LIVE].streams
    tracks = [TrackInfo(kind="video", codec="H264", clock_rate=90000)]
    site = streams.publish("sites/HLJ-KSS01/7", tracks, label="test")
    room = streams.publish("rooms/HL0102-01/main", tracks, label="test")
    site.close()
    room.close()
    await services.bus.drain()
    assert seen == [("stream.up", "sites/HLJ-KSS01/7", True),
                    ("stream.up", "rooms/HL0102-01/main", False),
                    ("stream.down", "sites/HLJ-KSS01/7", True),
                    ("stream.down", "rooms/HL0102-01/main", False)]
    up = await sub.next("stream.up", where=lambda e: not e.target.private)
    assert up.target.room == "HL0102-01" and up.data["feed"] == "main"
    sub.close()
