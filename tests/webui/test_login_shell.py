"""Login, where each user lands, the shared header's navigation (as /api/me grants), language
and log out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser import screenshot_path
from tests.conftest import PASSWORD
from tests.webui.staff import log_in

pytestmark = pytest.mark.browser

# username -> (where they land, nav links shown, nav links not shown)
ROLES = {
    "admin": ("/dashboard", {"dashboard", "wall", "playback", "clerk", "cases", "admin", "public"},
              set()),
    "pres.hl": ("/dashboard", {"dashboard", "wall", "playback", "cases", "public"},
                {"clerk", "admin"}),
    "judge.daoli": ("/dashboard", {"dashboard", "playback", "clerk", "cases", "public"},
                    {"wall", "admin"}),
    "clerk.daoli": ("/clerk", {"dashboard", "playback", "clerk", "cases", "public"},
                    {"wall", "admin"}),
    "sec.harbin": ("/wall", {"wall", "public"},
                   {"dashboard", "playback", "clerk", "cases", "admin"}),
}


async def nav_keys(page: Any) -> set[str]:
    return set(await page.eval_on_selector_all(
        "#shell [data-nav]", "links => links.map(a => a.dataset.nav)"))


async def test_each_role_lands_on_its_page_with_its_links(client: TestClient,
                                                           browser: Any) -> None:
    base = str(client.make_url("/"))
    for username, (home, shown, hidden) in ROLES.items():
        page = await (await browser.new_context()).new_page()
        await log_in(page, base, username, lands=home)
        assert page.url.endswith(home), (username, page.url)
        if home == "/wall":
            # The wall is another page; its header is checked from a page every role can open.
            await page.goto(str(client.make_url("/dashboard")))
        await page.wait_for_selector("#shell [data-nav]")
        keys = await nav_keys(page)
        assert shown <= keys and not hidden & keys, (username, keys)
        assert username in await page.text_content("#shell-user")
        await page.context.close()


async def test_wrong_password_then_back_to_the_page_asked_for(client: TestClient,
                                                              browser: Any) -> None:
    base = str(client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    resp = await page.goto(str(client.make_url("/dashboard")))
    assert "default-src 'self'" in (await resp.all_headers())["content-security-policy"]
    await page.wait_for_url(re.compile(r"/\?next=%2Fdashboard$"), timeout=10_000)
    await page.fill("#login-username", "judge.daoli")
    await page.fill("#login-password", "wrong password")
    await page.click("#login-submit")
    await page.wait_for_function(
        "() => document.getElementById('login-error').textContent !== ''")
    assert page.url.startswith(base)
    await page.screenshot(path=screenshot_path("login-refused"))
    await page.fill("#login-password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/dashboard", timeout=10_000)
    # An address elsewhere in `next` is never followed.
    await page.goto(base + "?next=//example.org/x")
    await page.wait_for_url("**/dashboard", timeout=10_000)


async def test_a_page_for_other_roles_says_so(client: TestClient, browser: Any) -> None:
    base = str(client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    await log_in(page, base, "sec.daoli", lands="/wall")
    await page.goto(str(client.make_url("/dashboard")))
    alert = page.locator(".shell-refused")
    await alert.wait_for(timeout=10_000)
    assert "角色" in await alert.text_content()
    assert await page.locator("[data-room]").count() == 0
    await page.goto(str(client.make_url("/clerk")))
    await page.locator(".shell-refused").wait_for(timeout=10_000)


async def test_language_switch_and_log_out(client: TestClient, browser: Any) -> None:
    base = str(client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    await page.goto(base)
    assert (await page.text_content("#login-title")).strip() == "登录"
    await page.select_option("#login-lang", "en")
    assert (await page.text_content("#login-title")).strip() == "Log in"
    assert await page.get_attribute("html", "lang") == "en"
    await log_in(page, base, "pres.daoli", lands="/dashboard")
    # The choice is remembered across pages.
    await page.wait_for_selector("#shell [data-nav=dashboard]")
    assert await page.text_content("#shell [data-nav=dashboard]") == "Dashboard"
    assert await page.text_content("#rooms-title") == "Courtrooms"
    assert "President" in await page.text_content("#shell-user")
    await page.wait_for_function(
        "() => document.getElementById('room-count').textContent.includes('courtrooms')")
    await page.screenshot(path=screenshot_path("dashboard-english"), full_page=True)
    await page.select_option("#shell-lang", "zh-CN")
    assert await page.text_content("#shell [data-nav=dashboard]") == "总览"
    assert "间法庭" in await page.text_content("#room-count")
    await page.click("#shell-logout")
    await page.wait_for_selector("#login-username", timeout=10_000)
    assert (await page.evaluate("() => fetch('/api/me').then(r => r.status)")) == 401


async def test_navigation_follows_what_api_me_grants(client: TestClient, browser: Any) -> None:
    """Same user, same role: only the grants in /api/me's answer change what the pages offer."""
    base = str(client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    await log_in(page, base, "clerk.daoli", lands="/clerk")

    async def wall_instead_of_console(route: Any) -> None:
        response = await route.fetch()
        me = await response.json()
        me["grants"]["wall.use"] = [me["court"]]
        del me["grants"]["hearing.mark"]
        await route.fulfill(response=response, json=me)

    await page.route("**/api/me", wall_instead_of_console)
    await page.goto(str(client.make_url("/dashboard")))
    await page.wait_for_selector("#shell [data-nav]")
    keys = await nav_keys(page)
    assert "wall" in keys and "clerk" not in keys and "admin" not in keys, keys
    await page.goto(str(client.make_url("/clerk")))
    await page.locator(".shell-refused").wait_for(timeout=10_000)
    await page.unroute("**/api/me")
    await page.goto(str(client.make_url("/clerk")))
    await page.wait_for_selector("#shell [data-nav=clerk]")
    assert await page.locator(".shell-refused").count() == 0
    await page.context.close()
