"""Lifecycle: the transition table, who may steer, gaps that block the end, audit, bus, hooks."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.app import create_app
from control.config import Settings
from control.core import Core
from control.db import utcnow
from control.models import AuditEvent
from hearing.errors import HearingError
from hearing.lifecycle import (
    ACTIVE,
    LIVE,
    STATES,
    TRANSITION_KINDS,
    TRANSITIONS,
    Transition,
    check_transition,
    record_gap,
)
from hearing.models import Hearing, HearingEvent
from hearing.recording import HEARING_RECORDER
from tests.conftest import auth
from tests.hearing.conftest import book, file_case, move

LEGAL = {
    ("scheduled", "opened"), ("scheduled", "cancelled"), ("opened", "recess"),
    ("opened", "closed"), ("opened", "adjourned"), ("recess", "resumed"),
    ("recess", "adjourned"), ("resumed", "recess"), ("resumed", "closed"),
    ("resumed", "adjourned"),
}


def test_the_transition_table() -> None:
    assert {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts} == LEGAL
    assert set(LIVE) < set(ACTIVE) < set(STATES)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("to", STATES)
def test_every_pair_is_checked(state: str, to: str) -> None:
    if (state, to) in LEGAL:
        check_transition(state, to)
        return
    with pytest.raises(HearingError) as err:
        check_transition(state, to)
    assert err.value.status == 409
    assert err.value.detail["allowed"] == list(TRANSITIONS[state])


def test_an_unknown_state_is_400() -> None:
    with pytest.raises(HearingError) as err:
        check_transition("scheduled", "live")
    assert err.value.status == 400


@pytest.fixture
async def hearing_id(client: TestClient, tokens: dict[str, str]) -> int:
    case = await file_case(client, tokens["clerk.daoli"])
    h = await book(client, tokens["clerk.daoli"], case["id"], panel=["judge.daoli2"])
    return int(h["id"])


async def test_a_whole_hearing(client: TestClient, tokens: dict[str, str], hearing_id: int,
                               services: Core) -> None:
    judge, clerk = tokens["judge.daoli"], tokens["clerk.daoli"]
    opened = await move(client, judge, hearing_id, "opened")
    assert opened["state"] == "opened" and opened["opened_at"].endswith("Z")
    assert opened["allowed"] == ["recess", "closed", "adjourned"]
    await move(client, clerk, hearing_id, "recess", reason="休庭十分钟")
    await move(client, judge, hearing_id, "resumed")
    closed = await move(client, judge, hearing_id, "closed")
    assert closed["state"] == "closed" and closed["closed_at"] and closed["allowed"] == []
    r = await client.get(f"/api/hearings/{hearing_id}/events", headers=auth(judge))
    log = (await r.json())["events"]
    assert [(e["from"], e["to"]) for e in log] == [
        (None, "scheduled"), ("scheduled", "opened"), ("opened", "recess"),
        ("recess", "resumed"), ("resumed", "closed"),
    ]
    assert log[2]["actor"] == "clerk.daoli" and log[2]["detail"]["reason"] == "休庭十分钟"
    with services.db.session() as s:
        audited = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("hearing.%"))
                            .order_by(AuditEvent.id)).all()
        assert services.audit.verify(s) is None
    assert audited == ["hearing.scheduled", "hearing.opened", "hearing.recess",
                       "hearing.resumed", "hearing.closed"]


async def test_illegal_transitions_name_the_allowed_ones(
    client: TestClient, tokens: dict[str, str], hearing_id: int, services: Core,
) -> None:
    clerk = tokens["clerk.daoli"]
    err = await move(client, clerk, hearing_id, "closed", status=409)
    assert err["detail"] == {"state": "scheduled", "to": "closed",
                             "allowed": ["opened", "cancelled"]}
    await move(client, clerk, hearing_id, "recess", status=409)
    await move(client, clerk, hearing_id, "live", status=400)
    await move(client, clerk, hearing_id, "opened")
    await move(client, clerk, hearing_id, "opened", status=409)
    await move(client, clerk, hearing_id, "cancelled", status=409)
    await move(client, clerk, hearing_id, "adjourned", reason="需补充证据")
    err = await move(client, clerk, hearing_id, "resumed", status=409)
    assert err["detail"]["allowed"] == []
    r = await client.post(f"/api/hearings/{hearing_id}/transitions", json={"to": 1},
                          headers=auth(clerk))
    assert r.status == 400
    r = await client.post(f"/api/hearings/{hearing_id}/transitions",
                          json={"to": "closed", "force": True}, headers=auth(clerk))
    assert r.status == 400
    with services.db.session() as s:
        kinds = s.scalars(select(HearingEvent.to_state).order_by(HearingEvent.id)).all()
    assert kinds == ["scheduled", "opened", "adjourned"]  # refusals left no trace


async def test_who_may_steer(client: TestClient, tokens: dict[str, str],
                             hearing_id: int) -> None:
    for user, status in [("judge.daoli2", 403), ("pres.daoli", 403), ("pres.hl", 403),
                         ("judge.daoli3", 404), ("clerk.nangang", 404), ("sec.daoli", 404),
                         ("judge.daoli", 403)]:
        to = "cancelled" if user == "judge.daoli" else "opened"
        await move(client, tokens[user], hearing_id, to, status=status)
    r = await client.post(f"/api/hearings/{hearing_id}/transitions", json={"to": "opened"})
    assert r.status == 401
    await move(client, tokens["clerk.daoli2"], hearing_id, "opened")  # any clerk of the court
    await move(client, tokens["admin"], hearing_id, "recess")
    detail = await (await client.get(f"/api/hearings/{hearing_id}",
                                     headers=auth(tokens["judge.daoli2"]))).json()
    assert detail["may"] == {"schedule": False, "steer": False}
    detail = await (await client.get(f"/api/hearings/{hearing_id}",
                                     headers=auth(tokens["judge.daoli"]))).json()
    assert detail["may"] == {"schedule": False, "steer": True}
    assert (await client.get("/api/hearings/abc", headers=auth(tokens["admin"]))).status == 404
    assert (await client.get("/api/hearings/999", headers=auth(tokens["admin"]))).status == 404


async def test_gaps_must_be_explained_by_the_presiding_judge(
    client: TestClient, tokens: dict[str, str], hearing_id: int, services: Core,
) -> None:
    judge = tokens["judge.daoli"]
    await move(client, judge, hearing_id, "opened")
    now = utcnow()
    with services.db.session() as s:
        gap = record_gap(s, hearing_id, now - timedelta(seconds=40), now, "main", "feed lost")
        open_gap = record_gap(s, hearing_id, now, None, None, "disk error")
        gap_ids = [gap.id, open_gap.id]
    err = await move(client, judge, hearing_id, "closed", status=409)
    assert err["detail"]["unexplained_gaps"] == gap_ids
    await move(client, judge, hearing_id, "adjourned", status=409)
    path = f"/api/hearings/{hearing_id}/gaps/{gap_ids[0]}/explanation"
    body = {"explanation": "主摄像机网络中断约40秒，期间由书记员同步记录。"}
    for user, status in [("clerk.daoli", 403), ("judge.daoli2", 403), ("admin", 403),
                         ("judge.nangang", 404), ("pres.daoli", 403)]:
        r = await client.post(path, json=body, headers=auth(tokens[user]))
        assert r.status == status, user
    for bad in ({}, {"explanation": "  "}, {"explanation": "x" * 2001}, {"explanation": 5}):
        assert (await client.post(path, json=bad, headers=auth(judge))).status == 400
    r = await client.post(path, json=body, headers=auth(judge))
    assert r.status == 201
    signed = await r.json()
    assert signed["explained_by"] == "judge.daoli" and len(signed["signature"]) == 64
    r = await client.post(path, json={"explanation": "改写"}, headers=auth(judge))
    assert r.status == 409 and (await r.json())["detail"]["explanation"] == body["explanation"]
    err = await move(client, judge, hearing_id, "closed", status=409)
    assert err["detail"]["unexplained_gaps"] == gap_ids[1:]
    r = await client.post(f"/api/hearings/{hearing_id}/gaps/{gap_ids[1]}/explanation",
                          json={"explanation": "存储磁盘故障，已切换备用盘。"}, headers=auth(judge))
    assert r.status == 201
    await move(client, judge, hearing_id, "closed")
    gaps = await (await client.get(f"/api/hearings/{hearing_id}/gaps", headers=auth(judge))).json()
    assert [g["explanation"] is not None for g in gaps["gaps"]] == [True, True]
    with services.db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "hearing.gap_explained")
                          .order_by(AuditEvent.id)).first()
    assert audit is not None and audit.detail["signature"] == signed["signature"]


async def test_a_gap_of_another_hearing_is_not_found(
    client: TestClient, tokens: dict[str, str], hearing_id: int, services: Core,
) -> None:
    case = await file_case(client, tokens["clerk.daoli"], "（2024）黑0102民初55号")
    other = await book(client, tokens["clerk.daoli"], case["id"], room="HL0102-02", start=3,
                       end=4)
    with services.db.session() as s:
        gap_id = record_gap(s, other["id"], utcnow()).id
    r = await client.post(f"/api/hearings/{hearing_id}/gaps/{gap_id}/explanation",
                          json={"explanation": "x"}, headers=auth(tokens["judge.daoli"]))
    assert r.status == 404


async def test_transitions_reach_only_those_who_may_see_them(
    client: TestClient, tokens: dict[str, str], hearing_id: int,
) -> None:
    async def connect(user: str) -> aiohttp.ClientWebSocketResponse:
        ws = await client.ws_connect("/api/events", headers=auth(tokens[user]))
        assert json.loads((await ws.receive(timeout=2)).data)["kind"] == "hello"
        return ws

    judge = await connect("judge.daoli2")
    outsider = await connect("judge.daoli3")
    president = await connect("pres.harbin")
    await move(client, tokens["judge.daoli"], hearing_id, "opened")
    for ws in (judge, president):
        event = json.loads((await ws.receive(timeout=2)).data)
        assert event["kind"] == "hearing.opened" and event["room"] == "HL0102-01"
        assert event["data"]["hearing"] == hearing_id and event["data"]["previous"] == "scheduled"
    with pytest.raises(asyncio.TimeoutError):
        await outsider.receive(timeout=0.3)
    for ws in (judge, outsider, president):
        await ws.close()


async def test_handlers_of_each_transition_kind_are_told_in_order(
        client: TestClient, tokens: dict[str, str], hearing_id: int, services: Core) -> None:
    """Who reacts to a transition is whoever handles its kind (`hearing.opened` ...)."""
    seen: list[Transition] = []
    for kind in TRANSITION_KINDS:
        services.bus.on(kind, lambda e: seen.append(Transition.of(e)))
    for to in ("opened", "recess", "resumed", "closed"):
        await move(client, tokens["judge.daoli"], hearing_id, to)  # returns once handled
    assert [t.state for t in seen] == ["opened", "recess", "resumed", "closed"]
    first = seen[0]
    assert (first.hearing, first.room, first.court, first.previous) == \
        (hearing_id, "HL0102-01", "HL0102", "scheduled")
    assert first.case == "（2024）黑0102民初101号" and first.ends_at > first.at - timedelta(days=2)


async def test_a_failing_hearing_recording_keeps_the_transition_and_raises_an_alert(
    aiohttp_client: Any, settings: Settings, services: Core, tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = await aiohttp_client(create_app(settings, services))
    case = await file_case(client, tokens["clerk.daoli"])
    hearing_id = (await book(client, tokens["clerk.daoli"], case["id"]))["id"]

    async def disk_full(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(client.app[HEARING_RECORDER], "_record_all", disk_full)
    sub = services.bus.subscribe()
    await move(client, tokens["judge.daoli"], hearing_id, "opened")
    event = await sub.next("alert.raised", within=1)
    assert event.data["alert"] == "hearing.hook_failed" and "disk full" in event.data["error"]
    with services.db.session() as s:
        assert s.get(Hearing, hearing_id).state == "opened"  # type: ignore[union-attr]
    sub.close()
