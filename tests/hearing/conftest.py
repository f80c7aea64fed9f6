"""Hearing fixtures: more bench staff in the template, the app with the hearing routes, helpers."""

from __future__ import annotations

import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

import hearing.models  # noqa: F401  # the hearing tables exist before any schema is built
from control.app import build_services, create_app
from control.auth import add_user, token_digest
from control.config import Settings
from control.core import Core
from control.db import utcnow
from control.iso8601 import iso
from control.models import AuthToken, User
from hearing.service import HEARINGS, HearingService
from tests.conftest import PASSWORD, TEST_USERS, auth, make_settings

# Daoli (HL0102) gets a second bench; Nangang (HL0103) is Daoli's sibling; HL01 their parent.
MORE_USERS = {
    "judge.daoli2": ("judge", "HL0102"),
    "judge.daoli3": ("judge", "HL0102"),
    "clerk.daoli2": ("clerk", "HL0102"),
    "judge.nangang": ("judge", "HL0103"),
    "clerk.nangang": ("clerk", "HL0103"),
    "clerk.harbin": ("clerk", "HL01"),
}
DAOLI_CASE = "（2024）黑0102民初101号"
NANGANG_CASE = "（2024）黑0103民初202号"


# Bearer tokens written into the template once, so no test pays for a dozen scrypt logins.
SESSION_TOKENS = {name: secrets.token_urlsafe(24) for name in [*TEST_USERS, *MORE_USERS]}


@pytest.fixture(scope="session")
def template_dir(template_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared template plus the hearing tables, the extra staff and their tokens."""
    data = tmp_path_factory.mktemp("hearing-template")
    shutil.copytree(template_dir, data, dirs_exist_ok=True)
    svc = build_services(make_settings(data))
    with svc.db.session() as session:
        for name, (role, court) in MORE_USERS.items():
            add_user(session, svc.registry, name, role, court, PASSWORD)
        for user in session.scalars(select(User)):
            session.add(AuthToken(token_hash=token_digest(SESSION_TOKENS[user.username]),
                                  user_id=user.id, expires_at=utcnow() + timedelta(days=2)))
    svc.db.close()
    return data


@pytest.fixture
async def client(aiohttp_client, settings: Settings, services: Core) -> TestClient:
    """The app as create_app builds it, but the desk's lifecycle touches no recorder: these
    tests are about cases, the schedule and transitions in rooms without media. Recording
    driven by the lifecycle is tested with live media in test_recording.py."""
    app = create_app(settings, services, record_hearings=False)
    return await aiohttp_client(app)


@pytest.fixture
def tokens(client: TestClient) -> dict[str, str]:
    return dict(SESSION_TOKENS)


@pytest.fixture
def desk(client: TestClient) -> HearingService:
    return client.app[HEARINGS]


def at(hours: float, day: int = 1) -> datetime:
    """01:00 UTC (09:00 in Harbin) `day` days from now, plus `hours`."""
    base = (utcnow() + timedelta(days=day)).replace(hour=1, minute=0, second=0, microsecond=0)
    return base + timedelta(hours=hours)


def iso_at(hours: float, day: int = 1) -> str:
    return iso(at(hours, day))


async def file_case(client: TestClient, token: str, number: str = DAOLI_CASE,
                    **extra: Any) -> dict[str, Any]:
    body = {"number": number, "cause": "民间借贷纠纷", "presiding_judge": "judge.daoli",
            "clerk": "clerk.daoli", **extra}
    r = await client.post("/api/cases", json=body, headers=auth(token))
    assert r.status == 201, await r.text()
    return await r.json()


def from_now(hours: float) -> str:
    return iso(utcnow() + timedelta(hours=hours))


async def book(client: TestClient, token: str, case_id: int | None, room: str = "HL0102-01",
               start: float = 0, end: float = 2, status: int = 201, day: int = 1,
               **extra: Any) -> dict[str, Any]:
    """Book a hearing `start`..`end` hours after 01:00 UTC in `day` days (`extra` overrides)."""
    body = {"room": room, "starts_at": iso_at(start, day), "ends_at": iso_at(end, day),
            **extra}
    if case_id is not None:
        body["case_id"] = case_id
    r = await client.post("/api/hearings", json=body, headers=auth(token))
    assert r.status == status, await r.text()
    return await r.json()


async def move(client: TestClient, token: str, hearing_id: int, to: str,
               status: int = 200, **extra: Any) -> dict[str, Any]:
    r = await client.post(f"/api/hearings/{hearing_id}/transitions", json={"to": to, **extra},
                          headers=auth(token))
    assert r.status == status, await r.text()
    return await r.json()
