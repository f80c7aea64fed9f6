"""The administration page in headless Chromium: users, remote sites, courts, settings,
nodes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser import screenshot_path
from tests.conftest import auth, login
from tests.webui.staff import log_in, page_errors

pytestmark = pytest.mark.browser


async def test_admin_manages_users_and_sites(client: TestClient, browser: Any) -> None:
    base = str(client.make_url("/"))
    page = await (await browser.new_context()).new_page()
    errors = page_errors(page)
    await log_in(page, base, "admin")
    await page.goto(str(client.make_url("/admin")))
    await page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=15_000)
    assert await page.locator("#users tr[data-user='judge.daoli']").count() == 1

    # Create a clerk whose display name carries markup: it is shown as text.
    await page.fill("#user-new [name=username]", "clerk.hulan")
    await page.fill("#user-new [name=display_name]", "<img src=x>呼兰")
    await page.select_option("#new-role", "clerk")
    await page.fill("#user-new [name=court]", "HL0104")
    await page.fill("#user-new [name=password]", "a long enough passphrase")
    await page.click("#user-new button[type=submit]")
    row = page.locator("#users tr[data-user='clerk.hulan']")
    await row.wait_for(timeout=10_000)
    assert await row.locator("input").first.input_value() == "<img src=x>呼兰"
    assert await page.locator("#users img").count() == 0
    # Disable them from the table.
    await row.locator("input[type=checkbox]").uncheck()
    await row.locator("button", has_text="保存").click()
    await row.get_by_role("status").filter(has_text="已保存").wait_for(timeout=10_000)
    admin = auth(await login(client, "admin"))
    r = await client.get("/api/users?q=hulan", headers=admin)
    assert [u["active"] for u in (await r.json())["items"]] == [False]

    # Register a remote site: the credential shows once.
    await page.click("#tab-sites")
    await page.fill("#site-new [name=code]", "HLKSS01")
    await page.fill("#site-new [name=name]", "哈尔滨市第一看守所")
    await page.fill("#site-new [name=court]", "HL01")
    await page.click("#site-new button[type=submit]")
    await page.wait_for_selector("#credential:not([hidden])", timeout=10_000)
    credential = await page.text_content("#credential-value")
    assert credential and len(credential) > 20
    await page.locator("#sites tr[data-site='HLKSS01']").wait_for(timeout=10_000)
    r = await client.get("/api/sites", headers=admin)
    assert credential not in await r.text()

    # Courts (read-only) and the effective settings; arrow keys move between tabs.
    await page.focus("#tab-sites")
    await page.keyboard.press("ArrowRight")
    assert await page.get_attribute("#tab-courts", "aria-selected") == "true"
    await page.wait_for_selector("#rooms tr", timeout=10_000)
    await page.keyboard.press("ArrowRight")
    await page.wait_for_selector("#settings h3", timeout=10_000)
    headings = await page.eval_on_selector_all("#settings h3", "hs => hs.map(h => h.textContent)")
    assert "probes.main" in headings and "recorder.retention" in headings
    assert "secret" not in (await page.text_content("#settings") or "").lower().replace(
        "signed", "")
    await page.screenshot(path=screenshot_path("admin-settings"), full_page=True)
    # The province's nodes: here the one node that answers, alive.
    await page.keyboard.press("ArrowRight")
    node = page.locator("#nodes tr[data-state='alive']")
    await node.wait_for(timeout=10_000)
    assert await page.locator("#nodes tr").count() == 1
    assert "本节点" in (await node.text_content() or "")
    assert errors == []
    await page.context.close()


async def test_the_admin_page_is_refused_to_other_roles(client: TestClient,
                                                       browser: Any) -> None:
    page = await (await browser.new_context()).new_page()
    await log_in(page, str(client.make_url("/")), "pres.hl")
    await page.goto(str(client.make_url("/admin")))
    await page.wait_for_selector(".shell-refused", timeout=10_000)
    assert await page.locator("#users tr").count() == 0
    r = await client.get("/api/admin/settings", headers=auth(await login(client, "pres.hl")))
    assert r.status == 403
    await page.context.close()
