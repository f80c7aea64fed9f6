"""The remote site's page in a real browser: enter the credential, link the (fake) camera to the
courtroom and watch it, then, after the close, draw a signature that the court can fetch."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import TimeoutError as PlaywrightTimeout

from control.app import create_app
from control.config import Settings
from control.core import Core
from control.live import LIVE
from media.sources import Clip, PatternSpec, render_clip
from recorder.service import RECORDER
from tests.browser import screenshot_path, watermark_over
from tests.conftest import auth
from tests.hearing.conftest import move
from tests.hearing.remote import CLERK, JUDGE, ROOM, book_now, criminal_case, new_site
from tests.media.peers import wait_until
from tests.recorder.conftest import FastFeed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_clip(PatternSpec("Courtroom", gop_s=1, duration_s=2))


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, services: Core) -> TestClient:
    app = create_app(settings, services)
    app[RECORDER].segment_s = 1.0
    client = await aiohttp_client(app)
    server = app[LIVE].server
    server.settings = replace(server.settings, publisher_timeout_s=5.0)
    return client


async def test_the_site_links_to_the_courtroom_and_the_defendant_signs(
        client: TestClient, browser: Any, clip: Clip) -> None:
    courtroom = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main", clip)
    courtroom.push(4)
    _, credential = await new_site(client)
    case_id, defendant, _ = await criminal_case(client)
    hid = (await book_now(client, case_id, "HL-KSS01"))["id"]
    site_stream = f"sites/HL-KSS01/{hid}"

    page = await (await browser.new_context()).new_page()
    resp = await page.goto(str(client.make_url("/site")))
    assert "script-src 'self'" in (await resp.all_headers())["content-security-policy"]
    await page.fill("#credential", "cts_not-the-right-credential-at-all")
    await page.click("#login button[type=submit]")
    await page.wait_for_function("() => document.getElementById('login-error').textContent")
    await page.fill("#credential", credential)
    await page.click("#login button[type=submit]")
    await page.wait_for_selector(f"li[data-hearing='{hid}'] button.connect", timeout=10_000)
    await page.click(f"li[data-hearing='{hid}'] button.connect")

    streams = client.app[LIVE].streams
    assert await wait_until(lambda: (s := streams.get(site_stream)) is not None and s.is_live, 20)
    assert [t.codec for t in streams.get(site_stream).tracks if t.kind == "video"] == ["H264"]
    for _ in range(10):  # the courtroom keeps coming while the site's browser connects
        courtroom.push(2)
        with contextlib.suppress(PlaywrightTimeout):
            await page.wait_for_function(
                "() => document.getElementById('courtroom').videoWidth > 0", timeout=500)
            break
    assert await page.evaluate("() => document.getElementById('courtroom').videoWidth") == 640
    mark = await watermark_over(page, "#courtroom")  # the site's code and the time
    assert mark.startswith("HL-KSS01 ") and any(c.isdigit() for c in mark[9:]), mark
    await move(client, CLERK, hid, "opened")
    assert set(client.app[RECORDER].active_for(ROOM, f"hearing:{hid}")) == {"main", "remote"}
    courtroom.push(2)
    await page.screenshot(path=screenshot_path("site-page-linked"))
    await move(client, CLERK, hid, "closed")

    # After the close: read the record and sign it on the pad.
    await page.click("#refresh")
    await page.click(f"li[data-hearing='{hid}'] button.sign", timeout=10_000)
    await page.wait_for_function("() => document.getElementById('record').textContent.length")
    assert "（2024）黑0102刑初101号" in await page.text_content("#record")
    await page.click("#submit-sign")  # nothing drawn yet: refused on the page
    assert await page.text_content("#sign-state") != ""
    box = await page.locator("#pad").bounding_box()
    await page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.7)
    await page.mouse.down()
    for step in range(1, 20):
        await page.mouse.move(box["x"] + 30 + step * 20, box["y"] + box["height"] * (0.7 - step
                                                                                  * 0.02))
    await page.mouse.up()
    await page.click("#submit-sign")
    await page.wait_for_selector(f"li[data-hearing='{hid}'] button.sign[disabled]",
                                 timeout=10_000)
    await page.screenshot(path=screenshot_path("site-page-signed"))
    r = await client.get(f"/api/hearings/{hid}/signatures", headers=auth(JUDGE))
    items = (await r.json())["items"]
    assert len(items) == 1 and items[0]["party"] == defendant
    assert (items[0]["width"], items[0]["height"]) == (600, 200)
    await page.click("#leave")
    await page.context.close()
    courtroom.publisher.close()
