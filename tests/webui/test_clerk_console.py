"""The clerk console in a real browser: steer a hearing, mark it by key, refused closings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser import screenshot_path
from tests.conftest import auth, login
from tests.webui.staff import (
    book_today,
    demo_client,
    log_in,
    markers_of,
    page_errors,
    ready,
    start_pattern,
)

pytestmark = pytest.mark.browser
__all__ = ["demo_client"]  # a fixture


def accept_dialogs(page: Any) -> None:
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))


async def state_is(page: Any, state: str) -> None:
    await page.locator(f"#hearing-state[data-state={state}]").wait_for(timeout=10_000)


async def test_clerk_opens_marks_and_closes_a_hearing(demo_client: TestClient,
                                                      browser: Any) -> None:
    hearing = await book_today(demo_client, "HL0102-02")  # the demo's live test-pattern room
    page = await (await browser.new_context()).new_page()
    accept_dialogs(page)
    errors = page_errors(page)
    await log_in(page, str(demo_client.make_url("/")), "clerk.daoli", lands="/clerk")
    # Without a hearing in the address: today's hearings of the court to choose from.
    link = page.locator(f"#picker-list [data-hearing='{hearing['id']}'] a")
    await link.wait_for(timeout=10_000)
    await page.screenshot(path=screenshot_path("clerk-picker"), full_page=True)
    await link.click()
    await page.wait_for_url(f"**/clerk?hearing={hearing['id']}")
    await ready(page)
    assert hearing["case"]["number"] in await page.text_content("#hearing-title")
    assert await page.is_disabled("button[data-to=closed]")

    await page.click("button[data-to=opened]")
    await state_is(page, "opened")
    await page.locator("#rec-feeds [data-feed=main][data-recording=true]").wait_for(
        timeout=10_000)
    await page.locator("#room-status[data-status=recording]").wait_for(timeout=10_000)

    # B with the focus on the page, not in a field: a bookmark on the running recording.
    await page.locator("#hearing-title").click()
    await page.keyboard.press("b")
    await page.wait_for_function(
        "() => document.getElementById('mark-result').textContent !== ''")
    await page.fill("#marker-speaker", "原告")
    await page.locator("#hearing-title").click()
    await page.keyboard.press("s")
    await page.locator("#marker-list li[data-kind=speaker]").wait_for(timeout=5_000)
    # Typing a B into a field marks nothing.
    await page.fill("#marker-note", "b")
    markers = await markers_of(demo_client, hearing["id"])
    kinds = [m["kind"] for m in markers]
    assert kinds.count("bookmark") == 1, markers
    speaker = next(m for m in markers if m["kind"] == "speaker")
    assert speaker["text"] == "原告" and speaker["author"] == "clerk.daoli"
    assert "opened" in kinds  # the lifecycle's own marker
    await page.screenshot(path=screenshot_path("clerk-console-marking"), full_page=True)

    await page.click("button[data-to=recess]")
    await state_is(page, "recess")
    await page.click("button[data-to=resumed]")
    await state_is(page, "resumed")
    await page.click("button[data-to=closed]")
    await state_is(page, "closed")
    await page.locator("#rec-feeds [data-feed=main][data-recording=false]").wait_for(
        timeout=10_000)
    assert await page.is_disabled("button[data-to=opened]")
    assert {"recess", "resumed", "closed"} <= {m["kind"] for m in
                                              await markers_of(demo_client, hearing["id"])}
    assert errors == []


async def test_closing_is_refused_for_unexplained_gaps(client: TestClient,
                                                       browser: Any) -> None:
    # No feed of HL0102-04 is live, so opening the hearing opens a recording gap.
    hearing = await book_today(client, "HL0102-04", n=102)
    page = await (await browser.new_context()).new_page()
    accept_dialogs(page)
    await log_in(page, str(client.make_url("/")), "clerk.daoli", lands="/clerk")
    await page.goto(str(client.make_url(f"/clerk?hearing={hearing['id']}")))
    await ready(page)
    await page.click("button[data-to=opened]")
    await state_is(page, "opened")
    await page.click("button[data-to=closed]")
    await page.wait_for_function(
        "() => document.getElementById('steer-result').textContent.includes('未能闭庭')")
    assert "审判长" in await page.text_content("#steer-result")
    await page.locator("#gaps").wait_for(timeout=10_000)
    assert await page.locator("#gap-list li[data-gap]").count() >= 1
    assert "no feed of the room is live" in await page.text_content("#gap-list")
    assert (await page.get_attribute("#hearing-state", "data-state")) == "opened"
    # Pressing B while nothing records says so instead of failing silently.
    await page.locator("#hearing-title").click()
    await page.keyboard.press("b")
    await page.wait_for_function(
        "() => document.getElementById('mark-result').textContent.includes('录制')")
    await page.screenshot(path=screenshot_path("clerk-console-gaps"), full_page=True)


async def test_the_presiding_judge_may_steer_a_president_may_not(client: TestClient,
                                                                 browser: Any) -> None:
    hearing = await book_today(client, "HL0102-05", n=103)
    page = await (await browser.new_context()).new_page()
    await log_in(page, str(client.make_url("/")), "judge.daoli", lands="/dashboard")
    await page.goto(str(client.make_url(f"/clerk?hearing={hearing['id']}")))
    await ready(page)
    # The presiding judge may open; the publish panel is for clerks only.
    assert await page.is_enabled("button[data-to=opened]")
    assert await page.is_hidden("#publish-panel")
    # Presidents watch; the console is not for their role.
    other = await (await browser.new_context()).new_page()
    await log_in(other, str(client.make_url("/")), "pres.hl", lands="/dashboard")
    await other.goto(str(client.make_url(f"/clerk?hearing={hearing['id']}")))
    await other.locator(".shell-refused").wait_for(timeout=10_000)


async def test_the_remote_sites_link_is_shown(demo_client: TestClient, browser: Any) -> None:
    token = await login(demo_client, "admin")
    r = await demo_client.post("/api/sites", headers=auth(token), json={
        "code": "KSS-DAOLI", "name": "道里看守所", "kind": "detention_centre", "court": "HL0102"})
    assert r.status == 201, await r.text()
    demo_client.session.cookie_jar.clear()
    hearing = await book_today(demo_client, "HL0102-02", n=104, remote_site="KSS-DAOLI")
    page = await (await browser.new_context()).new_page()
    await log_in(page, str(demo_client.make_url("/")), "clerk.daoli", lands="/clerk")
    await page.goto(str(demo_client.make_url(f"/clerk?hearing={hearing['id']}")))
    await ready(page)
    assert await page.text_content("#site-code") == "KSS-DAOLI"
    assert "未知" in await page.text_content("#site-link")
    # The site's stream comes up (as its WHIP publish would make it): the console says so.
    source = await start_pattern(demo_client, f"sites/KSS-DAOLI/{hearing['id']}")
    try:
        await page.wait_for_function(
            "() => document.getElementById('site-link').textContent === '已连接'",
            timeout=10_000)
        await page.screenshot(path=screenshot_path("clerk-console-remote-site"), full_page=True)
    finally:
        await source.stop()
    await page.wait_for_function(
        "() => document.getElementById('site-link').textContent === '已断开'", timeout=10_000)
