"""Remote petitions over the API: sign-up, tickets, the queue, reception, expiry, rate limits."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from control.config import ConfigError, load_settings
from control.db import utcnow
from control.models import AuditEvent
from hearing.models import Petition
from hearing.petitions import PETITIONS
from tests.conftest import auth
from tests.hearing import petitioning
from tests.hearing.conftest import SESSION_TOKENS
from tests.hearing.petitioning import (
    AppMaker,
    form,
    id_number,
    sign_up,
    ticket_headers,
)

make_client = petitioning.make_client  # the fixture, used by this module's tests

JUDGE, CLERK = SESSION_TOKENS["judge.daoli"], SESSION_TOKENS["clerk.daoli"]


@pytest.fixture
async def pc(make_client: AppMaker) -> TestClient:
    """Limits high enough that only the rate-limit tests meet them."""
    return await make_client(petition_signups_per_address=1000, petition_signups_per_phone=100)


async def status_of(client: TestClient, ticket: str, status: int = 200) -> dict:
    r = await client.get("/api/petitions/ticket", headers=ticket_headers(ticket))
    assert r.status == status, await r.text()
    return await r.json()


async def accept(client: TestClient, token: str, court: str = "HL0102",
                 status: int = 201) -> dict:
    r = await client.post("/api/petitions/next", json={"court": court}, headers=auth(token))
    assert r.status == status, await r.text()
    return await r.json()


@pytest.mark.parametrize(("change", "field"), [
    ({"id_number": "230102198005011230"}, "id_number"),  # wrong check digit
    ({"id_number": "23010219800501123"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "1381234567a"}, "phone"),
    ({"name": "   "}, "name"),
    ({"name": "王\x00五"}, "name"),
    ({"subject": "x" * 501}, None),
    ({"name": 5}, None),
    ({"color": "red"}, None),
])
async def test_sign_up_validation(pc: TestClient, change: dict, field: str | None) -> None:
    r = await pc.post("/api/petitions", json={**form(), **change})
    assert r.status == 400, await r.text()
    body = await r.json()
    if field is not None:
        assert body["detail"]["field"] == field
    r = await pc.post("/api/petitions", json={k: v for k, v in form().items() if k != "phone"})
    assert r.status == 400
    r = await pc.post("/api/petitions", json=form(court="NOPE"))
    assert r.status == 404
    r = await pc.post("/api/petitions", data="name=x",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415


async def test_ticket_is_unguessable_and_stored_hashed(pc: TestClient) -> None:
    tickets = set()
    for n in range(5):
        r = await pc.post("/api/petitions", json=form(n=n, phone=f"+86 139-0000-{n:04d}"))
        assert r.status == 201
        body = await r.json()
        assert len(body["ticket"]) >= 43 and body["state"] == "waiting"
        assert "petition" in r.cookies and r.cookies["petition"]["httponly"]
        assert r.cookies["petition"]["samesite"] == "Strict"
        tickets.add(body["ticket"])
    assert len(tickets) == 5
    with pc.app[PETITIONS].services.db.session() as s:
        rows = s.scalars(select(Petition)).all()
    assert {p.phone for p in rows} == {f"1390000{n:04d}" for n in range(5)}
    assert not {p.ticket_hash for p in rows} & tickets  # only digests are kept
    await status_of(pc, "x" * 43, 404)
    r = await pc.get("/api/petitions/ticket")
    assert r.status == 401


async def test_positions_update_leave_and_accept(pc: TestClient) -> None:
    a, b, c = [await sign_up(pc, n=n) for n in range(3)]
    assert [x["position"] for x in (a, b, c)] == [1, 2, 3]
    other = await sign_up(pc, n=9, court="HL0103")  # another court's queue is its own
    assert other["position"] == 1
    r = await pc.delete("/api/petitions/ticket", headers=ticket_headers(b["ticket"]))
    assert r.status == 204
    await status_of(pc, b["ticket"], 410)
    assert (await status_of(pc, c["ticket"]))["position"] == 2
    queue = await (await pc.get("/api/petitions?court=HL0102", headers=auth(CLERK))).json()
    assert [p["id"] for p in queue["waiting"]] == [a["id"], c["id"]]
    assert queue["waiting"][0]["id_number"] == id_number(0)  # the reception sees who it is
    taken = await accept(pc, JUDGE)
    assert taken["id"] == a["id"] and taken["state"] == "in_session"
    assert taken["publish"] == f"petitions/{a['id']}/reception"
    mine = await status_of(pc, a["ticket"])
    assert mine["state"] == "in_session" and mine["position"] is None
    assert mine["publish"] == f"petitions/{a['id']}/petitioner"
    assert mine["view"] == f"petitions/{a['id']}/reception"
    assert (await status_of(pc, c["ticket"]))["position"] == 1
    r = await pc.delete("/api/petitions/ticket", headers=ticket_headers(a["ticket"]))
    assert r.status == 409  # in a session the reception ends it
    await accept(pc, JUDGE, status=409)  # one session at a time
    r = await pc.post(f"/api/petitions/{a['id']}/end", json={"outcome": "  "},
                      headers=auth(JUDGE))
    assert r.status == 400
    r = await pc.post(f"/api/petitions/{a['id']}/end", json={"outcome": "已告知立案所需材料"},
                      headers=auth(JUDGE))
    assert r.status == 200 and (await r.json())["state"] == "ended"
    await status_of(pc, a["ticket"], 410)
    r = await pc.post(f"/api/petitions/{a['id']}/end", json={"outcome": "again"},
                      headers=auth(JUDGE))
    assert r.status == 409
    with pc.app[PETITIONS].services.db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("petition.%"))
                            ).all()
    assert actions.count("petition.waiting") == 4 and "petition.left" in actions
    assert "petition.in_session" in actions and "petition.ended" in actions


async def test_only_reception_staff_of_that_court_accept(pc: TestClient) -> None:
    await sign_up(pc)
    r = await pc.post("/api/petitions/next", json={"court": "HL0102"})
    assert r.status == 401
    for user, status in [("clerk.nangang", 404), ("judge.nangang", 404), ("clerk.harbin", 404),
                         ("sec.daoli", 403)]:
        await accept(pc, SESSION_TOKENS[user], status=status)
        r = await pc.get("/api/petitions?court=HL0102", headers=auth(SESSION_TOKENS[user]))
        assert r.status == status, user
    r = await pc.get("/api/petitions/1", headers=auth(SESSION_TOKENS["clerk.nangang"]))
    assert r.status == 404
    taken = await accept(pc, CLERK)
    r = await pc.post(f"/api/petitions/{taken['id']}/end", json={"outcome": "x"},
                      headers=auth(SESSION_TOKENS["clerk.nangang"]))
    assert r.status == 404
    await accept(pc, JUDGE, status=409)  # nobody is waiting any more


async def test_media_paths_admit_only_their_own_ticket(pc: TestClient) -> None:
    """Authorization comes before the offer is read: a refusal is 403/404, a pass is 400."""
    a, b = await sign_up(pc, n=1), await sign_up(pc, n=2)
    offer = {"Content-Type": "application/sdp"}

    async def post(kind: str, path: str, **headers: str) -> int:
        r = await pc.post(f"/{kind}/{path}", data="v=0\r\n", headers={**offer, **headers})
        return r.status

    pa, pb = f"petitions/{a['id']}", f"petitions/{b['id']}"
    assert await post("whip", f"{pa}/petitioner", **ticket_headers(a["ticket"])) == 404
    await accept(pc, JUDGE)
    await accept(pc, CLERK)
    ta = ticket_headers(a["ticket"])
    assert await post("whip", f"{pa}/petitioner", **ta) == 400  # admitted
    r = await pc.post(f"/whep/{pa}/reception", data="v=0\r\n", headers={**offer, **ta})
    assert r.status == 404 and "no stream" in (await r.json())["detail"]  # admitted; not live
    assert await post("whip", f"{pb}/petitioner", **ta) == 404  # another session
    assert await post("whep", f"{pb}/reception", **ta) == 404
    assert await post("whip", f"{pa}/reception", **ta) == 403  # the court's side
    assert await post("whip", f"{pa}/petitioner") == 404
    assert await post("whip", f"{pa}/petitioner", Cookie=f"petition={b['ticket']}") == 404
    assert await post("whip", f"{pa}/petitioner", Cookie=f"petition={a['ticket']}") == 400
    assert await post("whip", f"{pa}/reception", **auth(JUDGE)) == 400
    assert await post("whip", f"{pb}/reception", **auth(JUDGE)) == 403  # the clerk's session
    assert await post("whip", f"{pa}/petitioner", **auth(JUDGE)) == 403
    assert await post("whip", f"{pa}/reception",
                      **auth(SESSION_TOKENS["clerk.nangang"])) == 404
    assert await post("whip", "petitions/999/petitioner", **ta) == 404
    assert await post("whip", f"{pa}/other", **ta) == 404
    r = await pc.post(f"/api/petitions/{a['id']}/end", json={"outcome": "done"},
                      headers=auth(JUDGE))
    assert r.status == 200
    assert await post("whip", f"{pa}/petitioner", **ta) == 404  # the ticket is dead
    assert await post("whip", f"{pa}/reception", **auth(JUDGE)) == 404


async def test_unanswered_tickets_expire(pc: TestClient) -> None:
    a, b = await sign_up(pc, n=1), await sign_up(pc, n=2)
    desk = pc.app[PETITIONS]
    with desk.services.db.session() as s:
        s.execute(update(Petition).where(Petition.id == a["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    body = await status_of(pc, a["ticket"], 410)
    assert body["detail"]["state"] == "expired"
    assert (await status_of(pc, b["ticket"]))["position"] == 1
    assert await desk.expire_due() == 1
    with desk.services.db.session() as s:
        assert s.get(Petition, a["id"]).state == "expired"
    taken = await accept(pc, CLERK)
    assert taken["id"] == b["id"]


async def test_a_ticket_expires_by_its_own_timer(make_client: AppMaker) -> None:
    client = await make_client(petition_ticket_ttl_min=1 / 60)  # a second
    desk = client.app[PETITIONS]
    events = desk.services.bus.subscribe()
    a = await sign_up(client)
    assert a["id"] in desk.expiry
    expired = await events.next("petition.expired", within=5)
    assert expired.data["petition"] == a["id"] and expired.target.court == "HL0102"
    assert a["id"] not in desk.expiry and desk.expiry.fired == 1
    body = await status_of(client, a["ticket"], 410)
    assert body["detail"]["state"] == "expired"


async def test_sign_up_floods_are_rate_limited_per_address(make_client: AppMaker) -> None:
    client = await make_client(petition_signups_per_address=5, petition_window_s=600)
    bad = await client.post("/api/petitions", json=form(phone="1"))
    assert bad.status == 400  # invalid attempts count too
    results = await asyncio.gather(*(client.post("/api/petitions", json=form(n=n))
                                     for n in range(20)))
    codes = sorted(r.status for r in results)
    assert codes.count(201) == 4 and codes.count(429) == 16
    refused = next(r for r in results if r.status == 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert (await refused.json())["error"].startswith("too many")


async def test_sign_ups_are_rate_limited_per_phone(make_client: AppMaker) -> None:
    client = await make_client(petition_signups_per_address=100, petition_signups_per_phone=2)
    await sign_up(client, n=1, phone="13900000001")
    await sign_up(client, n=2, phone="139-0000-0001")
    r = await client.post("/api/petitions", json=form(n=3, phone="+86 13900000001"))
    assert r.status == 429 and "phone" in (await r.json())["error"]
    await sign_up(client, n=4, phone="13900000002")


async def test_a_full_queue_is_503(make_client: AppMaker) -> None:
    client = await make_client(petition_queue_max=2, petition_signups_per_address=100)
    await sign_up(client, n=1)
    await sign_up(client, n=2)
    r = await client.post("/api/petitions", json=form(n=3))
    assert r.status == 503 and "Retry-After" in r.headers
    await sign_up(client, n=4, court="HL0103")


async def test_text_is_kept_verbatim_for_pages_to_escape(pc: TestClient) -> None:
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    mine = await sign_up(pc, name="<b>王五</b>", subject=script)
    queue = await (await pc.get("/api/petitions?court=HL0102", headers=auth(CLERK))).json()
    got = next(p for p in queue["waiting"] if p["id"] == mine["id"])
    assert got["subject"] == script and got["name"] == "<b>王五</b>"
    r = await pc.get("/api/petitions?court=HL0102", headers=auth(CLERK))
    assert r.content_type == "application/json"


@pytest.mark.parametrize("line", ["public_viewer_cap = -1", "petition_signups_per_phone = 0",
                                  "petition_ticket_ttl_min = 0", "petition_queue = 5"])
def test_petition_and_disclosure_settings_are_checked(tmp_path: Path, line: str) -> None:
    config = tmp_path / "courtav.toml"
    config.write_text(f"[hearing]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(config, env={})
    config.write_text("[hearing]\npublic_viewer_cap = 0\npetition_window_s = 60\n",
                      encoding="utf-8")
    hearing = load_settings(config, env={}).hearing
    assert (hearing.public_viewer_cap, hearing.petition_window_s) == (0, 60.0)
