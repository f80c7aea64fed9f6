"""Every failure is JSON with the right 4xx; oversized bodies are refused before use."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.core import Core
from tests.conftest import auth


async def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    r = await client.get("/api/nothing-here")
    assert r.status == 404 and r.content_type == "application/json"
    assert (await r.json()) == {"error": "not found", "detail": {"path": "/api/nothing-here"}}
    r = await client.get("/definitely/not/a/page")
    assert r.status == 404 and (await r.json())["error"] == "not found"
    r = await client.delete("/api/login")
    assert r.status == 405 and (await r.json())["error"] == "method not allowed"
    assert "POST" in r.headers["Allow"]


async def test_oversized_body_is_413(client: TestClient, services: Core) -> None:
    limit = services.settings.server.max_body_bytes
    r = await client.post("/api/login", data=b"{" + b" " * limit + b"}",
                          headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert (await r.json())["error"] == "request body too large"


async def test_logout_without_token(client: TestClient) -> None:
    r = await client.post("/api/logout")
    assert r.status == 401 and r.headers["WWW-Authenticate"] == "Bearer"


async def test_garbage_tokens(client: TestClient) -> None:
    for token in ("", "x" * 5000, "' OR 1=1 --", "\u202e\u0000"):
        r = await client.get("/api/me", headers=auth(token) if token.isprintable() else
                             {"Authorization": "Bearer abc"})
        assert r.status == 401
