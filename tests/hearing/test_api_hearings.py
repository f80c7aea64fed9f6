"""Hearings API: booking with conflicts refused, visibility per role and bench, rescheduling."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.core import Core
from hearing.models import Hearing, HearingEvent, HearingSeat
from tests.conftest import auth
from tests.hearing.conftest import NANGANG_CASE, book, file_case, from_now, iso_at, move


def rows(services: Core, model: Any) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
async def case_id(client: TestClient, tokens: dict[str, str]) -> int:
    return (await file_case(client, tokens["clerk.daoli"]))["id"]


async def other_case(client: TestClient, tokens: dict[str, str], seq: int = 102) -> int:
    case = await file_case(client, tokens["clerk.daoli"], f"（2024）黑0102民初{seq}号",
                           presiding_judge="judge.daoli2", clerk="clerk.daoli2")
    return case["id"]


async def test_book_and_read(client: TestClient, tokens: dict[str, str], case_id: int,
                             services: Core) -> None:
    h = await book(client, tokens["clerk.daoli"], case_id, panel=["judge.daoli2"],
                   title="第一次开庭", public=True)
    assert (h["state"], h["room"], h["court"]) == ("scheduled", "HL0102-01", "HL0102")
    assert (h["presiding_judge"], h["panel"], h["clerk"]) == \
        ("judge.daoli", ["judge.daoli2"], "clerk.daoli")
    assert h["starts_at"] == iso_at(0) and h["allowed"] == ["opened", "cancelled"]
    assert h["case"]["number"] == "（2024）黑0102民初101号" and h["public"] is True
    seen = {"admin": 200, "pres.hl": 200, "pres.daoli": 200, "clerk.daoli": 200,
            "clerk.daoli2": 200, "judge.daoli": 200, "judge.daoli2": 200, "judge.daoli3": 404,
            "clerk.nangang": 404, "judge.nangang": 404, "sec.daoli": 404, "clerk.harbin": 404}
    for user, status in seen.items():
        r = await client.get(f"/api/hearings/{h['id']}", headers=auth(tokens[user]))
        assert r.status == status, user
        listed = await (await client.get("/api/hearings", headers=auth(tokens[user]))).json()
        assert listed["total"] == (1 if status == 200 else 0), user
    assert (await client.get(f"/api/hearings/{h['id']}")).status == 401
    with services.db.session() as s:
        log = s.scalars(select(HearingEvent)).one()
    assert (log.kind, log.actor, log.to_state) == ("scheduled", "clerk.daoli", "scheduled")


async def test_book_by_case_number_and_bench_from_the_case(
    client: TestClient, tokens: dict[str, str], case_id: int,
) -> None:
    h = await book(client, tokens["clerk.daoli"], None,
                   case_number="(2024)黑0102民初101号")
    assert h["case"]["id"] == case_id and h["presiding_judge"] == "judge.daoli"
    await book(client, tokens["clerk.daoli"], None,
               case_number="（2024）黑0102民初999号", status=404)
    r = await book(client, tokens["clerk.daoli"], None,
                   case_number="（2024）黑0102民X1号", status=400)
    assert r["detail"]["part"] == "type"


@pytest.mark.parametrize(("extra", "reason", "who"), [
    ({"room": "HL0102-01", "start": 1, "end": 3}, "room", None),
    ({"room": "HL0102-02", "start": 1.5, "end": 2.5, "presiding_judge": "judge.daoli"},
     "presiding_judge", "judge.daoli"),
    ({"room": "HL0102-02", "start": -1, "end": 0.5, "presiding_judge": "judge.daoli3"},
     "panel", "judge.daoli3"),
    ({"room": "HL0102-03", "start": 0, "end": 2, "clerk": "clerk.daoli"}, "clerk",
     "clerk.daoli"),
])
async def test_conflicts_are_refused_naming_the_hearing(
    client: TestClient, tokens: dict[str, str], case_id: int, services: Core,
    extra: dict[str, Any], reason: str, who: str | None,
) -> None:
    first = await book(client, tokens["clerk.daoli"], case_id, panel=["judge.daoli3"])
    second = await other_case(client, tokens)
    before = (rows(services, Hearing), rows(services, HearingSeat), rows(services, HearingEvent))
    body = {"presiding_judge": "judge.daoli2", "clerk": "clerk.daoli2", **extra}
    err = await book(client, tokens["clerk.daoli"], second, status=409, **body)
    conflict = err["detail"]["conflicts"][0]
    assert (conflict["hearing"], conflict["reason"], conflict["who"]) == (first["id"], reason, who)
    assert conflict["case"] == "（2024）黑0102民初101号"
    assert f"hearing {first['id']}" in err["error"] and "（2024）黑0102民初101号" in err["error"]
    after = (rows(services, Hearing), rows(services, HearingSeat), rows(services, HearingEvent))
    assert after == before


async def test_back_to_back_and_cancelled_do_not_conflict(
    client: TestClient, tokens: dict[str, str], case_id: int,
) -> None:
    clerk = tokens["clerk.daoli"]
    first = await book(client, clerk, case_id, start=0, end=2)
    await book(client, clerk, case_id, start=2, end=3)  # same room and bench, right after
    await book(client, clerk, case_id, start=-1, end=0)  # and right before
    await book(client, clerk, case_id, start=1, end=2.5, status=409)
    await move(client, clerk, first["id"], "cancelled", reason="当事人申请延期")
    await book(client, clerk, case_id, start=0.5, end=1.5)


@pytest.mark.parametrize(("extra", "status", "says"), [
    ({"starts_at": "2030-01-01T09:00:00"}, 400, "needs a time zone"),
    ({"starts_at": "tomorrow"}, 400, "ISO 8601"),
    ({"starts_at": 1700000000}, 400, "ISO 8601"),
    ({"start": 2, "end": 1}, 400, "after starts_at"),
    ({"start": 0, "end": 13}, 400, "at most 12 hours"),
    ({"start": -30, "end": -29}, 400, "already passed"),
    ({"room": "HL0102-99"}, 400, "unknown courtroom"),
    ({"room": "HL0103-01"}, 400, "another court"),
    ({"panel": ["judge.daoli"]}, 400, "one seat"),
    ({"panel": ["judge.nangang"]}, 400, "panel"),
    ({"panel": "judge.daoli2"}, 400, "panel"),
    ({"clerk": "judge.daoli2"}, 400, "clerk"),
    ({"presiding_judge": "clerk.daoli2"}, 400, "presiding_judge"),
    ({"case_id": 999999}, 404, "not found"),
    ({"case_id": "1"}, 400, "case_id"),
    ({"public": "yes"}, 400, "public"),
    ({"title": "x" * 300}, 400, "title"),
    ({"state": "opened"}, 400, "unknown field"),
])
async def test_bad_bookings_write_nothing(
    client: TestClient, tokens: dict[str, str], case_id: int, services: Core,
    extra: dict[str, Any], status: int, says: str,
) -> None:
    body: dict[str, Any] = {"case_id": case_id, "room": "HL0102-01", "starts_at": iso_at(0),
                            "ends_at": iso_at(2)}
    start, end = extra.pop("start", None), extra.pop("end", None)
    if start is not None:
        body["starts_at"], body["ends_at"] = iso_at(start), iso_at(end)
    body.update(extra)
    r = await client.post("/api/hearings", json=body, headers=auth(tokens["clerk.daoli"]))
    assert r.status == status, await r.text()
    err = await r.json()
    assert says in err["error"] + str(err["detail"])
    assert rows(services, Hearing) == 0 and rows(services, HearingSeat) == 0


async def test_who_may_book(client: TestClient, tokens: dict[str, str], case_id: int) -> None:
    for user, status in [("judge.daoli", 403), ("pres.daoli", 403), ("clerk.nangang", 404),
                         ("sec.daoli", 404), ("clerk.harbin", 404)]:
        await book(client, tokens[user], case_id, status=status)
    await book(client, tokens["admin"], case_id)
    await book(client, tokens["clerk.daoli2"], case_id, start=3, end=4)


async def test_a_private_case_is_never_heard_in_public(
    client: TestClient, tokens: dict[str, str],
) -> None:
    clerk = tokens["clerk.daoli"]
    secret = await file_case(client, clerk, "（2024）黑0102刑初7号", restriction="state_secret")
    err = await book(client, clerk, secret["id"], public=True, status=400)
    assert err["detail"]["restrictions"] == ["state_secret"]
    young = await file_case(client, clerk, "（2024）黑0102刑初8号",
                            parties=[{"role": "defendant", "name": "小王", "minor": True}])
    await book(client, clerk, young["id"], public=True, status=400)
    # A case that becomes restricted takes its coming hearings off the public schedule.
    open_case = await file_case(client, clerk, "（2024）黑0102民初9号")
    h = await book(client, clerk, open_case["id"], room="HL0102-05", public=True)
    r = await client.patch(f"/api/cases/{open_case['id']}", json={"restriction": "privacy"},
                           headers=auth(clerk))
    assert r.status == 200
    got = await (await client.get(f"/api/hearings/{h['id']}", headers=auth(clerk))).json()
    assert got["public"] is False


async def test_reschedule(client: TestClient, tokens: dict[str, str], case_id: int,
                          services: Core) -> None:
    clerk = tokens["clerk.daoli"]
    first = await book(client, clerk, case_id)
    second = await book(client, clerk, await other_case(client, tokens), room="HL0102-02",
                        presiding_judge="judge.daoli2", clerk="clerk.daoli2")
    path = f"/api/hearings/{second['id']}"
    r = await client.patch(path, json={"room": "HL0102-01"}, headers=auth(clerk))
    assert r.status == 409
    assert (await r.json())["detail"]["conflicts"][0]["hearing"] == first["id"]
    r = await client.patch(path, json={"panel": ["judge.daoli"]}, headers=auth(clerk))
    assert r.status == 409  # judge.daoli sits on the first hearing then
    r = await client.patch(path, json={"room": "HL0102-01", "starts_at": iso_at(2),
                                       "ends_at": iso_at(4), "panel": ["judge.daoli"]},
                           headers=auth(clerk))
    assert r.status == 200, await r.text()
    moved = await r.json()
    assert (moved["room"], moved["starts_at"], moved["panel"]) == \
        ("HL0102-01", iso_at(2), ["judge.daoli"])
    for patch, status in [({"state": "closed"}, 400), ({}, 400), ({"ends_at": iso_at(1)}, 400),
                          ({"presiding_judge": "judge.daoli2", "panel": ["judge.daoli2"]}, 400)]:
        r = await client.patch(path, json=patch, headers=auth(clerk))
        assert r.status == status, patch
    for user, status in [("pres.daoli", 403), ("judge.daoli2", 403), ("clerk.nangang", 404)]:
        r = await client.patch(path, json={"title": "x"}, headers=auth(tokens[user]))
        assert r.status == status, user
    events = await (await client.get(f"{path}/events", headers=auth(clerk))).json()
    kinds = [e["kind"] for e in events["events"]]
    assert kinds == ["scheduled", "rescheduled"]
    assert events["events"][1]["detail"]["room"] == ["HL0102-02", "HL0102-01"]
    with services.db.session() as s:
        seats = s.execute(select(HearingSeat.username, HearingSeat.seat)
                          .where(HearingSeat.hearing_id == second["id"])).all()
    assert sorted(seats) == [("clerk.daoli2", "clerk"), ("judge.daoli", "panel"),
                             ("judge.daoli2", "presiding")]


async def test_a_live_hearing_may_only_be_extended(client: TestClient, tokens: dict[str, str],
                                                   case_id: int) -> None:
    clerk = tokens["clerk.daoli"]
    h = await book(client, clerk, case_id, starts_at=from_now(-0.5), ends_at=from_now(1))
    await move(client, clerk, h["id"], "opened")
    path = f"/api/hearings/{h['id']}"
    r = await client.patch(path, json={"room": "HL0102-02"}, headers=auth(clerk))
    assert r.status == 409
    later = from_now(2)
    r = await client.patch(path, json={"ends_at": later}, headers=auth(clerk))
    assert r.status == 200 and (await r.json())["ends_at"] == later
    await move(client, clerk, h["id"], "closed")
    r = await client.patch(path, json={"title": "补记"}, headers=auth(clerk))
    assert r.status == 409 and "closed" in (await r.json())["error"]


async def test_list_filters(client: TestClient, tokens: dict[str, str], case_id: int) -> None:
    clerk = tokens["clerk.daoli"]
    a = await book(client, clerk, case_id, start=0, end=1)
    b = await book(client, clerk, case_id, room="HL0102-02", start=3, end=4)
    nangang = await file_case(client, tokens["clerk.nangang"], NANGANG_CASE,
                              presiding_judge="judge.nangang", clerk="clerk.nangang")
    c = await book(client, tokens["clerk.nangang"], nangang["id"], room="HL0103-01")
    await move(client, clerk, b["id"], "cancelled")
    pres = tokens["pres.harbin"]

    async def ids(query: str, token: str = pres, status: int = 200) -> list[int]:
        r = await client.get(f"/api/hearings?{query}", headers=auth(token))
        assert r.status == status, await r.text()
        return [h["id"] for h in (await r.json())["items"]] if status == 200 else []

    assert await ids("") == [a["id"], c["id"], b["id"]]
    assert await ids("court=HL0102") == [a["id"], b["id"]]
    assert await ids("room=HL0103-01") == [c["id"]]
    assert await ids("state=cancelled") == [b["id"]]
    assert await ids("state=scheduled,opened") == [a["id"], c["id"]]
    assert await ids(f"from={iso_at(2)}") == [b["id"]]
    assert await ids(f"to={iso_at(0.5)}") == [a["id"], c["id"]]
    assert await ids(f"case={case_id}") == [a["id"], b["id"]]
    assert await ids("limit=1&offset=1") == [c["id"]]
    await ids("state=live", status=400)
    await ids("from=yesterday", status=400)
    await ids("room=HL0103-01", tokens["pres.daoli"], 404)
    await ids("court=HL0103", tokens["clerk.daoli"], 404)
    await ids("limit=0", status=400)


async def test_simultaneous_bookings_of_one_room(client: TestClient, tokens: dict[str, str],
                                                 case_id: int, services: Core) -> None:
    second = await other_case(client, tokens)
    body = {"room": "HL0102-04", "starts_at": iso_at(0), "ends_at": iso_at(1)}
    replies = await asyncio.gather(*(
        client.post("/api/hearings", json={**body, **extra}, headers=auth(tokens[user]))
        for user, extra in [("clerk.daoli", {"case_id": case_id}),
                            ("clerk.daoli2", {"case_id": second})] * 3
    ))
    assert sorted(r.status for r in replies) == [201, 409, 409, 409, 409, 409]
    assert rows(services, Hearing) == 1
