"""Helpers of the petition tests: valid identity numbers, sign-ups, an app with chosen limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.config import Settings
from control.db import Database

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int = 123, birth: str = "19800501", area: str = "230102") -> str:
    """A resident identity number with a correct check digit."""
    body = f"{area}{birth}{serial % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def form(court: str = "HL0102", n: int = 0, **extra: Any) -> dict[str, Any]:
    return {"court": court, "name": "王五", "phone": f"139{n:08d}", "id_number": id_number(n),
            "subject": "咨询立案：买卖合同纠纷", **extra}


async def sign_up(client: TestClient, status: int = 201, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/petitions", json=form(**extra))
    assert r.status == status, await r.text()
    return dict(await r.json())


def ticket_headers(ticket: str) -> dict[str, str]:
    return {"X-Petition-Ticket": ticket}


AppMaker = Callable[..., Coroutine[Any, Any, TestClient]]


@pytest.fixture
async def make_client(aiohttp_client: Any, settings: Settings) -> AsyncIterator[AppMaker]:
    """An app whose `[hearing]` settings are overridden; hearings are recorded if asked."""
    opened: list[tuple[TestClient, Database]] = []

    async def make(record_hearings: bool = False, **hearing: Any) -> TestClient:
        custom = replace(settings, hearing=replace(settings.hearing, **hearing))
        services = build_services(custom)
        app = create_app(custom, services, record_hearings=record_hearings)
        # No cookie jar: each request carries only the ticket or token a test gives it.
        client: TestClient = await aiohttp_client(app, cookie_jar=DummyCookieJar())
        opened.append((client, services.db))
        return client

    yield make
    for client, db in opened:  # the app writes while it stops: close it before its database
        await client.close()
        db.close()
