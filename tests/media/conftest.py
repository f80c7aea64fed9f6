"""Fixtures: a real MediaServer on aiohttp's loopback test server, with bearer-token auth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from media import MediaServer, MediaSettings, SessionEvent, StreamEvent, StreamRegistry

TOKENS = {"tok-alice": "alice", "tok-bob": "bob", "tok-carol": "carol"}


async def token_authorize(request: web.Request, action: str, path: str) -> str:
    """Test policy: any known bearer token may do anything; paths under `secret/` are bob's,
    those under `hidden/` nobody's."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    subject = TOKENS.get(token)
    if subject is None:
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
    if path.startswith("secret/") and subject != "bob":
        raise web.HTTPForbidden()
    if path.startswith("hidden/"):  # as control hands its ApiError over: JSON in an HTTPException
        raise web.HTTPNotFound(
            text='{"error": "not found", "detail": null}', content_type="application/json"
        )
    return subject


class MediaHarness:
    """The server under test, its registry, and every event it reported."""

    def __init__(self, settings: MediaSettings) -> None:
        self.stream_events: list[StreamEvent] = []
        self.session_events: list[SessionEvent] = []
        self.registry = StreamRegistry(on_event=self.stream_events.append)
        self.server = MediaServer(
            settings, self.registry, token_authorize, on_session=self.session_events.append
        )
        self.client: TestClient[Any, Any] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(self.server.routes())

        async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
            await self.server.start()
            yield
            await self.server.stop()

        app.cleanup_ctx.append(lifecycle)
        return app


@pytest.fixture
def media_settings() -> MediaSettings:
    return MediaSettings(ice_hosts=("127.0.0.1",), publisher_timeout_s=2.0)


@pytest.fixture
async def media(
    aiohttp_client: Callable[..., Any], media_settings: MediaSettings
) -> AsyncIterator[MediaHarness]:
    harness = MediaHarness(media_settings)
    harness.client = await aiohttp_client(harness.app())
    yield harness
