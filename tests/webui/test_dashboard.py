"""The dashboard in a real browser: what each role sees, live room states, watching a room."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.core import CORE
from control.live import LIVE
from tests.browser import screenshot_path
from tests.conftest import auth, login
from tests.media.peers import wait_until
from tests.webui.staff import (
    book_today,
    demo_client,
    log_in,
    page_errors,
    ready,
    start_pattern,
)

pytestmark = pytest.mark.browser
__all__ = ["demo_client"]  # a fixture

CARD_CODES = "cards => cards.map(c => c.dataset.room)"
TREE_CODES = "nodes => nodes.map(n => n.dataset.court)"

PLAYING_JS = """async (feed) => {
  const v = document.querySelector(`#players video[data-feed="${feed}"]`);
  const t0 = v.currentTime;
  let frames = 0;
  const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
  v.requestVideoFrameCallback(tick);
  await new Promise(r => setTimeout(r, 1500));
  return {width: v.videoWidth, frames, advanced: v.currentTime - t0, muted: v.muted};
}"""


async def open_dashboard(browser: Any, base: str, username: str) -> Any:
    page = await (await browser.new_context()).new_page()
    await log_in(page, base, username, lands="/dashboard")
    await ready(page)
    return page


async def test_each_leader_sees_only_their_courts(client: TestClient, browser: Any) -> None:
    base = str(client.make_url("/"))
    daoli = await open_dashboard(browser, base, "pres.daoli")
    assert await daoli.eval_on_selector_all("[data-court]", TREE_CODES) == ["HL0102"]
    cards = await daoli.eval_on_selector_all("[data-room]", CARD_CODES)
    assert len(cards) == 10 and all(c.startswith("HL0102-") for c in cards)
    assert await daoli.get_attribute("[data-counts=HL0102]", "data-total") == "10"
    await daoli.screenshot(path=screenshot_path("dashboard-president-daoli"), full_page=True)

    harbin = await open_dashboard(browser, base, "pres.harbin")
    courts = await harbin.eval_on_selector_all("[data-court]", TREE_CODES)
    assert courts[0] == "HL01" and {"HL0102", "HL0103"} <= set(courts)
    assert not {"HL", "HL02"} & set(courts)
    assert all(c.startswith("HL01") for c in courts)
    # Choosing a court below narrows the rooms to it.
    await harbin.click("button[data-court=HL0103]")
    await harbin.wait_for_function(
        "() => [...document.querySelectorAll('[data-room]')].every(c => "
        "c.dataset.room.startsWith('HL0103-'))")

    judge = await open_dashboard(browser, base, "judge.daoli")
    assert await judge.eval_on_selector_all("[data-court]", TREE_CODES) == ["HL0102"]
    assert all(c.startswith("HL0102-") for c in
               await judge.eval_on_selector_all("[data-room]", CARD_CODES))


async def test_a_province_is_paged_not_drawn_at_once(client: TestClient, browser: Any) -> None:
    page = await open_dashboard(browser, str(client.make_url("/")), "admin")
    assert await page.get_attribute("[data-counts=HL]", "data-total") == "888"
    assert "888" in await page.text_content("#room-count")
    first = await page.eval_on_selector_all("[data-room]", CARD_CODES)
    assert len(first) == 24
    # No room is live, so no thumbnail is asked for.
    assert await page.locator("img.room-thumb[src]").count() == 0
    await page.click("#page-next")
    await page.wait_for_function(
        f"() => document.querySelector('[data-room]').dataset.room !== '{first[0]}'")
    assert len(set(await page.eval_on_selector_all("[data-room]", CARD_CODES)) & set(first)) == 0
    await page.fill("#room-q", "HL0102-0")
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-room]').length === 9")
    await page.screenshot(path=screenshot_path("dashboard-admin-search"), full_page=True)


async def test_room_card_and_hearing_change_live(client: TestClient, browser: Any) -> None:
    hearing = await book_today(client, "HL0102-03")
    page = await (await browser.new_context()).new_page()
    errors = page_errors(page)
    await log_in(page, str(client.make_url("/")), "judge.daoli", lands="/dashboard")
    await ready(page)
    await page.evaluate("() => { window.notReloaded = true; }")
    card = page.locator("[data-room=HL0102-03]")
    assert await card.get_attribute("data-status") == "idle"
    assert hearing["case"]["number"] in await card.text_content()
    row = page.locator(f"#schedule tr[data-hearing='{hearing['id']}']")
    assert hearing["case"]["number"] in await row.text_content()

    source = await start_pattern(client, "rooms/HL0102-03/main")
    try:
        await page.locator("[data-room=HL0102-03][data-status=live]").wait_for(timeout=10_000)
        await page.locator("[data-counts=HL0102][data-live='1']").wait_for(timeout=5_000)
        await page.wait_for_function(
            "() => { const i = document.querySelector('[data-room=\"HL0102-03\"] img');"
            " return i && !i.hidden && i.naturalWidth > 0; }", timeout=10_000)
        # The clerk opens the hearing elsewhere: the card follows, and recording starts.
        token = await login(client, "clerk.daoli")
        client.session.cookie_jar.clear()
        r = await client.post(f"/api/hearings/{hearing['id']}/transitions",
                              json={"to": "opened"}, headers=auth(token))
        assert r.status == 200, await r.text()
        await page.locator("[data-room=HL0102-03][data-status=recording]").wait_for(
            timeout=10_000)
        await page.locator("[data-room=HL0102-03] .hearing-opened").wait_for(timeout=5_000)
        await page.screenshot(path=screenshot_path("dashboard-judge-live-card"), full_page=True)
    finally:
        await source.stop()
    await page.locator("[data-room=HL0102-03][data-status=idle]").wait_for(timeout=10_000)
    assert await page.evaluate("() => window.notReloaded") is True
    assert errors == []


async def test_watch_both_feeds_of_a_room(client: TestClient, browser: Any) -> None:
    sources = [await start_pattern(client, f"rooms/HL0102-01/{feed}") for feed in ("main", "sub")]
    try:
        services = client.app[CORE]
        assert await wait_until(lambda: services.monitor.get("HL0102-01").status == "live", 10)
        page = await open_dashboard(browser, str(client.make_url("/")), "pres.harbin")
        await page.select_option("#room-status", "live")
        await page.click("[data-room=HL0102-01] .room-open")
        for feed in ("main", "sub"):
            await page.wait_for_function(
                f"() => document.querySelector('#players video[data-feed=\"{feed}\"]')"
                "?.videoWidth > 0", timeout=15_000)
        main = await page.evaluate(PLAYING_JS, "main")
        sub = await page.evaluate(PLAYING_JS, "sub")
        assert main["width"] == 320 and main["frames"] >= 10 and main["advanced"] > 0.5, main
        assert sub["width"] == 320 and sub["advanced"] > 0.5, sub
        marks = await page.eval_on_selector_all(
            "#players .player [data-watermark]", "ms => ms.map(m => m.textContent)")
        assert len(marks) == 2 and all("pres.harbin" in m for m in marks)
        # Sound from one feed at a time.
        assert not main["muted"] and sub["muted"]
        await page.click("[data-feed=sub] .player-sound")
        assert await page.get_attribute("[data-feed=sub] .player-sound", "aria-pressed") == "true"
        assert await page.evaluate(
            "() => [...document.querySelectorAll('#players video')].map(v => v.muted)"
        ) == [True, False]
        await page.screenshot(path=screenshot_path("dashboard-watching-two-feeds"),
                              full_page=True)
        await page.keyboard.press("Escape")
        await page.locator("#viewer").wait_for(state="hidden")
        assert await page.evaluate(
            "() => document.activeElement.closest('[data-room]')?.dataset.room") == "HL0102-01"
        # Closing the viewer ends both WHEP sessions on the server.
        whep = client.app[LIVE].server.sessions
        assert await wait_until(lambda: not whep, 5), list(whep)
    finally:
        for source in sources:
            await source.stop()
