"""The public portal in Chromium: a redacted schedule and document, a live public hearing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.config import DemoSettings, Settings
from control.core import CORE
from control.db import Database, utcnow
from recorder.service import RECORDER
from tests.browser import screenshot_path, watermark_over
from tests.conftest import auth, login
from tests.hearing.conftest import book, file_case, move
from tests.hearing.test_disclosure import PARTIES, TITLE, approve, wait_on_air

pytestmark = pytest.mark.browser

# An anonymous viewer's watermark: no name, a random id for this page load, the time.
PUBLIC_MARK = re.compile(r"公众 Public ([0-9a-f]{6}) .*\d{2}:\d{2}")


@pytest.fixture
async def demo_client(aiohttp_client: Any, settings: Settings) -> Any:
    """A test pattern runs in HL0102-01, so a hearing there has a picture."""
    demo = replace(settings, demo=DemoSettings(enabled=True, test_pattern_rooms=("HL0102-01",)))
    services = build_services(demo)
    client = await aiohttp_client(create_app(demo, services))
    yield client
    await client.close()
    db: Database = services.db
    db.close()


async def test_the_public_watches_a_broadcast_and_reads_redacted_text(
        demo_client: TestClient, browser: Any) -> None:
    client = demo_client
    clerk, president = await login(client, "clerk.daoli"), await login(client, "pres.daoli")
    judge = await login(client, "judge.daoli")
    client.session.cookie_jar.clear()
    case = await file_case(client, clerk, parties=PARTIES)
    now = utcnow()
    starts, ends = now - timedelta(hours=1), now + timedelta(hours=2)
    hearing = await book(client, clerk, case["id"], public=True, title=TITLE,
                         starts_at=starts.isoformat(), ends_at=ends.isoformat())
    day = starts.astimezone(timezone(timedelta(hours=8))).date().isoformat()
    await move(client, clerk, hearing["id"], "opened")
    await approve(client, president, hearing["id"])
    await wait_on_air(client, 1)
    doc = {"kind": "document", "title": "张三与欧阳娜娜民间借贷纠纷一审民事判决书",
           "text": "原告张三，电话13812345678。被告欧阳娜娜。<b>判决如下</b>"}
    r = await client.post(f"/api/cases/{case['id']}/publications", json=doc, headers=auth(judge))
    assert r.status == 201, await r.text()

    page = await (await browser.new_context()).new_page()
    await page.goto(str(client.make_url("/public")))
    button = page.locator(f"#live-list li[data-hearing='{hearing['id']}'] button")
    await button.wait_for(timeout=10_000)
    await page.fill("#schedule-day", day)
    await page.locator(f"#schedule li[data-hearing='{hearing['id']}']").wait_for(timeout=10_000)
    await button.click()
    await page.wait_for_function("() => document.getElementById('live-player').videoWidth > 0",
                                 timeout=20_000)
    assert PUBLIC_MARK.fullmatch(await watermark_over(page, "#live-player"))
    await page.locator("#publications li button").first.click()
    await page.wait_for_selector("#document-box:not([hidden])", timeout=10_000)
    assert (await page.text_content("#document-text") or "").endswith("<b>判决如下</b>")
    assert await page.locator("#document-text b").count() == 0
    text = await page.inner_text("main")
    assert "张某" in text and "欧阳某" in text
    for secret in ("张三", "欧阳娜娜", "13812345678", "230102198005011234"):
        assert secret not in text, secret
    await page.screenshot(path=screenshot_path("public-portal"), full_page=True)


async def test_the_public_plays_a_published_recording_with_hls_js(
        demo_client: TestClient, browser: Any) -> None:
    client = demo_client
    demo_client.app[RECORDER].segment_s = 1.0
    clerk, judge = await login(client, "clerk.daoli"), await login(client, "judge.daoli")
    client.session.cookie_jar.clear()
    case = await file_case(client, clerk, parties=PARTIES)
    hearing = await book(client, clerk, case["id"], public=True, title=TITLE)
    events = demo_client.app[CORE].bus.subscribe()
    await move(client, clerk, hearing["id"], "opened")
    # A few one-second segments of the test pattern are indexed.
    await events.next("recording.segment", within=15, where=lambda e: e.data["sequence"] >= 3)
    events.close()
    await move(client, clerk, hearing["id"], "closed")
    r = await client.get(f"/api/recordings?hearing=hearing:{hearing['id']}", headers=auth(judge))
    rec = (await r.json())["items"][0]
    body = {"kind": "recording", "recording_id": rec["id"], "title": TITLE}
    r = await client.post(f"/api/cases/{case['id']}/publications", json=body,
                          headers=auth(judge))
    assert r.status == 201, await r.text()

    page = await (await browser.new_context()).new_page()
    await page.goto(str(client.make_url("/public")))
    button = page.locator("#publications li button").first
    await button.wait_for(timeout=10_000)
    await button.click()
    await page.wait_for_selector("#recording-box:not([hidden])", timeout=10_000)
    await page.evaluate("() => document.getElementById('recording-player').play()")
    await page.wait_for_function(
        "() => document.getElementById('recording-player').currentTime > 0.5", timeout=20_000)
    assert "张三" not in await page.inner_text("main")
    seen = PUBLIC_MARK.fullmatch(await watermark_over(page, "#recording-player"))
    assert seen
    # A new page load is a new viewer id, so two screen recordings can be told apart.
    await page.reload()
    await page.locator("#recording-frame [data-watermark] span").first.wait_for(state="attached")
    again = PUBLIC_MARK.fullmatch(
        await page.text_content("#recording-frame [data-watermark] span") or "")
    assert again and again.group(1) != seen.group(1)
