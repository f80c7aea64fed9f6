"""The first page in a real browser: log in, watch a test-pattern room, publish a camera."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.config import DemoSettings, Settings
from control.http import SERVICES
from tests.browser import screenshot_path
from tests.conftest import PASSWORD
from tests.media.peers import wait_until

pytestmark = pytest.mark.browser

FRAMES_JS = """async () => {
  const v = document.getElementById('player');
  let frames = 0;
  const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
  v.requestVideoFrameCallback(tick);
  await new Promise(r => setTimeout(r, 1500));
  return {width: v.videoWidth, height: v.videoHeight, frames};
}"""


@pytest.fixture
async def demo_client(aiohttp_client: Any, settings: Settings) -> TestClient:
    demo = replace(settings, demo=DemoSettings(enabled=True, test_pattern_rooms=("HL0102-02",)))
    return await aiohttp_client(create_app(demo, build_services(demo)))


async def log_in(page: Any, base: str, username: str) -> None:
    await page.goto(base)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("#rooms-panel:not([hidden])", timeout=10_000)


async def test_judge_logs_in_and_watches_a_live_room(demo_client: TestClient,
                                                     browser: Any) -> None:
    base = str(demo_client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    resp = await page.goto(base)
    assert "default-src 'self'" in (await resp.all_headers())["content-security-policy"]
    await page.fill("input[name=username]", "judge.daoli")
    await page.fill("input[name=password]", "wrong password")
    await page.click("#login button[type=submit]")
    await page.wait_for_function("() => document.getElementById('login-error').textContent !== ''")
    await log_in(page, base, "judge.daoli")
    button = page.locator("button[data-path='rooms/HL0102-02/main']")
    await button.wait_for(timeout=10_000)
    # Rooms of other courts are not listed for a basic court's judge.
    assert await page.locator("button[data-path^='rooms/HL0103']").count() == 0
    await button.click()
    await page.wait_for_function("() => document.getElementById('player').videoWidth > 0",
                                 timeout=15_000)
    seen = await page.evaluate(FRAMES_JS)
    assert seen["width"] == 640 and seen["height"] == 360
    assert seen["frames"] >= 10, seen
    assert "judge.daoli" in await page.text_content("#watermark")
    await page.screenshot(path=screenshot_path("live-page-judge-watching"))


async def test_clerk_publishes_camera_and_president_watches(demo_client: TestClient,
                                                            browser: Any) -> None:
    base = str(demo_client.make_url("/"))
    clerk = await (await browser.new_context()).new_page()
    await log_in(clerk, base, "clerk.daoli")
    await clerk.fill("#publish-path", "rooms/HL0102-01/main")
    await clerk.click("#publish")
    await clerk.wait_for_function(
        "() => document.getElementById('publish-state').textContent !== ''", timeout=15_000)
    assert "publishing" in await clerk.text_content("#publish-state")
    services = demo_client.app[SERVICES]
    assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "live", 10)
    president = await (await browser.new_context()).new_page()
    await log_in(president, base, "pres.harbin")
    button = president.locator("button[data-path='rooms/HL0102-01/main']")
    await button.wait_for(timeout=10_000)
    await button.click()
    await president.wait_for_function("() => document.getElementById('player').videoWidth > 0",
                                      timeout=15_000)
    seen = await president.evaluate(FRAMES_JS)
    assert seen["width"] > 0 and seen["frames"] >= 5, seen
    await president.screenshot(path=screenshot_path("live-page-president-watching-camera"))
    await clerk.click("#unpublish")
    assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "idle", 10)
