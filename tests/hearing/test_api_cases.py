"""Cases API per role: filing, visibility by court and bench, personal data, search, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.core import Core
from control.models import AuditEvent
from hearing.models import Case, Party
from tests.conftest import auth
from tests.hearing.conftest import DAOLI_CASE, NANGANG_CASE, book, file_case

PLAINTIFF = {"role": "plaintiff", "kind": "natural", "name": "张三",
             "id_number": "230102198005011234", "phone": "13812345678",
             "address": "哈尔滨市道里区安静街12号"}
COMPANY = {"role": "defendant", "kind": "organisation", "name": "哈尔滨某某商贸有限公司"}


def count(services: Core, model: Any) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


async def get(client: TestClient, path: str, token: str, status: int = 200) -> Any:
    r = await client.get(path, headers=auth(token))
    assert r.status == status, await r.text()
    return await r.json()


async def test_file_and_read_a_case(client: TestClient, tokens: dict[str, str],
                                    services: Core) -> None:
    case = await file_case(client, tokens["clerk.daoli"], "(2024)黑0102民初101号",
                           parties=[PLAINTIFF, COMPANY])
    assert case["number"] == DAOLI_CASE and case["court"] == "HL0102"
    assert (case["type"], case["type_code"], case["status"]) == ("civil", "民初", "filed")
    assert case["created_at"].endswith("Z")
    assert [p["name"] for p in case["parties"]] == ["张三", "哈尔滨某某商贸有限公司"]
    got = await get(client, f"/api/cases/{case['id']}", tokens["clerk.daoli"])
    assert got["parties"][0]["id_number"] == "230102198005011234"
    assert got["hearings"] == [] and got["broadcast_blockers"] == []
    with services.db.session() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.filed")).one()
    assert audit.actor == "clerk.daoli" and audit.detail["number"] == DAOLI_CASE


@pytest.mark.parametrize(("number", "part"), [
    ("2024黑0102民初1号", "brackets"),
    ("（1985）黑0102民初1号", "year"),
    ("（2024）京0102民初1号", "court"),
    ("（2024）黑0102民X1号", "type"),
    ("（2024）黑0102民初0号", "sequence"),
    ("（2024）黑0102民初1", "sequence"),
])
async def test_invalid_numbers_are_refused_naming_the_part(
    client: TestClient, tokens: dict[str, str], services: Core, number: str, part: str,
) -> None:
    r = await client.post("/api/cases", json={"number": number}, headers=auth(tokens["admin"]))
    assert r.status == 400
    body = await r.json()
    assert body["error"].startswith("invalid case number") and body["detail"]["part"] == part
    assert count(services, Case) == 0


async def test_who_may_file_where(client: TestClient, tokens: dict[str, str]) -> None:
    body = {"number": NANGANG_CASE}
    for user in ("clerk.daoli", "pres.daoli", "judge.daoli", "pres.harbin", "sec.daoli"):
        r = await client.post("/api/cases", json=body, headers=auth(tokens[user]))
        assert r.status == 403, user
    assert (await client.post("/api/cases", json=body)).status == 401
    r = await client.post("/api/cases", json=body, headers=auth(tokens["clerk.nangang"]))
    assert r.status == 201
    r = await client.post("/api/cases", json=body, headers=auth(tokens["admin"]))
    assert r.status == 409 and (await r.json())["detail"]["number"] == NANGANG_CASE


@pytest.mark.parametrize(("extra", "says"), [
    ({"presiding_judge": "clerk.daoli2"}, "presiding_judge"),
    ({"presiding_judge": "judge.nangang"}, "presiding_judge"),
    ({"clerk": "judge.daoli2"}, "clerk"),
    ({"clerk": "nobody"}, "clerk"),
    ({"status": "won"}, "status"),
    ({"restriction": "secret-ish"}, "restriction"),
    ({"type": "criminal"}, "type"),
    ({"court": "HL0103"}, "court"),
    ({"surprise": 1}, "unknown field"),
    ({"cause": 42}, "cause"),
    ({"cause": "x" * 300}, "cause"),
    ({"parties": [{"role": "king", "name": "张三"}]}, "party role"),
    ({"parties": [{"role": "plaintiff", "kind": "robot", "name": "张三"}]}, "party kind"),
    ({"parties": [{"role": "plaintiff", "name": " "}]}, "name"),
    ({"parties": [{**COMPANY, "minor": True}]}, "minor"),
    ({"parties": "张三"}, "parties"),
])
async def test_bad_input_is_400_and_writes_nothing(
    client: TestClient, tokens: dict[str, str], services: Core, extra: dict[str, Any],
    says: str,
) -> None:
    body = {"number": DAOLI_CASE, "presiding_judge": "judge.daoli", "clerk": "clerk.daoli",
            "parties": [PLAINTIFF], **extra}
    r = await client.post("/api/cases", json=body, headers=auth(tokens["clerk.daoli"]))
    assert r.status == 400, await r.text()
    error = await r.json()
    assert says in error["error"] + str(error["detail"])
    assert count(services, Case) == 0 and count(services, Party) == 0


async def test_malformed_bodies(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["clerk.daoli"])
    r = await client.post("/api/cases", data="{", headers={**h, "Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["error"] == "malformed JSON"
    assert (await client.post("/api/cases", data="number=1", headers=h)).status == 415
    assert (await client.post("/api/cases", json=[1], headers=h)).status == 400
    for bad in ("abc", "-1", "99999999999999999999", "1.5"):
        assert (await client.get(f"/api/cases/{bad}", headers=h)).status == 404


async def daoli_and_nangang(client: TestClient, tokens: dict[str, str]) -> dict[str, int]:
    """Three cases: Daoli's for judge.daoli, Daoli's for judge.daoli2, and Nangang's."""
    own = await file_case(client, tokens["clerk.daoli"], parties=[PLAINTIFF, COMPANY])
    other = await file_case(client, tokens["clerk.daoli"], "（2024）黑0102民初102号",
                            presiding_judge="judge.daoli2", clerk="clerk.daoli2")
    sibling = await file_case(client, tokens["clerk.nangang"], NANGANG_CASE,
                              presiding_judge="judge.nangang", clerk="clerk.nangang")
    return {"own": own["id"], "other": other["id"], "sibling": sibling["id"]}


async def test_each_role_sees_its_cases(client: TestClient, tokens: dict[str, str]) -> None:
    ids = await daoli_and_nangang(client, tokens)
    expected = {
        "admin": {"own", "other", "sibling"},
        "pres.hl": {"own", "other", "sibling"},
        "pres.harbin": {"own", "other", "sibling"},
        "pres.daoli": {"own", "other"},
        "clerk.daoli": {"own", "other"},
        "clerk.harbin": set(),
        "judge.daoli": {"own"},
        "judge.daoli3": set(),
        "clerk.nangang": {"sibling"},
        "sec.harbin": set(),
    }
    for user, names in expected.items():
        page = await get(client, "/api/cases", tokens[user])
        assert {c["id"] for c in page["items"]} == {ids[n] for n in names}, user
        assert page["total"] == len(names), user
        for name, case_id in ids.items():
            status = 200 if name in names else 404
            await get(client, f"/api/cases/{case_id}", tokens[user], status)
            await get(client, f"/api/cases/{case_id}/parties", tokens[user], status)
    assert (await client.get("/api/cases")).status == 401


async def test_a_judge_sees_the_cases_of_hearings_they_sit_on(
    client: TestClient, tokens: dict[str, str],
) -> None:
    ids = await daoli_and_nangang(client, tokens)
    await get(client, f"/api/cases/{ids['other']}", tokens["judge.daoli3"], 404)
    await book(client, tokens["clerk.daoli"], ids["other"], presiding_judge="judge.daoli2",
               panel=["judge.daoli3"], clerk="clerk.daoli2")
    got = await get(client, f"/api/cases/{ids['other']}", tokens["judge.daoli3"])
    assert got["number"] == "（2024）黑0102民初102号"
    page = await get(client, "/api/cases", tokens["judge.daoli3"])
    assert [c["id"] for c in page["items"]] == [ids["other"]]


async def test_personal_data_only_for_schedulers_and_the_bench(
    client: TestClient, tokens: dict[str, str],
) -> None:
    ids = await daoli_and_nangang(client, tokens)
    for user in ("clerk.daoli", "judge.daoli", "admin"):
        party = (await get(client, f"/api/cases/{ids['own']}", tokens[user]))["parties"][0]
        assert party["phone"] == "13812345678", user
    for user in ("pres.daoli", "pres.harbin"):
        for path in (f"/api/cases/{ids['own']}", f"/api/cases/{ids['own']}/parties"):
            body = await get(client, path, tokens[user])
            party = body["parties"][0]
            assert party["name"] == "张三" and party["personal_data_withheld"] is True
            assert party["id_number"] is None and party["phone"] is None
            assert party["address"] is None
        listed = await get(client, "/api/cases?party=张三", tokens[user])
        assert "13812345678" not in str(listed)


async def test_search(client: TestClient, tokens: dict[str, str]) -> None:
    ids = await daoli_and_nangang(client, tokens)
    pres = tokens["pres.harbin"]

    async def found(query: str) -> list[int]:
        return [c["id"] for c in (await get(client, f"/api/cases?{query}", pres))["items"]]

    assert await found("number=(2024)黑0102民初101号") == [ids["own"]]
    assert await found("number=黑0102民初") == [ids["other"], ids["own"]]
    assert await found("number=100%25") == []
    assert await found("party=某某商贸") == [ids["own"]]
    assert await found("court=HL0103") == [ids["sibling"]]
    assert await found("court=HL01&status=filed&type=civil") == [ids["sibling"], ids["other"],
                                                                  ids["own"]]
    assert await found("status=concluded") == []
    page = await get(client, "/api/cases?limit=1&offset=1", pres)
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == [ids["other"]]
    await get(client, "/api/cases?court=HL", pres, 404)  # above one's own court
    await get(client, "/api/cases?court=HL0103", tokens["pres.daoli"], 404)  # a sibling
    await get(client, "/api/cases?court=<x>", pres, 404)
    await get(client, "/api/cases?status=won", pres, 400)
    await get(client, "/api/cases?type=maritime", pres, 400)
    await get(client, "/api/cases?limit=1000", pres, 400)
    await get(client, f"/api/cases?party={'张' * 65}", pres, 400)


async def test_change_a_case(client: TestClient, tokens: dict[str, str],
                             services: Core) -> None:
    ids = await daoli_and_nangang(client, tokens)
    path = f"/api/cases/{ids['own']}"
    r = await client.patch(path, json={"cause": "买卖合同纠纷", "status": "in_trial",
                                       "presiding_judge": "judge.daoli2"},
                           headers=auth(tokens["clerk.daoli"]))
    assert r.status == 200, await r.text()
    body = await r.json()
    assert (body["cause"], body["status"], body["presiding_judge"]) == \
        ("买卖合同纠纷", "in_trial", "judge.daoli2")
    await get(client, path, tokens["judge.daoli"], 404)  # no longer on it
    for patch, status in [
        ({"number": "（2024）黑0102民初9号"}, 400), ({"court": "HL0103"}, 400), ({}, 400),
        ({"status": None}, 400), ({"presiding_judge": "judge.nangang"}, 400),
    ]:
        r = await client.patch(path, json=patch, headers=auth(tokens["clerk.daoli"]))
        assert r.status == status, (patch, await r.text())
    for user, status in [("pres.daoli", 403), ("judge.daoli2", 403), ("clerk.nangang", 404)]:
        r = await client.patch(path, json={"cause": "x"}, headers=auth(tokens[user]))
        assert r.status == status, user
    r = await client.patch(path, json={"clerk": None}, headers=auth(tokens["clerk.daoli"]))
    assert (await r.json())["clerk"] is None
    with services.db.session() as s:
        assert s.scalar(select(Case.cause).where(Case.id == ids["own"])) == "买卖合同纠纷"


async def test_parties_are_added_all_or_nothing(client: TestClient, tokens: dict[str, str],
                                               services: Core) -> None:
    ids = await daoli_and_nangang(client, tokens)
    path = f"/api/cases/{ids['other']}/parties"
    h = auth(tokens["clerk.daoli"])
    r = await client.post(path, json={"role": "victim", "name": "王小明", "minor": True},
                          headers=h)
    assert r.status == 201
    assert (await r.json())["parties"][0]["minor"] is True
    bad = {"parties": [{"role": "appellee", "name": "李四"}, {"role": "judge", "name": "x"}]}
    assert (await client.post(path, json=bad, headers=h)).status == 400
    listed = await get(client, path, tokens["clerk.daoli"])
    assert [p["name"] for p in listed["parties"]] == ["王小明"]
    r = await client.post(path, json={"role": "appellee", "name": "李四"},
                          headers=auth(tokens["pres.daoli"]))
    assert r.status == 403
    case = await get(client, f"/api/cases/{ids['other']}", tokens["clerk.daoli"])
    assert case["broadcast_blockers"] == ["minors"]
    assert count(services, Party) == 3  # 张三 and the company of the first case, and 王小明


async def test_markup_is_stored_verbatim_and_only_ever_returned_as_json(
    client: TestClient, tokens: dict[str, str],
) -> None:
    script = "<script>alert('x')</script>"
    img = '"><img src=x onerror=alert(1)>'
    case = await file_case(client, tokens["clerk.daoli"], cause=script,
                           parties=[{"role": "plaintiff", "name": img, "address": script}])
    r = await client.get(f"/api/cases/{case['id']}", headers=auth(tokens["clerk.daoli"]))
    assert r.content_type == "application/json"
    body = await r.json()
    assert body["cause"] == script and body["parties"][0]["name"] == img
    assert body["parties"][0]["address"] == script


async def test_redaction_preview_uses_the_case_parties(client: TestClient,
                                                       tokens: dict[str, str]) -> None:
    ids = await daoli_and_nangang(client, tokens)
    text = ("原告张三，住哈尔滨市道里区安静街12号，电话13812345678，"
            "诉被告哈尔滨某某商贸有限公司。")
    r = await client.post(f"/api/cases/{ids['own']}/redaction", json={"text": text},
                          headers=auth(tokens["judge.daoli"]))
    assert r.status == 200
    assert (await r.json())["text"] == (
        "原告张某，住哈尔滨市道里区，电话×××，诉被告哈尔滨某某商贸有限公司。")
    r = await client.post(f"/api/cases/{ids['own']}/redaction", json={"text": text},
                          headers=auth(tokens["clerk.nangang"]))
    assert r.status == 404
