"""Alerts: de-duplication, acknowledgement, escalation, room fault status, listing, schedule."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.alerts import Upcoming, hearings_at_risk
from control.api_monitoring import Monitoring
from control.core import Core
from control.db import utcnow
from control.models import Alert, AuditEvent
from tests.conftest import auth

ROOM, FEED = "HL0102-01", "main"  # Daoli (HL0102), under Harbin (HL01)
SIBLING = "HL0103-01"  # Nangang, Daoli's sibling


async def drain(sub) -> list:
    await sub.bus.drain()
    return sub.ready()


async def test_one_open_alert_per_room_feed_and_kind(mon: Monitoring, services: Core) -> None:
    events = services.bus.subscribe()
    first = await mon.alerts.raise_alert(ROOM, FEED, "frozen", value=21.0, detail="still")
    again = await mon.alerts.raise_alert(ROOM, FEED, "frozen", value=40.0)
    other_feed = await mon.alerts.raise_alert(ROOM, "sub", "frozen")
    assert again.id == first.id and other_feed.id != first.id
    raised = [e for e in await drain(events) if e.kind == "alert.raised"]
    assert len(raised) == 2 and raised[0].action == "alert.view"
    data = raised[0].data
    assert (data["room"], data["feed"], data["kind"], data["severity"]) == (
        ROOM, FEED, "frozen", "major")
    assert data["since"].endswith("Z") and data["state"] == "open"
    assert data["thumbnail"] == f"/api/courtrooms/{ROOM}/feeds/{FEED}/thumbnail.jpg"
    assert raised[0].target.court == "HL0102" and raised[0].target.room == ROOM

    cleared = await mon.alerts.clear_alert(ROOM, FEED, "frozen")
    assert cleared is not None and cleared.state == "cleared" and cleared.cleared_at
    assert await mon.alerts.clear_alert(ROOM, FEED, "frozen") is None
    assert [e.kind for e in await drain(events)] == ["alert.cleared"]
    # Back within a minute: the same alert reopens rather than a new row per flap.
    back = await mon.alerts.raise_alert(ROOM, FEED, "frozen")
    assert back.id == first.id and back.reopened == 1 and back.cleared_at is None
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 2


async def test_acknowledge_with_comment(client: TestClient, tokens: dict[str, str],
                                        mon: Monitoring, services: Core) -> None:
    alert = await mon.alerts.raise_alert(ROOM, FEED, "black", value=16.0)
    url = f"/api/alerts/{alert.id}/ack"
    body = {"comment": "lens cap on camera 1, bailiff sent"}
    # Daoli's judge may not; Nangang's security does not even see it; Harbin's security may.
    r = await client.post(url, json=body, headers=auth(tokens["judge.daoli"]))
    assert r.status == 404
    r = await client.post(url, json={}, headers=auth(tokens["sec.harbin"]))
    assert r.status == 400
    r = await client.post(url, json=body, headers=auth(tokens["sec.harbin"]))
    assert r.status == 200, await r.text()
    got = await r.json()
    assert got["state"] == "acknowledged" and got["acked_by"] == "sec.harbin"
    assert got["ack_comment"] == body["comment"]
    r = await client.post(url, json=body, headers=auth(tokens["pres.daoli"]))
    assert r.status == 409
    # Acknowledged is still open: de-duplication holds, and clearing closes it.
    assert (await mon.alerts.raise_alert(ROOM, FEED, "black")).id == alert.id
    closed = await mon.alerts.clear_alert(ROOM, FEED, "black")
    assert closed is not None and closed.state == "cleared"
    with services.db.session() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.action == "alert.ack")).one()
        assert (row.actor, row.court, row.target) == ("sec.harbin", "HL0102",
                                                      f"alert/{alert.id}")


async def test_escalation_when_a_hearing_is_live(mon: Monitoring, services: Core) -> None:
    events = services.bus.subscribe()
    blur = await mon.alerts.raise_alert(ROOM, FEED, "blur")
    assert blur.severity == "warning" and not blur.escalated
    live_rooms = {ROOM}
    mon.alerts.hearing_live = lambda room: room in live_rooms  # as the hearing package wires it
    silence = await mon.alerts.raise_alert(ROOM, FEED, "silence")
    assert silence.escalated and silence.severity == "major"
    [escalated] = await mon.alerts.hearing_started(ROOM)
    assert escalated.id == blur.id and escalated.severity == "major" and escalated.escalated
    assert await mon.alerts.hearing_started(ROOM) == []  # once
    assert "alert.escalated" in [e.kind for e in await drain(events)]
    # A major alert escalated by a live hearing is critical: the room is at fault.
    await mon.alerts.raise_alert(ROOM, FEED, "frozen")
    assert services.monitor.get(ROOM).status == "fault"
    assert services.monitor.get(ROOM).detail == "alert: frozen on main"


async def test_room_is_at_fault_while_a_critical_alert_is_open(mon: Monitoring,
                                                              services: Core) -> None:
    services.monitor.set_status(ROOM, "live")
    await mon.alerts.raise_alert(ROOM, FEED, "blur")
    assert services.monitor.get(ROOM).status == "live"  # a warning is no fault
    await mon.alerts.raise_alert(ROOM, FEED, "video_loss")
    await mon.alerts.raise_alert(ROOM, "sub", "video_loss")
    assert services.monitor.get(ROOM).status == "fault"
    await mon.alerts.clear_alert(ROOM, FEED, "video_loss")
    assert services.monitor.get(ROOM).status == "fault"  # the sub camera is still lost
    await mon.alerts.clear_alert(ROOM, "sub", "video_loss")
    # Back to what the room is doing now: nothing is published in this test, so idle.
    assert services.monitor.get(ROOM).status == "idle"


async def test_list_alerts_by_subtree_kind_and_state(client: TestClient, tokens: dict[str, str],
                                                    mon: Monitoring) -> None:
    await mon.alerts.raise_alert(ROOM, FEED, "frozen")
    await mon.alerts.raise_alert(ROOM, FEED, "silence")
    await mon.alerts.raise_alert(SIBLING, FEED, "frozen")
    await mon.alerts.raise_alert("HL-01", FEED, "black")
    await mon.alerts.clear_alert(ROOM, FEED, "silence")

    async def rooms(user: str, query: str = "") -> list[tuple[str, str]]:
        r = await client.get(f"/api/alerts{query}", headers=auth(tokens[user]))
        assert r.status == 200, await r.text()
        return sorted((a["room"], a["kind"]) for a in (await r.json())["items"])

    assert await rooms("sec.daoli") == [(ROOM, "frozen"), (ROOM, "silence")]
    assert await rooms("sec.harbin", "?kind=frozen") == [(ROOM, "frozen"), (SIBLING, "frozen")]
    assert await rooms("sec.harbin", "?court=HL0103") == [(SIBLING, "frozen")]
    assert await rooms("pres.hl", "?state=active") == [
        ("HL-01", "black"), (ROOM, "frozen"), (SIBLING, "frozen")]
    assert await rooms("admin", "?state=cleared") == [(ROOM, "silence")]
    r = await client.get("/api/alerts?court=HL0103", headers=auth(tokens["sec.daoli"]))
    assert r.status == 404  # a sibling court is not theirs to name
    r = await client.get("/api/alerts", headers=auth(tokens["judge.daoli"]))
    assert r.status == 403
    r = await client.get("/api/alerts?state=nope", headers=auth(tokens["admin"]))
    assert r.status == 400
    one = (await (await client.get("/api/alerts?court=HL0103",
                                   headers=auth(tokens["admin"]))).json())["items"][0]
    r = await client.get(f"/api/alerts/{one['id']}", headers=auth(tokens["sec.daoli"]))
    assert r.status == 404
    r = await client.get(f"/api/alerts/{one['id']}", headers=auth(tokens["sec.harbin"]))
    assert r.status == 200 and (await r.json())["room"] == SIBLING


def test_hearings_at_risk_is_a_function_of_the_schedule() -> None:
    now = utcnow()
    upcoming = [
        Upcoming(ROOM, now + timedelta(minutes=8), "H1"),
        Upcoming(ROOM, now + timedelta(minutes=5), "H0"),  # the earlier one is named
        Upcoming(SIBLING, now + timedelta(minutes=30), "H2"),  # not yet
        Upcoming("HL-01", now + timedelta(minutes=2), "H3"),  # its feed is up
        Upcoming("HL-02", now - timedelta(minutes=1), "H4"),  # started: not "upcoming"
    ]
    risky = hearings_at_risk(upcoming, now, lambda room: room == "HL-01")
    assert list(risky) == [ROOM] and risky[ROOM].ref == "H0"


async def test_upcoming_hearing_in_a_dark_room_is_an_alert(mon: Monitoring,
                                                           services: Core) -> None:
    now = utcnow()
    soon = [Upcoming(ROOM, now + timedelta(minutes=9), "（2024）黑0102民初101号")]
    up: set[str] = set()
    await mon.alerts.check_upcoming(soon, lambda room: room in up, now)
    [alert] = mon.alerts.open_in(ROOM)
    assert (alert.kind, alert.feed, alert.severity, alert.source) == (
        "feeds_down", "", "critical", "schedule")
    assert alert.to_json()["thumbnail"] is None and "黑0102" in alert.detail
    assert services.monitor.get(ROOM).status == "fault"
    await mon.alerts.check_upcoming(soon, lambda room: room in up, now)  # de-duplicated
    assert len(mon.alerts.open_in(ROOM)) == 1
    up.add(ROOM)  # the encoder came up
    await mon.alerts.check_upcoming(soon, lambda room: room in up, now)
    assert mon.alerts.open_in(ROOM) == []
    assert services.monitor.get(ROOM).status == "idle"
