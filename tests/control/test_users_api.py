"""Account administration: admins only, validated, audited, and changes end sessions at once."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import Core
from control.models import AuditEvent
from tests.conftest import PASSWORD, auth, login

NEW = {"username": "clerk.hulan", "role": "clerk", "court": "HL0104",
       "password": "a long enough passphrase", "display_name": "呼兰书记员 <b>"}


async def test_only_admins_manage_accounts(client: TestClient, tokens: dict[str, str]) -> None:
    for name in ("pres.hl", "clerk.daoli", "sec.harbin"):
        r = await client.get("/api/users", headers=auth(tokens[name]))
        assert r.status == 403, name
        r = await client.post("/api/users", json=NEW, headers=auth(tokens[name]))
        assert r.status == 403, name
    assert (await client.get("/api/users")).status == 401


async def test_create_list_change_and_disable(client: TestClient, tokens: dict[str, str],
                                              services: Core) -> None:
    admin = auth(tokens["admin"])
    r = await client.post("/api/users", json=NEW, headers=admin)
    assert r.status == 201, await r.text()
    body = await r.json()
    assert body["court"] == "HL0104" and "password" not in str(body).lower().replace(
        "password_changed_at", "")
    assert (await client.post("/api/users", json=NEW, headers=admin)).status == 409
    r = await client.get("/api/users?q=hulan", headers=admin)
    assert [u["username"] for u in (await r.json())["items"]] == ["clerk.hulan"]

    token = await login(client, "clerk.hulan", NEW["password"])
    assert (await client.get("/api/me", headers=auth(token))).status == 200
    # Moving the clerk to another court ends the session at once, not in 30 s.
    r = await client.patch("/api/users/clerk.hulan", json={"court": "HL0102"}, headers=admin)
    assert r.status == 200 and (await r.json())["court"] == "HL0102"
    assert (await client.get("/api/me", headers=auth(token))).status == 401
    token = await login(client, "clerk.hulan", NEW["password"])
    me = await (await client.get("/api/me", headers=auth(token))).json()
    assert me["court"] == "HL0102"
    r = await client.patch("/api/users/clerk.hulan", json={"active": False}, headers=admin)
    assert r.status == 200 and (await r.json())["active"] is False
    assert (await client.get("/api/me", headers=auth(token))).status == 401
    r = await client.post("/api/login", json={"username": "clerk.hulan",
                                              "password": NEW["password"]})
    assert r.status == 401
    with services.db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.target == "user:clerk.hulan", AuditEvent.action.like("user.%"))
            .order_by(AuditEvent.id)))
    assert actions == ["user.create", "user.change", "user.change"]


async def test_password_reset_ends_sessions(client: TestClient, tokens: dict[str, str]) -> None:
    token = await login(client, "judge.daoli")
    r = await client.post("/api/users/judge.daoli/password",
                          json={"password": "another long passphrase"},
                          headers=auth(tokens["admin"]))
    assert r.status == 204
    assert (await client.get("/api/me", headers=auth(token))).status == 401
    assert await login(client, "judge.daoli", "another long passphrase")
    r = await client.post("/api/login", json={"username": "judge.daoli", "password": PASSWORD})
    assert r.status == 401


async def test_bad_account_input(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    cases = [
        ({**NEW, "role": "king"}, 400), ({**NEW, "court": "XX99"}, 400),
        ({**NEW, "username": "Robert'); DROP TABLE users;--"}, 400),
        ({**NEW, "password": "short"}, 400), ({**NEW, "role": 5}, 400),
        ({**NEW, "role": "admin"}, 400),  # an admin belongs to no court
    ]
    for body, status in cases:
        r = await client.post("/api/users", json=body, headers=admin)
        assert r.status == status, (body, await r.text())
        assert "error" in await r.json()
    r = await client.patch("/api/users/nobody", json={"active": False}, headers=admin)
    assert r.status == 404
    r = await client.patch("/api/users/judge.daoli", json={"password": "x"}, headers=admin)
    assert r.status == 400
    r = await client.patch("/api/users/admin", json={"active": False}, headers=admin)
    assert r.status == 409
    r = await client.patch("/api/users/judge.daoli", json={"court": 12}, headers=admin)
    assert r.status == 400
