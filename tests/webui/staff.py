"""Helpers for the staff pages' browser tests: the app with live test patterns, logging in
through the login form, booking a hearing for today, and starting a test-pattern feed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.config import DemoSettings, Settings
from control.db import utcnow
from control.iso8601 import iso
from control.live import LIVE
from media.sources import PatternSpec, TestPatternSource
from tests.conftest import PASSWORD, auth, login

# A small clip so starting a source costs little; H.264 + Opus, so the recorder takes it.
SMALL = PatternSpec("t", width=320, height=180, gop_s=1, duration_s=2)
CASE = "（2025）黑0102民初{n}号"


@pytest.fixture
async def demo_client(aiohttp_client: Any, settings: Settings) -> TestClient:
    """The app with a live test pattern in HL0102-02 (as `courtav serve` does in its demo)."""
    demo = replace(settings, demo=DemoSettings(enabled=True, test_pattern_rooms=("HL0102-02",)))
    return await aiohttp_client(create_app(demo, build_services(demo)))


def page_errors(page: Any) -> list[str]:
    """Script errors and CSP refusals of the page, collected from now on (a missing thumbnail's
    404 is expected and left out)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)
    return errors


async def log_in(page: Any, base: str, username: str, lands: str | None = None) -> None:
    """Log in through the form on `/` and wait until the browser has left the login page."""
    await page.goto(base)
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    pattern = re.compile(re.escape(lands) if lands else r"/(dashboard|clerk|wall)")
    await page.wait_for_url(pattern, timeout=10_000)


async def ready(page: Any) -> None:
    """The page has loaded its data and its event stream is connected."""
    await page.wait_for_function(
        "() => document.body.dataset.ready === 'true' && document.body.dataset.events === 'open'",
        timeout=15_000)


async def start_pattern(client: TestClient, path: str) -> TestPatternSource:
    source = TestPatternSource(client.app[LIVE].streams, path, SMALL)
    await source.start()
    return source


async def book_today(client: TestClient, room: str, n: int = 101, judge: str = "judge.daoli",
                     **extra: Any) -> dict[str, Any]:
    """File a Daoli case and book it in `room` from a few minutes ago for two hours."""
    token = await login(client, "clerk.daoli")
    r = await client.post("/api/cases", headers=auth(token), json={
        "number": CASE.format(n=n), "cause": "民间借贷纠纷", "presiding_judge": judge,
        "clerk": "clerk.daoli"})
    assert r.status == 201, await r.text()
    case = await r.json()
    now = utcnow()
    r = await client.post("/api/hearings", headers=auth(token), json={
        "case_id": case["id"], "room": room,
        "starts_at": iso(now - timedelta(minutes=5)), "ends_at": iso(now + timedelta(hours=2)),
        **extra})
    assert r.status == 201, await r.text()
    client.session.cookie_jar.clear()
    return await r.json()


async def markers_of(client: TestClient, hearing_id: int) -> list[dict[str, Any]]:
    """Every marker on the hearing's recordings, as the API gives them."""
    headers = auth(await login(client, "admin"))
    r = await client.get(f"/api/recordings?hearing=hearing:{hearing_id}", headers=headers)
    assert r.status == 200
    found: list[dict[str, Any]] = []
    for rec in (await r.json())["items"]:
        r = await client.get(f"/api/recordings/{rec['id']}", headers=headers)
        found += (await r.json())["markers"]
    client.session.cookie_jar.clear()
    return found
