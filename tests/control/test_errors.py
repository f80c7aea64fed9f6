"""Every failure is JSON with the right 4xx, by one path: a domain error (a subclass of the one
`ApiError`) raised anywhere below a route, or aiohttp's own refusals; never a 500 for bad input."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.core import Core
from tests.conftest import auth

ROOM = "HL0102-01"


async def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    r = await client.get("/api/nothing-here")
    assert r.status == 404 and r.content_type == "application/json"
    assert (await r.json()) == {"error": "not found", "detail": {"path": "/api/nothing-here"}}
    r = await client.get("/definitely/not/a/page")
    assert r.status == 404 and (await r.json())["error"] == "not found"


async def test_wrong_method_is_json_405_with_allow(client: TestClient) -> None:
    r = await client.delete("/api/login")
    assert r.status == 405 and r.content_type == "application/json"
    assert (await r.json())["error"] == "method not allowed"
    assert "POST" in r.headers["Allow"]


async def test_oversized_body_is_json_413(client: TestClient, services: Core) -> None:
    limit = services.settings.server.max_body_bytes
    r = await client.post("/api/login", data=b"{" + b" " * limit + b"}",
                          headers={"Content-Type": "application/json"})
    assert r.status == 413 and r.content_type == "application/json"
    assert (await r.json())["error"] == "request body too large"


async def test_domain_error_deep_below_a_route_is_json(client: TestClient,
                                                       tokens: dict[str, str]) -> None:
    # The recorder service refuses (RecorderConflict, an ApiError) below the route's checks.
    r = await client.post(f"/api/courtrooms/{ROOM}/recording", json={"action": "stop"},
                          headers=auth(tokens["admin"]))
    assert r.status == 409 and r.content_type == "application/json"
    assert await r.json() == {"error": "this feed is not being recorded",
                              "detail": {"room": ROOM, "feed": "main"}}
    # The hearing package refuses (HearingError) inside a database session, off the loop.
    r = await client.get("/api/cases/999999", headers=auth(tokens["admin"]))
    assert r.status == 404 and r.content_type == "application/json"
    assert (await r.json())["error"] == "not found"
    r = await client.post("/api/cases", json={"number": "nonsense"}, headers=auth(tokens["admin"]))
    assert r.status == 400 and (await r.json())["error"].startswith("invalid case number")


async def test_auth_error_keeps_its_headers(client: TestClient, services: Core) -> None:
    for _ in range(services.settings.auth.lockout_failures):
        r = await client.post("/api/login", json={"username": "admin", "password": "wrong"})
        assert r.status == 401 and (await r.json())["error"] == "invalid username or password"
    r = await client.post("/api/login", json={"username": "admin", "password": "wrong"})
    assert r.status == 429 and r.content_type == "application/json"
    assert int(r.headers["Retry-After"]) >= 1


async def test_logout_without_token(client: TestClient) -> None:
    r = await client.post("/api/logout")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert (await r.json())["error"] == "authentication required"


async def test_garbage_tokens(client: TestClient) -> None:
    for token in ("", "x" * 5000, "' OR 1=1 --", "\u202e\u0000"):
        r = await client.get("/api/me", headers=auth(token) if token.isprintable() else
                             {"Authorization": "Bearer abc"})
        assert r.status == 401
