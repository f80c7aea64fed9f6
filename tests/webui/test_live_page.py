"""Live media through the pages in a real browser: watch a test-pattern room from the
dashboard, publish a camera from the clerk console and watch it as a president."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.core import CORE
from tests.browser import screenshot_path
from tests.media.peers import wait_until
from tests.webui.staff import book_today, demo_client, log_in, ready

pytestmark = pytest.mark.browser
__all__ = ["demo_client"]  # a fixture

FRAMES_JS = """async () => {
  const v = document.querySelector('#players video[data-feed="main"]');
  let frames = 0;
  const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
  v.requestVideoFrameCallback(tick);
  await new Promise(r => setTimeout(r, 1500));
  return {width: v.videoWidth, height: v.videoHeight, frames};
}"""
MAIN_PLAYING = ("() => document.querySelector('#players video[data-feed=\"main\"]')"
                "?.videoWidth > 0")


async def test_judge_logs_in_and_watches_a_live_room(demo_client: TestClient,
                                                     browser: Any) -> None:
    base = str(demo_client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    await log_in(page, base, "judge.daoli", lands="/dashboard")
    await ready(page)
    card = page.locator("[data-room=HL0102-02][data-status=live]")
    await card.wait_for(timeout=10_000)
    # Rooms of other courts are not listed for a basic court's judge.
    assert await page.locator("[data-room^=HL0103]").count() == 0
    await card.locator(".room-open").click()
    await page.wait_for_function(MAIN_PLAYING, timeout=15_000)
    seen = await page.evaluate(FRAMES_JS)
    assert seen["width"] == 640 and seen["height"] == 360
    assert seen["frames"] >= 10, seen
    assert "judge.daoli" in await page.text_content("#players [data-watermark]")
    await page.screenshot(path=screenshot_path("live-page-judge-watching"), full_page=True)


async def test_clerk_publishes_camera_and_president_watches(demo_client: TestClient,
                                                            browser: Any) -> None:
    base = str(demo_client.make_url("/"))
    hearing = await book_today(demo_client, "HL0102-01")
    clerk = await (await browser.new_context()).new_page()
    await log_in(clerk, base, "clerk.daoli", lands="/clerk")
    await clerk.goto(str(demo_client.make_url(f"/clerk?hearing={hearing['id']}")))
    await ready(clerk)
    await clerk.select_option("#publish-feed", "main")
    await clerk.click("#publish-start")
    await clerk.wait_for_function(
        "() => document.getElementById('publish-state').textContent !== ''", timeout=15_000)
    assert "rooms/HL0102-01/main" in await clerk.text_content("#publish-state")
    services = demo_client.app[CORE]
    assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "live", 10)
    await clerk.locator("#room-status[data-status=live]").wait_for(timeout=10_000)
    president = await (await browser.new_context()).new_page()
    await log_in(president, base, "pres.harbin", lands="/dashboard")
    await ready(president)
    await president.fill("#room-q", "HL0102-01")
    await president.locator("[data-room=HL0102-01][data-status=live] .room-open").click(
        timeout=10_000)
    await president.wait_for_function(MAIN_PLAYING, timeout=15_000)
    seen = await president.evaluate(FRAMES_JS)
    assert seen["width"] > 0 and seen["frames"] >= 5, seen
    await president.screenshot(path=screenshot_path("live-page-president-watching-camera"))
    await clerk.click("#publish-stop")
    assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "idle", 10)
