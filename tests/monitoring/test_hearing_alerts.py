"""Monitoring and the hearing lifecycle together, in the app as create_app wires them."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from control.api_monitoring import Monitoring
from control.core import Core
from control.db import utcnow
from control.iso8601 import iso
from control.live import LIVE
from media.sources import PatternSpec, render_clip
from tests.conftest import auth
from tests.hearing.conftest import book, file_case, move
from tests.recorder.conftest import FastFeed

ROOM = "HL0102-01"


def in_minutes(minutes: float) -> str:
    return iso(utcnow() + timedelta(minutes=minutes))


async def test_opening_a_hearing_escalates_the_rooms_open_alerts(
        client: TestClient, tokens: dict[str, str], mon: Monitoring) -> None:
    alert = await mon.alerts.raise_alert(ROOM, "main", "frozen", value=30.0)
    assert alert.severity == "major" and not alert.escalated
    clerk = tokens["clerk.daoli"]
    case = await file_case(client, clerk)
    hearing = await book(client, clerk, case["id"], room=ROOM)
    await move(client, clerk, hearing["id"], "opened")
    r = await client.get(f"/api/alerts/{alert.id}", headers=auth(tokens["sec.harbin"]))
    body = await r.json()
    assert body["escalated"] is True and body["severity"] == "critical"
    # While the hearing is live, new alerts in the room are raised escalated at once.
    assert mon.alerts.hearing_live(ROOM) and not mon.alerts.hearing_live("HL0102-02")
    later = await mon.alerts.raise_alert(ROOM, "main", "black", value=10.0)
    assert later.escalated


async def test_a_hearing_about_to_start_in_a_dark_room_is_an_alert(
        client: TestClient, tokens: dict[str, str], mon: Monitoring, services: Core) -> None:
    events = services.bus.subscribe()
    clerk = tokens["clerk.daoli"]
    case = await file_case(client, clerk)
    body = {"case_id": case["id"], "room": ROOM, "starts_at": in_minutes(8),
            "ends_at": in_minutes(68)}
    r = await client.post("/api/hearings", json=body, headers=auth(clerk))
    assert r.status == 201, await r.text()
    # Booked inside the lead window of a dark room: the schedule's event raises it at once.
    raised = await events.next("alert.raised", where=lambda e: e.data["kind"] == "feeds_down")
    assert raised.target.room == ROOM
    assert mon.upcoming is not None and f"hearing:{(await r.json())['id']}" in mon.upcoming.hearings
    # The courtroom's encoder comes up: its stream event clears it, no poll needed.
    feed = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main",
                    render_clip(PatternSpec("dark room", gop_s=1, duration_s=1)))
    feed.push(1)
    cleared = await events.next("alert.cleared", where=lambda e: e.data["kind"] == "feeds_down")
    assert cleared.target.room == ROOM
    assert not [a for a in mon.alerts.open_in(ROOM) if a.kind == "feeds_down"]
    feed.close()


async def test_the_lead_window_opens_by_a_timer(
        client: TestClient, tokens: dict[str, str], mon: Monitoring, services: Core) -> None:
    assert mon.upcoming is not None
    lead_min = mon.upcoming.lead.total_seconds() / 60
    events = services.bus.subscribe()
    clerk = tokens["clerk.daoli"]
    case = await file_case(client, clerk)
    starts = lead_min + 1.0 / 60  # the window opens a second from now
    body = {"case_id": case["id"], "room": ROOM, "starts_at": in_minutes(starts),
            "ends_at": in_minutes(starts + 60)}
    r = await client.post("/api/hearings", json=body, headers=auth(clerk))
    assert r.status == 201, await r.text()
    assert not [a for a in mon.alerts.open_in(ROOM) if a.kind == "feeds_down"]
    raised = await events.next("alert.raised", within=5,
                               where=lambda e: e.data["kind"] == "feeds_down")
    assert raised.target.room == ROOM and mon.upcoming.edges.fired >= 1
    # Cancelling the hearing takes the room off the watch and clears the alert.
    hid = (await r.json())["id"]
    await move(client, clerk, hid, "cancelled")
    await events.next("alert.cleared", where=lambda e: e.data["kind"] == "feeds_down")
    assert f"hearing:{hid}" not in mon.upcoming.hearings
