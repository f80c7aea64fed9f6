"""Logins, tokens, throttling and account management over the real API and database."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from control.core import Core
from control.db import utcnow
from control.models import AuditEvent, AuthToken
from tests.conftest import PASSWORD, auth, login


async def test_login_me_logout(client: TestClient, services: Core) -> None:
    token = await login(client, "pres.daoli")
    me = await client.get("/api/me", headers=auth(token))
    assert me.status == 200
    body = await me.json()
    assert body["username"] == "pres.daoli" and body["role"] == "president"
    assert body["court"] == "HL0102" and body["court_name_zh"] == "哈尔滨市道里区人民法院"
    out = await client.post("/api/logout", headers=auth(token))
    assert out.status == 204
    again = await client.get("/api/me", headers=auth(token))
    assert again.status == 401
    assert (await again.json())["error"] == "authentication required"
    with services.db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "pres.daoli")))
    assert actions == ["login", "logout"]


async def test_tokens_are_stored_hashed(client: TestClient, services: Core) -> None:
    token = await login(client, "admin")
    with services.db.session() as s:
        stored = list(s.scalars(select(AuthToken.token_hash)))
    assert stored and token not in stored
    assert all(len(h) == 64 for h in stored)


async def test_cookie_and_header_both_work(client: TestClient) -> None:
    resp = await client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert "token" in resp.cookies and resp.cookies["token"]["httponly"]
    token = (await resp.json())["token"]
    client.session.cookie_jar.clear()
    assert (await client.get("/api/me")).status == 401
    assert (await client.get("/api/me", cookies={"token": token})).status == 200
    assert (await client.get("/api/me", headers={"Authorization": "Basic abc"})).status == 401


async def test_expired_token_is_refused(client: TestClient, services: Core) -> None:
    token = await login(client, "admin")
    with services.db.session() as s:
        s.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    services.auth._cache.clear()  # a fresh process would not have it either
    assert (await client.get("/api/me", headers=auth(token))).status == 401


async def test_failures_do_not_reveal_whether_a_user_exists(client: TestClient) -> None:
    wrong = await client.post("/api/login", json={"username": "admin", "password": "x" * 12})
    ghost = await client.post("/api/login", json={"username": "nobody", "password": "x" * 12})
    assert wrong.status == ghost.status == 401
    assert await wrong.json() == await ghost.json()


async def test_failed_logins_are_throttled_per_user(client: TestClient,
                                                    services: Core) -> None:
    for _ in range(5):
        r = await client.post("/api/login", json={"username": "clerk.daoli", "password": "nope"})
        assert r.status == 401
    r = await client.post("/api/login", json={"username": "clerk.daoli", "password": PASSWORD})
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    with services.db.session() as s:
        failed = s.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    assert failed is not None and failed.target == "user:clerk.daoli"


async def test_failed_logins_are_throttled_per_address(client: TestClient) -> None:
    for i in range(5):
        r = await client.post("/api/login", json={"username": f"ghost{i}", "password": "nope"})
        assert r.status == 401
    r = await client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    assert r.status == 429


async def test_bad_login_bodies(client: TestClient) -> None:
    cases = [
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": ["admin", PASSWORD]}, 400),
        ({"json": {"username": "admin"}}, 400),
        ({"json": {"username": 7, "password": PASSWORD}}, 400),
        ({"json": {"username": "admin", "password": "p" * 300}}, 400),
        ({"data": b"username=admin", "headers": {"Content-Type": "text/plain"}}, 415),
    ]
    for kwargs, status in cases:
        r = await client.post("/api/login", **kwargs)  # type: ignore[arg-type]
        assert r.status == status, kwargs
        assert "error" in await r.json()
