"""Conflict rules on their own, and the day and week views per court subtree and courtroom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from control.core import Core
from hearing.api_schedule import utc_offset, window
from hearing.errors import HearingError
from hearing.schedule import find_conflicts, overlaps
from tests.conftest import auth
from tests.hearing.conftest import NANGANG_CASE, at, book, file_case, move

T = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(("a", "b", "clash"), [
    ((0, 2), (1, 3), True), ((0, 2), (2, 3), False), ((0, 2), (-1, 0), False),
    ((0, 2), (0.5, 1), True), ((0, 2), (-1, 5), True), ((0, 2), (0, 2), True),
])
def test_overlaps_half_open(a: tuple[float, float], b: tuple[float, float], clash: bool) -> None:
    assert overlaps(T + a[0] * H, T + a[1] * H, T + b[0] * H, T + b[1] * H) is clash
    assert overlaps(T + b[0] * H, T + b[1] * H, T + a[0] * H, T + a[1] * H) is clash


async def test_find_conflicts(client: TestClient, tokens: dict[str, str],
                              services: Core) -> None:
    case = await file_case(client, tokens["clerk.daoli"])
    h = await book(client, tokens["clerk.daoli"], case["id"], panel=["judge.daoli2"])
    start, end = at(1), at(3)
    with services.db.session() as s:
        found = find_conflicts(s, "HL0102-01", start, end, ["judge.daoli2", "clerk.daoli",
                                                            "judge.daoli3"])
        assert [(c.reason, c.who) for c in found] == [
            ("room", None), ("panel", "judge.daoli2"), ("clerk", "clerk.daoli")]
        assert {c.hearing_id for c in found} == {h["id"]}
        assert find_conflicts(s, "HL0102-01", start, end, [], exclude=h["id"]) == []
        assert find_conflicts(s, "HL0102-02", at(2), at(3), ["judge.daoli"]) == []
    await move(client, tokens["clerk.daoli"], h["id"], "cancelled")
    with services.db.session() as s:
        assert find_conflicts(s, "HL0102-01", start, end, ["judge.daoli"]) == []


def test_windows() -> None:
    east8 = utc_offset("+08:00", timedelta(0))
    assert east8 == timedelta(hours=8) and utc_offset(" 08:00", timedelta(0)) == east8
    assert utc_offset(None, east8) == east8 and utc_offset("-03:30", east8) == -timedelta(
        hours=3, minutes=30)
    start, end = window("2025-03-05", None, east8)
    assert (start, end - start) == (datetime(2025, 3, 4, 16, tzinfo=UTC), timedelta(days=1))
    monday = datetime(2025, 3, 2, 16, tzinfo=UTC)  # 2025-W10 starts Monday 3 March, Harbin
    assert window(None, "2025-W10", east8)[0] == monday
    assert window(None, "2025-03-07", east8) == (monday, monday + timedelta(days=7))
    for day, week in [(None, None), ("2025-03-05", "2025-W10"), ("2025-02-30", None),
                      (None, "2025-W60"), ("tomorrow", None)]:
        with pytest.raises(HearingError):
            window(day, week, east8)
    for bad in ("+8", "+15:00", "08:60", "CST"):
        with pytest.raises(HearingError):
            utc_offset(bad, east8)


async def test_day_and_week_views(client: TestClient, tokens: dict[str, str]) -> None:
    clerk = tokens["clerk.daoli"]
    case = await file_case(client, clerk)
    other = await file_case(client, clerk, "（2024）黑0102民初102号",
                            presiding_judge="judge.daoli2", clerk="clerk.daoli2")
    a = await book(client, clerk, case["id"], start=0, end=1)
    b = await book(client, clerk, other["id"], room="HL0102-02", start=0, end=2)
    c = await book(client, clerk, case["id"], start=2, end=3)
    gone = await book(client, clerk, case["id"], room="HL0102-03", start=4, end=5)
    await move(client, clerk, gone["id"], "cancelled")
    nangang = await file_case(client, tokens["clerk.nangang"], NANGANG_CASE,
                              presiding_judge="judge.nangang", clerk="clerk.nangang")
    n = await book(client, tokens["clerk.nangang"], nangang["id"], room="HL0103-01")
    next_week = await book(client, clerk, case["id"], start=0, end=1, day=8)
    day = (at(0) + timedelta(hours=8)).date().isoformat()  # the hearings' day in Harbin

    async def view(query: str, user: str = "pres.harbin", status: int = 200) -> dict:
        r = await client.get(f"/api/schedule?{query}", headers=auth(tokens[user]))
        assert r.status == status, await r.text()
        return await r.json()

    body = await view(f"day={day}&tz=%2B08:00&court=HL01")
    assert body["tz"] == "+08:00" and body["total"] == 4
    assert [(r["room"], [h["id"] for h in r["hearings"]]) for r in body["rooms"]] == [
        ("HL0102-01", [a["id"], c["id"]]), ("HL0102-02", [b["id"]]), ("HL0103-01", [n["id"]])]
    assert body["rooms"][0]["name_zh"] == "第一法庭" and body["from"].endswith("16:00:00Z")
    daoli = await view(f"day={day}&tz=%2B08:00&court=HL0102")
    assert daoli["total"] == 3
    room = await view(f"day={day}&tz=%2B08:00&room=HL0102-01")
    assert [r["room"] for r in room["rooms"]] == ["HL0102-01"] and room["total"] == 2
    mine = await view(f"day={day}&tz=%2B08:00", "judge.daoli")
    assert {h["id"] for r in mine["rooms"] for h in r["hearings"]} == {a["id"], c["id"]}
    assert (await view(f"day={day}", "sec.daoli"))["rooms"] == []
    week = await view(f"week={day}&tz=%2B08:00&court=HL0102")
    assert week["total"] == 3
    following = (at(0, day=8) + timedelta(hours=8)).date().isoformat()
    assert [h["id"] for r in (await view(f"week={following}&tz=%2B08:00"))["rooms"]
            for h in r["hearings"]] == [next_week["id"]]
    await view(f"day={day}&court=HL0103", "pres.daoli", 404)
    await view(f"day={day}&room=HL0103-01", "clerk.daoli", 404)
    await view("day=2025-13-01", status=400)
    await view(f"day={day}&week={day}", status=400)
    await view("", status=400)
    await view(f"day={day}&tz=Asia/Harbin", status=400)
    assert (await client.get(f"/api/schedule?day={day}")).status == 401
