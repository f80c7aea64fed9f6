"""Disclosure: the redacted public schedule, broadcast approval, on-air listing, publications."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

from aiohttp.test_utils import TestClient

from control.core import CORE
from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS, at, book, file_case, move

CLERK, JUDGE = SESSION_TOKENS["clerk.daoli"], SESSION_TOKENS["judge.daoli"]
PRESIDENT = SESSION_TOKENS["pres.daoli"]
PARTIES = [
    {"role": "plaintiff", "kind": "natural", "name": "张三", "id_number": "230102198005011234",
     "phone": "13812345678", "address": "哈尔滨市道里区安静街12号"},
    {"role": "defendant", "kind": "natural", "name": "欧阳娜娜", "phone": "045188886666"},
    {"role": "third_party", "kind": "organisation", "name": "哈尔滨某某商贸有限公司"},
]
TITLE = "张三诉欧阳娜娜借贷纠纷（张三电话13812345678，身份证230102198005011234）"


def local_day(day: int = 1) -> str:
    return at(0, day).astimezone(timezone(timedelta(hours=8))).date().isoformat()


async def public_case(client: TestClient, number: str = "（2024）黑0102民初101号",
                      **extra: Any) -> dict[str, Any]:
    return await file_case(client, CLERK, number, parties=PARTIES, **extra)


async def approve(client: TestClient, token: str, hearing_id: int, approved: bool = True,
                  status: int = 200) -> dict[str, Any]:
    r = await client.post(f"/api/hearings/{hearing_id}/broadcast", json={"approved": approved},
                          headers=auth(token))
    assert r.status == status, await r.text()
    return dict(await r.json())


async def public_get(client: TestClient, path: str, status: int = 200) -> Any:
    r = await client.get(path)
    assert r.status == status, await r.text()
    return await r.json()


async def test_the_public_schedule_is_redacted(client: TestClient) -> None:
    case = await public_case(client, cause="张三与欧阳娜娜民间借贷纠纷")
    shown = await book(client, CLERK, case["id"], public=True, title=TITLE)
    private = await file_case(client, CLERK, "（2024）黑0102民初102号")
    await book(client, CLERK, private["id"], start=3, end=4)  # not public: not listed
    r = await client.get(f"/api/public/schedule?day={local_day()}")
    assert r.status == 200
    raw = await r.text()
    body = json.loads(raw)
    assert [h["id"] for h in body["hearings"]] == [shown["id"]]
    hearing = body["hearings"][0]
    assert hearing["title"] == "张某诉欧阳某借贷纠纷（张某电话×××，身份证×××）"
    assert hearing["case"]["cause"] == "张某与欧阳某民间借贷纠纷"
    assert [p["name"] for p in hearing["case"]["parties"]] == ["张某", "欧阳某",
                                                             "哈尔滨某某商贸有限公司"]
    assert hearing["court"]["name_zh"] and hearing["room"]["code"] == "HL0102-01"
    assert hearing["on_air"] is False
    for secret in ("张三", "欧阳娜娜", "13812345678", "230102198005011234", "045188886666",
                   "安静街", "judge.daoli", "clerk.daoli"):
        assert secret not in raw
    assert "id_number" not in raw and "phone" not in raw
    week = await public_get(client, f"/api/public/schedule?week={local_day()}&court=HL01")
    assert week["total"] == 1
    assert (await public_get(client, f"/api/public/schedule?day={local_day()}&court=HL0103")
            )["total"] == 0
    await public_get(client, f"/api/public/schedule?day={local_day()}&court=XX99", 404)
    await public_get(client, "/api/public/schedule", 400)


async def test_only_approved_public_live_hearings_are_on_air(client: TestClient) -> None:
    case = await public_case(client)
    h = await book(client, CLERK, case["id"], public=True, title=TITLE)
    await move(client, CLERK, h["id"], "opened")
    assert (await public_get(client, "/api/public/live"))["hearings"] == []
    for user, status in [("judge.daoli", 403), ("clerk.daoli", 403), ("judge.nangang", 404),
                         ("pres.hl", 200)]:
        await approve(client, SESSION_TOKENS[user], h["id"], status=status)
    r = await client.post(f"/api/hearings/{h['id']}/broadcast", json={"approved": True})
    assert r.status == 401
    body = await public_get(client, "/api/public/live")
    assert [x["id"] for x in body["hearings"]] == [h["id"]]
    live = body["hearings"][0]
    assert live["whep"] == "/whep/rooms/HL0102-01/main" and live["title"].startswith("张某诉")
    assert live["viewers"] == 0 and live["viewer_cap"] == 200
    schedule = await public_get(client, f"/api/public/schedule?day={local_day()}")
    assert schedule["hearings"][0]["on_air"] is True
    await approve(client, PRESIDENT, h["id"], approved=False)
    assert (await public_get(client, "/api/public/live"))["hearings"] == []
    await approve(client, PRESIDENT, h["id"])
    assert len((await public_get(client, "/api/public/live"))["hearings"]) == 1
    await move(client, CLERK, h["id"], "closed")
    await wait_on_air(client, 0)
    await approve(client, PRESIDENT, h["id"], status=409)  # it is over


async def wait_on_air(client: TestClient, count: int) -> list[dict[str, Any]]:
    """The broadcasts follow the transition's event: once the bus has dispatched what was
    published so far, the public list says so."""
    await client.app[CORE].bus.drain()
    items = (await public_get(client, "/api/public/live"))["hearings"]
    assert len(items) == count, f"{len(items)} hearings on air, not {count}"
    return list(items)


async def test_restricted_cases_can_never_be_broadcast(client: TestClient) -> None:
    secret = await file_case(client, CLERK, "（2024）黑0102刑初7号", restriction="state_secret")
    h = await book(client, CLERK, secret["id"])
    err = await approve(client, PRESIDENT, h["id"], status=409)
    assert err["detail"]["restrictions"] == ["state_secret"]
    minors = await file_case(client, CLERK, "（2024）黑0102民初103号",
                             parties=[{**PARTIES[0], "minor": True}])
    h2 = await book(client, CLERK, minors["id"], start=3, end=4)
    err = await approve(client, PRESIDENT, h2["id"], status=409)
    assert err["detail"]["restrictions"] == ["minors"]
    plain = await public_case(client)
    h3 = await book(client, CLERK, plain["id"], start=5, end=6)
    await approve(client, PRESIDENT, h3["id"], status=409)  # not public
    # A public, approved, live hearing whose case turns out to involve privacy goes off air.
    await client.patch(f"/api/hearings/{h3['id']}", json={"public": True}, headers=auth(CLERK))
    await approve(client, PRESIDENT, h3["id"])
    await move(client, CLERK, h3["id"], "opened")
    await wait_on_air(client, 1)
    r = await client.patch(f"/api/cases/{plain['id']}", json={"restriction": "privacy"},
                           headers=auth(CLERK))
    assert r.status == 200, await r.text()
    assert (await public_get(client, "/api/public/live"))["hearings"] == []
    schedule = await public_get(client, f"/api/public/schedule?day={local_day()}")
    assert schedule["hearings"] == []


async def test_published_documents_are_redacted(client: TestClient) -> None:
    case = await public_case(client)
    text = ("原告张三（身份证号230102198005011234，电话13812345678，住哈尔滨市道里区安静街12号）"
            "与被告欧阳娜娜民间借贷纠纷一案，本院依法公开审理。<script>alert(1)</script>")
    doc = {"kind": "document", "title": "张三与欧阳娜娜民间借贷纠纷一审民事判决书", "text": text}
    for user, status in [("clerk.daoli", 403), ("judge.daoli2", 404), ("judge.nangang", 404)]:
        r = await client.post(f"/api/cases/{case['id']}/publications", json=doc,
                              headers=auth(SESSION_TOKENS[user]))
        assert r.status == status, (user, await r.text())
    r = await client.post(f"/api/cases/{case['id']}/publications", json=doc, headers=auth(JUDGE))
    assert r.status == 201, await r.text()
    pub = await r.json()
    assert pub["public_title"] == "张某与欧阳某民间借贷纠纷一审民事判决书"
    listing = await public_get(client, "/api/public/publications?kind=document")
    assert [p["id"] for p in listing["items"]] == [pub["id"]]
    got = await public_get(client, listing["items"][0]["document"])
    assert got["text"].startswith("原告张某（身份证号×××，电话×××，住哈尔滨市道里区）与被告欧阳某")
    assert "<script>alert(1)</script>" in got["text"]  # text, escaped by the page
    secret = await file_case(client, CLERK, "（2024）黑0102刑初8号", restriction="state_secret")
    r = await client.post(f"/api/cases/{secret['id']}/publications", json=doc,
                          headers=auth(PRESIDENT))
    assert r.status == 409
    r = await client.delete(f"/api/publications/{pub['id']}", headers=auth(CLERK))
    assert r.status == 403
    r = await client.delete(f"/api/publications/{pub['id']}", headers=auth(PRESIDENT))
    assert r.status == 200
    await public_get(client, f"/api/public/documents/{pub['id']}", 404)
    assert (await public_get(client, "/api/public/publications"))["items"] == []
