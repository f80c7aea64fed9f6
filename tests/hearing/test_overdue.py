"""A hearing left open past its window raises one alert, from a timer, never a polling loop."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.bus import Event, Subscription
from control.core import Core
from control.db import utcnow
from control.policy import Principal
from hearing.models import Hearing, HearingEvent
from hearing.overdue import OverdueWatch
from hearing.service import HearingService
from tests.conftest import auth
from tests.hearing.conftest import book, file_case, from_now, move


async def live_hearing(client: TestClient, tokens: dict[str, str], ends_in_hours: float) -> int:
    case = await file_case(client, tokens["clerk.daoli"])
    h = await book(client, tokens["clerk.daoli"], case["id"], starts_at=from_now(-0.5),
                   ends_at=from_now(ends_in_hours))
    await move(client, tokens["clerk.daoli"], h["id"], "opened")
    return int(h["id"])


async def next_alert(services: Core, sub: Subscription, timeout: float) -> Event:
    return await sub.next("alert.raised", within=timeout)


async def test_one_alert_per_hearing(client: TestClient, tokens: dict[str, str],
                                     desk: HearingService, services: Core) -> None:
    hearing_id = await live_hearing(client, tokens, 0.5)
    assert hearing_id in desk.overdue.deadlines
    assert await desk.overdue.check(utcnow()) == []  # not yet
    sub = services.bus.subscribe()
    later = utcnow() + timedelta(hours=1)
    assert await desk.overdue.check(later) == [hearing_id]
    alert = await next_alert(services, sub, 1)
    assert alert.action == "alert.view" and alert.target.court == "HL0102"
    assert alert.data["alert"] == "hearing.overdue" and alert.data["hearing"] == hearing_id
    assert alert.data["case"] == "（2024）黑0102民初101号" and alert.data["state"] == "opened"
    desk.overdue.watch(hearing_id, later)  # even if told again, the row says it is done
    assert await desk.overdue.check(later) == []
    with services.db.session() as s:
        assert s.get(Hearing, hearing_id).overdue_alerted_at is not None  # type: ignore[union-attr]
        kinds = s.scalars(select(HearingEvent.kind).where(HearingEvent.hearing_id == hearing_id))
        assert "alert.overdue" in list(kinds)
    security = Principal("sec.daoli", "security", "HL0102", 1)
    judge = Principal("judge.daoli", "judge", "HL0102", 2)
    assert services.policy.can(security, alert.action, alert.target)
    assert not services.policy.can(judge, alert.action, alert.target)
    sub.close()


async def test_the_timer_fires_by_itself(client: TestClient, tokens: dict[str, str],
                                         services: Core) -> None:
    sub = services.bus.subscribe()
    hearing_id = await live_hearing(client, tokens, 1.0 / 3600)  # ends in a second
    alert = await next_alert(services, sub, 5)
    assert alert.data["hearing"] == hearing_id
    sub.close()


async def test_ended_or_extended_hearings_raise_nothing(
    client: TestClient, tokens: dict[str, str], desk: HearingService,
) -> None:
    hearing_id = await live_hearing(client, tokens, 0.5)
    r = await client.patch(f"/api/hearings/{hearing_id}", json={"ends_at": from_now(3)},
                           headers=auth(tokens["clerk.daoli"]))
    assert r.status == 200
    assert await desk.overdue.check(utcnow() + timedelta(hours=1)) == []
    await move(client, tokens["clerk.daoli"], hearing_id, "closed")
    assert hearing_id not in desk.overdue.deadlines
    assert await desk.overdue.check(utcnow() + timedelta(hours=5)) == []


async def test_a_restart_reads_the_live_hearings_once(
    client: TestClient, tokens: dict[str, str], services: Core,
) -> None:
    hearing_id = await live_hearing(client, tokens, 0.5)
    fresh = OverdueWatch(services)
    await fresh.start()
    try:
        assert set(fresh.deadlines) == {hearing_id}
        assert await fresh.check(utcnow() + timedelta(hours=1)) == [hearing_id]
    finally:
        await fresh.stop()
