"""Court tree and courtroom registry API: exact visibility per role, filters, bad input."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.config import DEFAULT_CONFIG
from control.core import Core
from control.policy import Principal
from control.province import load_province
from tests.conftest import TEST_USERS, auth

PROVINCE = load_province(DEFAULT_CONFIG.parent / "province.toml")


def rooms_under(code: str) -> int:
    """Rooms of `code` and every court below it, counted from the province file."""
    children: dict[str | None, list[str]] = {}
    for c in PROVINCE.courts:
        children.setdefault(c.parent, []).append(c.code)
    own = {c.code: len(c.rooms) for c in PROVINCE.courts}
    stack, total = [code], 0
    while stack:
        cur = stack.pop()
        total += own[cur]
        stack.extend(children.get(cur, []))
    return total


async def listing(client: TestClient, token: str, query: str = "") -> dict:
    r = await client.get(f"/api/courtrooms{query}", headers=auth(token))
    assert r.status == 200, await r.text()
    return await r.json()


async def test_admin_sees_all_888(client: TestClient, tokens: dict[str, str]) -> None:
    body = await listing(client, tokens["admin"])
    assert body["total"] == 888 and len(body["items"]) == 888
    first = body["items"][0]
    assert first["code"] == "HL-01" and first["status"] == "idle" and "main" in first["feeds"]


async def test_each_role_sees_its_exact_subset(client: TestClient, tokens: dict[str, str],
                                               services: Core) -> None:
    expected = {
        "pres.hl": 888,
        "pres.harbin": rooms_under("HL01"),
        "pres.daoli": rooms_under("HL0102"),
        "judge.daoli": rooms_under("HL0102"),
        "clerk.daoli": rooms_under("HL0102"),
        "sec.harbin": rooms_under("HL01"),
    }
    assert expected["pres.daoli"] < expected["pres.harbin"] < 888
    for user, count in expected.items():
        body = await listing(client, tokens[user])
        assert body["total"] == count, user
        role, court = TEST_USERS[user]
        who = Principal(user, role, court, 1)
        courts = {item["court"] for item in body["items"]}
        assert courts <= services.policy.visible_courts(who, "room.status")
    daoli = await listing(client, tokens["pres.daoli"])
    assert {i["court"] for i in daoli["items"]} == {"HL0102"}


async def test_court_tree_is_filtered(client: TestClient, tokens: dict[str, str]) -> None:
    r = await client.get("/api/courts", headers=auth(tokens["pres.harbin"]))
    tree = (await r.json())["courts"]
    assert [c["code"] for c in tree] == ["HL01"]
    assert tree[0]["parent"] == "HL" and tree[0]["level"] == "intermediate"
    assert "HL0102" in {c["code"] for c in tree[0]["children"]}
    r = await client.get("/api/courts", headers=auth(tokens["admin"]))
    full = (await r.json())["courts"]
    assert [c["code"] for c in full] == ["HL"] and len(full[0]["children"]) == 16
    basic = sum(len(c["children"]) for c in full[0]["children"])
    assert basic == 175
    r = await client.get("/api/courts", headers=auth(tokens["pres.daoli"]))
    assert [c["code"] for c in (await r.json())["courts"]] == ["HL0102"]
    assert (await client.get("/api/courts")).status == 401


async def test_filters_and_paging(client: TestClient, tokens: dict[str, str],
                                  services: Core) -> None:
    admin = tokens["admin"]
    body = await listing(client, admin, "?court=HL0102")
    assert body["total"] == rooms_under("HL0102")
    page = await listing(client, admin, "?limit=10&offset=20")
    assert page["total"] == 888 and len(page["items"]) == 10
    every = await listing(client, admin)
    assert [i["code"] for i in page["items"]] == [i["code"] for i in every["items"][20:30]]
    found = await listing(client, admin, "?q=道里")
    assert found["total"] == rooms_under("HL0102")
    assert (await listing(client, admin, "?q=hl0102-01"))["total"] == 1
    services.monitor.set_status("HL0102-01", "live")
    services.monitor.set_status("HL02-01", "fault", "video loss")
    live = await listing(client, admin, "?status=live")
    assert [i["code"] for i in live["items"]] == ["HL0102-01"]
    fault = await listing(client, tokens["pres.harbin"], "?status=fault")
    assert fault["total"] == 0, "Qiqihar's fault is not Harbin's business"
    r = await client.get("/api/courtrooms/HL02-01", headers=auth(admin))
    detail = await r.json()
    assert detail["status"] == "fault" and detail["status_detail"] == "video loss"


async def test_room_detail_visibility(client: TestClient, tokens: dict[str, str]) -> None:
    ok = await client.get("/api/courtrooms/HL0102-01", headers=auth(tokens["judge.daoli"]))
    assert ok.status == 200 and (await ok.json())["may_view"] is True
    # A sibling's or parent's room does not exist for them: 404, not 403.
    for code in ("HL0103-01", "HL01-01"):
        r = await client.get(f"/api/courtrooms/{code}", headers=auth(tokens["judge.daoli"]))
        assert r.status == 404
    assert (await client.get("/api/courtrooms/HL0102-01")).status == 401


async def test_bad_input_is_a_clear_4xx(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    cases = [
        ("/api/courtrooms?court=NOPE", 404),
        ("/api/courtrooms?court=HL01%27%20OR%201=1--", 404),
        ("/api/courtrooms?court=../../etc", 404),
        ("/api/courtrooms?status=exploded", 400),
        ("/api/courtrooms?limit=abc", 400),
        ("/api/courtrooms?limit=0", 400),
        ("/api/courtrooms?limit=100000", 400),
        ("/api/courtrooms?offset=-1", 400),
        ("/api/courtrooms?q=" + "x" * 65, 400),
        ("/api/courtrooms/HL0102-01'%3BDROP%20TABLE%20courtrooms", 404),
        ("/api/courtrooms/..%2F..%2Fetc%2Fpasswd", 404),
        ("/api/courtrooms/%00", 404),
        ("/api/no/such/route", 404),
    ]
    for path, status in cases:
        r = await client.get(path, headers=admin)
        assert r.status == status, path
        body = await r.json()
        assert body["error"] and "Traceback" not in await r.text()
    # The SQL-looking query harmed nothing.
    assert (await listing(client, tokens["admin"]))["total"] == 888
    q = await listing(client, tokens["admin"], "?q=%27%20OR%201%3D1--")
    assert q["total"] == 0
