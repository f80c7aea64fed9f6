"""The playback page in headless Chromium: log in, find and open a recording, see it play, click
a marker and see the time jump, export a range with a reason and get the download link."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.iso8601 import iso, parse_iso
from media.sources import Clip
from tests.browser import screenshot_path
from tests.conftest import PASSWORD, auth
from tests.recorder.conftest import ROOM
from tests.recorder.test_playback_browser import hls_js_or_skip
from tests.recorder.test_routes import make_recording

pytestmark = pytest.mark.browser

STATE_JS = """() => {
  const v = document.getElementById('video');
  return {t: v.currentTime, w: v.videoWidth, paused: v.paused,
          clock: document.getElementById('clock').dateTime};
}"""


def seconds_in(clock: str, started: datetime) -> float:
    return (parse_iso(clock) - started).total_seconds()


async def wait_for(page: Any, check: Any, timeout_s: float = 15.0) -> dict[str, Any]:
    """Poll the player's state until `check(state)` holds (bounded)."""
    state: dict[str, Any] = {}
    for _ in range(int(timeout_s / 0.2)):
        state = await page.evaluate(STATE_JS)
        if check(state):
            return state
        await asyncio.sleep(0.2)
    raise AssertionError(f"player state never matched: {state}")


async def test_playback_page(rclient: TestClient, tokens: dict[str, str], clip: Clip,
                             browser: Any) -> None:
    hls_js_or_skip()
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=10)
    started = parse_iso(rec["started_at"])
    markers = {}
    for offset, kind, text in ((1.0, "speaker", "审判长"), (7.5, "bookmark", "<b>证据</b> 3")):
        r = await rclient.post(f"/api/recordings/{rec['id']}/markers",
                               headers=auth(tokens["admin"]), json={
                                   "kind": kind, "text": text,
                                   "at": iso(started + timedelta(seconds=offset))})
        assert r.status == 201
        markers[offset] = await r.json()
    base = str(rclient.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)

    resp = await page.goto(f"{base}/playback")
    await page.wait_for_selector("input[name=username]", timeout=10_000)
    await page.fill("input[name=username]", "pres.harbin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await page.wait_for_url("**/playback*", timeout=10_000)
    resp = await page.reload()
    assert resp is not None
    assert "default-src 'self'" in (await resp.all_headers())["content-security-policy"]

    await page.fill("#f-room", ROOM)
    await page.click("#search-submit")
    result = page.locator(f"#results button[data-recording='{rec['id']}']")
    await result.wait_for(timeout=10_000)
    await result.click()
    first = await wait_for(page, lambda s: s["w"] > 0 and s["t"] > 0.3)
    later = await wait_for(page, lambda s: s["t"] >= first["t"] + 1.0)
    assert later["w"] == 640 and later["clock"], later
    assert 0 <= seconds_in(later["clock"], started) <= later["t"] + 1.5

    mark = markers[7.5]
    button = page.locator(f"#marker-list button[data-marker='{mark['id']}']")
    assert await button.inner_text() != "" and "<b>证据</b> 3" in await button.inner_text()
    assert await page.locator("#marker-list b").count() == 0, "marker text is never HTML"
    await button.click()
    # The picture time follows the playhead (it is redrawn four times a second).
    jumped = await wait_for(page, lambda s: 7.3 <= s["t"] <= 9.9 and s["clock"]
                            and 7.0 <= seconds_in(s["clock"], started) <= 10.0)
    pins = page.locator(f"#timeline-markers button[data-marker='{markers[1.0]['id']}']")
    await pins.click()
    back = await wait_for(page, lambda s: 0.8 <= s["t"] <= 3.0)
    assert back["t"] < jumped["t"]
    watermark = await page.text_content("[data-watermark]")
    assert watermark is not None and "pres.harbin" in watermark

    await page.fill("#x-from", iso(started + timedelta(seconds=2)))
    await page.fill("#x-to", iso(started + timedelta(seconds=5)))
    await page.fill("#x-reason", "二审调卷 appeal review")
    await page.click("#x-submit")
    await page.wait_for_selector("#x-download:not([hidden])", timeout=20_000)
    assert await page.evaluate("document.getElementById('x-progress').value") == 100
    href = await page.get_attribute("#x-download", "href")
    assert href is not None and href.endswith("/file")
    await page.screenshot(path=screenshot_path("recorder-playback-page"), full_page=True)
    assert not problems, problems
    await context.close()


async def playback_as(browser: Any, base: str, username: str, rec_id: int) -> tuple[Any, Any]:
    """A fresh context logged in as `username` on /playback with the recording open."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1100})
    page = await context.new_page()
    await page.goto(f"{base}/playback")
    await page.wait_for_selector("input[name=username]", timeout=10_000)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await page.wait_for_url("**/playback*", timeout=10_000)
    await page.goto(f"{base}/playback?recording={rec_id}")
    await page.wait_for_function(  # open() has drawn the timeline
        "() => !document.getElementById('player-panel').hidden "
        "&& document.getElementById('marker-list').children.length > 0", timeout=10_000)
    return context, page


async def test_president_withholds_a_range_and_holds_the_recording(
        rclient: TestClient, tokens: dict[str, str], clip: Clip, browser: Any) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=6)
    started = parse_iso(rec["started_at"])
    base = str(rclient.make_url("/")).rstrip("/")
    portions_url = f"/api/recordings/{rec['id']}/portions"

    context, page = await playback_as(browser, base, "pres.harbin", rec["id"])
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    await page.wait_for_selector("#seal-panel:not([hidden])", timeout=10_000)
    assert await page.is_visible("#hold-panel")
    assert await page.text_content("#portion-list") == "本录像没有不公开片段。"
    assert await page.text_content("#h-state") == "本录像未保全：保存期满后按规定删除。"

    # A reason is required before anything is sent.
    await page.fill("#s-from", iso(started + timedelta(seconds=2)))
    await page.fill("#s-to", iso(started + timedelta(seconds=4)))
    await page.check("#s-sealed")
    await page.fill("#s-reason", "短")
    await page.click("#s-submit")
    assert await page.text_content("#s-state") == "请填写理由（至少 4 个字）。"
    r = await rclient.get(portions_url, headers=auth(tokens["admin"]))
    assert (await r.json())["items"] == []

    await page.fill("#s-reason", "涉及未成年人隐私 minor's privacy")
    await page.click("#s-submit")
    row = page.locator("#portion-list li[data-portion]")
    await row.wait_for(timeout=10_000)
    r = await rclient.get(portions_url, headers=auth(tokens["admin"]))
    [portion] = (await r.json())["items"]
    assert portion["level"] == "sealed" and portion["created_by"] == "pres.harbin"
    assert portion["reason"] == "涉及未成年人隐私 minor's privacy"
    assert parse_iso(portion["from"]) == started + timedelta(seconds=2)
    assert parse_iso(portion["to"]) == started + timedelta(seconds=4)
    assert await row.get_attribute("data-level") == "sealed"
    assert "封存" in await row.inner_text() and "pres.harbin" in await row.inner_text()
    # The timeline shows the sealed band about a third of the way along.
    band = page.locator("#timeline-spans .pb-span[data-level=sealed]")
    assert await band.count() == 1
    left = float((await band.evaluate("b => b.style.left")).rstrip("%"))
    assert 20 <= left <= 45, left
    assert await page.get_attribute("#timeline-bar", "aria-label") == "录像时间轴，1 段不公开"

    # Legal hold, with its reason.
    await page.fill("#h-reason", "上诉期间保全 appeal pending")
    await page.click("#h-submit")
    await page.wait_for_selector("#hold-panel[data-held=true]", timeout=10_000)
    assert await page.text_content("#h-submit") == "解除保全"
    assert await page.text_content("#h-result") == "已设为保全。"
    assert await page.input_value("#h-reason") == ""
    r = await rclient.get(f"/api/recordings/{rec['id']}", headers=auth(tokens["admin"]))
    assert (await r.json())["legal_hold"] is True
    await page.screenshot(path=screenshot_path("recorder-playback-sealed"), full_page=True)

    # The clerk of the court gets no controls (and is not even asked to be refused), and sees
    # the sealed range only as withheld.
    clerk_context, clerk = await playback_as(browser, base, "clerk.daoli", rec["id"])
    asked: list[str] = []
    clerk.on("request", lambda req: asked.append(req.url))
    await clerk.reload()
    withheld = clerk.locator("#timeline-spans .pb-span[data-level=withheld]")
    await withheld.wait_for(state="attached", timeout=10_000)
    assert await clerk.locator("#timeline-spans .pb-span[data-level=sealed]").count() == 0
    for panel in ("#seal-panel", "#hold-panel", "#export-panel"):
        assert await clerk.is_hidden(panel), panel
    assert await clerk.is_hidden("#pb-key-portions")
    recording_calls = [url for url in asked if "/api/recordings/" in url]
    assert recording_calls and not [url for url in recording_calls
                                    if url.endswith(("/portions", "/hold"))], recording_calls
    await clerk.screenshot(path=screenshot_path("recorder-playback-clerk-withheld"),
                           full_page=True)
    await clerk_context.close()

    # The president lifts the portion again (the inline confirmation, with a reason).
    await page.click(f"#portion-list [data-lift='{portion['id']}']")
    await page.fill(f"#lift-reason-{portion['id']}", "不再需要封存")
    await page.click(f"#portion-list [data-confirm-lift='{portion['id']}']")
    await page.wait_for_function(
        "() => !document.querySelector('#portion-list li[data-portion]')", timeout=10_000)
    r = await rclient.get(portions_url, headers=auth(tokens["admin"]))
    assert (await r.json())["items"] == []
    assert await page.locator("#timeline-spans .pb-span").count() == 0
    assert not problems, problems
    await context.close()
