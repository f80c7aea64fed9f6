"""The cases and schedule page in a real browser: a clerk files a case, adds a party, books a
hearing and finds it in the week; double bookings, rescheduling and cancelling; judges read only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser import screenshot_path
from tests.conftest import auth, login
from tests.webui.staff import log_in, page_errors

pytestmark = pytest.mark.browser

SHANGHAI = timezone(timedelta(hours=8))
FIRST = "（2025）黑0102民初201号"
SECOND = "（2025）黑0102民初202号"
# Typed into the cause: must come back as these very characters, never as elements.
HTML_CAUSE = '<img src=x id="injected"><b id="bold">民间借贷纠纷</b>'


def tomorrow() -> date:
    """Tomorrow in Shanghai, the browser's time zone in these tests."""
    return datetime.now(SHANGHAI).date() + timedelta(days=1)


def utc_text(day: date, hour: int) -> str:
    """`hour`:00 of `day` in Shanghai as the API writes instants."""
    local = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def cases_page(browser: Any, client: TestClient, username: str,
                     lands: str) -> tuple[Any, list[str]]:
    """A fresh browser context in Shanghai time, logged in, on /cases once it has loaded; and
    the script errors and CSP refusals of the page from the start."""
    context = await browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN",
                                        viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    errors = page_errors(page)
    await log_in(page, str(client.make_url("/")), username, lands=lands)
    await page.goto(str(client.make_url("/cases")))
    await page.wait_for_function("() => document.body.dataset.ready === 'true'",
                                 timeout=15_000)
    return page, errors


async def api_get(client: TestClient, username: str, path: str) -> Any:
    token = await login(client, username)
    r = await client.get(path, headers=auth(token))
    client.session.cookie_jar.clear()
    assert r.status == 200, await r.text()
    return await r.json()


async def file_in_page(page: Any, number: str, cause: str) -> None:
    await page.fill("#new-number", number)
    await page.fill("#new-cause", cause)
    await page.fill("#new-judge", "judge.daoli")
    await page.click("#new-submit")
    await page.wait_for_function(
        "(n) => document.getElementById('case-title').textContent === n "
        "&& !document.getElementById('case-detail').hidden", arg=number.replace("(", "（")
        .replace(")", "）"), timeout=10_000)


async def book_in_page(page: Any, room: str, day: date, start: int, end: int) -> None:
    await page.select_option("#book-room", room)
    await page.fill("#book-start", f"{day.isoformat()}T{start:02d}:00")
    await page.fill("#book-end", f"{day.isoformat()}T{end:02d}:00")
    await page.click("#book-submit")


async def test_clerk_files_adds_a_party_books_and_meets_a_conflict(client: TestClient,
                                                                   browser: Any) -> None:
    page, errors = await cases_page(browser, client, "clerk.daoli", "/clerk")
    assert await page.locator("#shell [data-nav=cases][aria-current=page]").count() == 1
    # The clerk's own name fills the clerk field; ASCII brackets are accepted.
    assert await page.input_value("#new-clerk") == "clerk.daoli"
    await file_in_page(page, "(2025)黑0102民初201号", HTML_CAUSE)
    case = (await api_get(client, "clerk.daoli", "/api/cases?number=201"))["items"][0]
    assert case["number"] == FIRST and case["cause"] == HTML_CAUSE
    assert case["presiding_judge"] == "judge.daoli" and case["clerk"] == "clerk.daoli"

    # The cause shows as the characters typed, in the detail and in the search results.
    assert await page.text_content("#case-cause") == HTML_CAUSE
    row = page.locator(f"#case-rows tr[data-case='{case['id']}'] .case-cause")
    await row.wait_for(timeout=5_000)
    assert await row.text_content() == HTML_CAUSE
    assert await page.locator("#injected, #bold").count() == 0

    # A party: a defendant with an ID number the clerk (a scheduler of the court) may see.
    await page.select_option("#party-role", "defendant")
    await page.fill("#party-name", "张三")
    await page.fill("#party-id", "230102199001011234")
    await page.fill("#party-phone", "13800000000")
    await page.click("#party-submit")
    party_row = page.locator("#party-rows tr[data-party]")
    await party_row.wait_for(timeout=5_000)
    assert await party_row.count() == 1
    shown = await party_row.text_content()
    assert "被告" in shown and "张三" in shown and "230102199001011234" in shown
    parties = (await api_get(client, "clerk.daoli", f"/api/cases/{case['id']}/parties"))["parties"]
    assert [(p["role"], p["kind"], p["name"], p["minor"]) for p in parties] == [
        ("defendant", "natural", "张三", False)]
    # Only a natural person can be a minor.
    await page.check("#party-organisation")
    assert await page.is_disabled("#party-minor")

    # Book tomorrow 09:00–11:00 Shanghai time in courtroom 3: sent as UTC.
    day = tomorrow()
    await page.fill("#book-title", "第一次开庭")
    await book_in_page(page, "HL0102-03", day, 9, 11)
    await page.wait_for_function(
        "() => document.getElementById('book-status').textContent.includes('已排期')",
        timeout=10_000)
    hearings = (await api_get(client, "clerk.daoli", f"/api/hearings?case={case['id']}"))["items"]
    assert len(hearings) == 1
    first = hearings[0]
    assert (first["room"], first["starts_at"], first["ends_at"]) == (
        "HL0102-03", utc_text(day, 9), utc_text(day, 11))
    assert first["title"] == "第一次开庭" and first["presiding_judge"] == "judge.daoli"
    assert await page.locator(f"#hearing-rows tr[data-hearing='{first['id']}']").count() == 1

    # The week schedule shows it in its room and day, linked to the clerk console.
    cell = page.locator(f"#week-grid tr[data-room=HL0102-03] td[data-day='{day.isoformat()}']")
    entry = cell.locator(f"li[data-hearing='{first['id']}']")
    await entry.wait_for(timeout=10_000)
    link = entry.locator("a.week-console")
    assert await link.get_attribute("href") == f"/clerk?hearing={first['id']}"
    assert "09:00" in await link.text_content() and FIRST in await link.text_content()
    assert await entry.locator(".week-cause").text_content() == HTML_CAUSE
    assert await page.locator("#injected, #bold").count() == 0
    await page.screenshot(path=screenshot_path("cases-clerk-booked"), full_page=True)

    # A second case in the same room at an overlapping time: refused, naming the first hearing.
    await file_in_page(page, SECOND, "买卖合同纠纷")
    await book_in_page(page, "HL0102-03", day, 10, 12)
    alert = page.locator("#book-error[role=alert] li[data-conflict]")
    await alert.first.wait_for(timeout=10_000)
    said = await page.text_content("#book-error")
    assert f"#{first['id']}" in said and FIRST in said and "法庭已被占用" in said
    assert await page.get_attribute("#book-room", "aria-invalid") == "true"
    second = (await api_get(client, "clerk.daoli", "/api/cases?number=202"))["items"][0]
    assert (await api_get(client, "clerk.daoli", f"/api/hearings?case={second['id']}"))[
        "total"] == 0
    await page.screenshot(path=screenshot_path("cases-clerk-conflict"), full_page=True)

    # An invalid number is refused with the part at fault, announced and marked.
    await page.fill("#new-number", "(2025)黑0102民初")
    await page.click("#new-submit")
    await page.wait_for_function(
        "() => document.getElementById('new-error').textContent.includes('序号')",
        timeout=5_000)
    assert await page.get_attribute("#new-number", "aria-invalid") == "true"
    assert errors == []


async def test_clerk_reschedules_and_cancels(client: TestClient, browser: Any) -> None:
    admin = await login(client, "admin")
    r = await client.post("/api/sites", headers=auth(admin), json={
        "code": "KSS-DAOLI", "name": "道里看守所", "kind": "detention_centre", "court": "HL0102"})
    assert r.status == 201, await r.text()
    token = await login(client, "clerk.daoli")
    r = await client.post("/api/cases", headers=auth(token), json={
        "number": FIRST, "cause": "民间借贷纠纷", "presiding_judge": "judge.daoli",
        "clerk": "clerk.daoli"})
    assert r.status == 201, await r.text()
    case = await r.json()
    day = tomorrow()
    r = await client.post("/api/hearings", headers=auth(token), json={
        "case_id": case["id"], "room": "HL0102-04", "starts_at": utc_text(day, 9),
        "ends_at": utc_text(day, 10)})
    assert r.status == 201, await r.text()
    hearing = await r.json()
    client.session.cookie_jar.clear()

    page, errors = await cases_page(browser, client, "clerk.daoli", "/clerk")
    await page.click(f"#case-rows tr[data-case='{case['id']}'] a")
    await page.locator(f"#hearing-rows tr[data-hearing='{hearing['id']}']").wait_for(
        timeout=10_000)
    # Keyboard: the reschedule button is reached and pressed without a mouse.
    await page.focus(f"[data-reschedule='{hearing['id']}']")
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "() => document.getElementById('booking').dataset.mode === 'reschedule'")
    assert await page.input_value("#book-start") == f"{day.isoformat()}T09:00"
    await page.fill("#book-start", f"{day.isoformat()}T14:00")
    await page.fill("#book-end", f"{day.isoformat()}T16:00")
    # An arraignment with the detention centre, on the public schedule.
    await page.select_option("#book-site", "KSS-DAOLI")
    await page.check("#book-public")
    await page.click("#book-submit")
    await page.wait_for_function(
        "() => document.getElementById('book-status').textContent.includes('已改期')",
        timeout=10_000)
    # Saved: the form is ready for a new booking, not left holding the moved one.
    assert await page.get_attribute("#booking", "data-mode") == "book"
    assert await page.input_value("#book-start") == ""
    moved = await api_get(client, "clerk.daoli", f"/api/hearings/{hearing['id']}")
    assert (moved["starts_at"], moved["ends_at"]) == (utc_text(day, 14), utc_text(day, 16))
    assert (moved["remote_site"], moved["public"], moved["room"]) == ("KSS-DAOLI", True,
                                                                      "HL0102-04")
    entry = page.locator(f"#week-grid li[data-hearing='{hearing['id']}'] .week-time")
    await entry.wait_for(timeout=10_000)
    assert (await entry.text_content()).startswith("14:00")

    await page.click(f"[data-cancel='{hearing['id']}']")
    await page.fill(f"#cancel-reason-{hearing['id']}", "当事人申请撤诉")
    await page.click(f"[data-confirm-cancel='{hearing['id']}']")
    cancelled = page.locator(
        f"#hearing-rows tr[data-hearing='{hearing['id']}'][data-state=cancelled]")
    await cancelled.wait_for(timeout=10_000)
    assert await cancelled.locator(".hearing-state").text_content() == "已撤销"
    assert f"庭审 {hearing['id']} 已撤销" in await page.text_content("#hearing-status")
    assert (await api_get(client, "clerk.daoli",
                          f"/api/hearings/{hearing['id']}"))["state"] == "cancelled"
    # Cancelled hearings leave the week schedule; no buttons remain for them.
    await page.wait_for_function(
        f"() => !document.querySelector(\"#week-grid li[data-hearing='{hearing['id']}']\")",
        timeout=10_000)
    assert await page.locator(f"[data-reschedule='{hearing['id']}']").count() == 0
    await page.screenshot(path=screenshot_path("cases-clerk-cancelled"), full_page=True)
    assert errors == []


async def test_clerk_edits_a_case_after_filing(client: TestClient, browser: Any) -> None:
    token = await login(client, "clerk.daoli")
    r = await client.post("/api/cases", headers=auth(token), json={
        "number": FIRST, "cause": "民间借贷纠纷", "presiding_judge": "judge.daoli",
        "clerk": "clerk.daoli"})
    assert r.status == 201, await r.text()
    case = await r.json()
    client.session.cookie_jar.clear()

    page, errors = await cases_page(browser, client, "clerk.daoli", "/clerk")
    await page.goto(str(client.make_url(f"/cases?case={case['id']}")))
    await page.wait_for_selector("#case-detail:not([hidden])", timeout=10_000)
    assert await page.is_hidden("#case-edit")
    await page.click("#case-edit-open")
    assert await page.get_attribute("#case-edit-open", "aria-expanded") == "true"
    # The form starts from the case as it is.
    assert await page.input_value("#edit-cause") == "民间借贷纠纷"
    assert await page.input_value("#edit-judge") == "judge.daoli"
    assert await page.input_value("#edit-clerk") == "clerk.daoli"
    assert await page.input_value("#edit-status") == "filed"
    assert await page.is_checked("#edit-restriction-none")

    # A clerk who is not one of the court's is refused, named, marked and focused.
    await page.fill("#edit-cause", "民间借贷纠纷（追加）")
    await page.fill("#edit-clerk", "nobody.daoli")
    await page.select_option("#edit-status", "in_trial")
    await page.check("#edit-restriction-privacy")
    await page.click("#edit-submit")
    await page.wait_for_function(
        "() => document.getElementById('edit-error').textContent", timeout=5_000)
    assert await page.text_content("#edit-error") == "书记员“nobody.daoli”不是本院在职书记员。"
    assert await page.get_attribute("#edit-clerk", "aria-invalid") == "true"
    assert await page.evaluate("() => document.activeElement.id") == "edit-clerk"
    unchanged = await api_get(client, "clerk.daoli", f"/api/cases/{case['id']}")
    assert (unchanged["cause"], unchanged["status"]) == ("民间借贷纠纷", "filed")

    # Emptied, the clerk is cleared; the rest is saved with it.
    await page.fill("#edit-clerk", "")
    await page.click("#edit-submit")
    await page.wait_for_function(
        "() => document.getElementById('case-edit-status').textContent.includes('已保存')",
        timeout=10_000)
    assert await page.is_hidden("#case-edit")
    saved = await api_get(client, "clerk.daoli", f"/api/cases/{case['id']}")
    assert (saved["cause"], saved["presiding_judge"], saved["clerk"], saved["status"],
            saved["restriction"]) == ("民间借贷纠纷（追加）", "judge.daoli", None, "in_trial",
                                      "privacy")
    assert saved["number"] == FIRST
    # The case shown is the case saved.
    await page.wait_for_function(
        "() => document.getElementById('case-cause').textContent === '民间借贷纠纷（追加）'",
        timeout=5_000)
    facts = await page.text_content("#case-facts")
    assert "审理中" in facts and "涉及个人隐私" in facts
    assert await page.get_attribute("#edit-clerk", "aria-invalid") is None
    assert "涉及个人隐私" in await page.text_content("#case-blockers")
    await page.screenshot(path=screenshot_path("cases-clerk-edited"), full_page=True)

    # Saving nothing new sends nothing.
    await page.click("#case-edit-open")
    assert await page.input_value("#edit-clerk") == ""
    assert await page.is_checked("#edit-restriction-privacy")
    patches: list[str] = []
    page.on("request", lambda req: patches.append(req.url) if req.method == "PATCH" else None)
    await page.click("#edit-submit")
    assert await page.text_content("#case-edit-status") == "没有修改任何内容。"
    assert patches == []
    assert errors == []


async def test_judge_reads_the_schedule_but_files_nothing(client: TestClient,
                                                          browser: Any) -> None:
    clerk = await login(client, "clerk.daoli")
    r = await client.post("/api/cases", headers=auth(clerk), json={
        "number": FIRST, "cause": "民间借贷纠纷", "presiding_judge": "judge.daoli",
        "clerk": "clerk.daoli", "parties": [{"role": "plaintiff", "kind": "natural",
                                             "name": "李四", "id_number": "230102198001015678"}]})
    assert r.status == 201, await r.text()
    case = await r.json()
    day = tomorrow()
    r = await client.post("/api/hearings", headers=auth(clerk), json={
        "case_id": case["id"], "room": "HL0102-05", "starts_at": utc_text(day, 9),
        "ends_at": utc_text(day, 11)})
    assert r.status == 201, await r.text()
    hearing = await r.json()
    client.session.cookie_jar.clear()

    page, errors = await cases_page(browser, client, "judge.daoli", "/dashboard")
    assert await page.locator("#shell [data-nav=cases]").count() == 1
    # No forms to file, edit, add parties or book: not hidden, absent.
    assert await page.locator(
        "#case-new, #case-edit, #case-edit-open, #party-new, #booking").count() == 0
    await page.fill("#week-day", day.isoformat())
    entry = page.locator(f"#week-grid tr[data-room=HL0102-05] li[data-hearing='{hearing['id']}']")
    await entry.wait_for(timeout=10_000)
    assert await entry.locator("a.week-console").get_attribute("href") == \
        f"/clerk?hearing={hearing['id']}"
    await entry.locator("a.week-case").click()
    await page.locator(f"#hearing-rows tr[data-hearing='{hearing['id']}']").wait_for(
        timeout=10_000)
    assert await page.locator("[data-reschedule], [data-cancel]").count() == 0
    # The presiding judge sits on the bench, so the API gives the personal data.
    assert "230102198001015678" in await page.text_content("#party-rows")
    await page.screenshot(path=screenshot_path("cases-judge"), full_page=True)
    # English on demand: static labels and the rows drawn by the scripts alike.
    await page.select_option("#shell-lang", "en")
    assert await page.text_content("#week-title") == "Week schedule"
    assert "Filed" in await page.text_content(f"#case-rows tr[data-case='{case['id']}']")
    assert "Plaintiff" in await page.text_content("#party-rows")
    assert "Scheduled" in await entry.text_content()
    await page.screenshot(path=screenshot_path("cases-judge-en"), full_page=True)
    assert errors == []

    # The API refuses the judge anyway.
    judge = await login(client, "judge.daoli")
    r = await client.post("/api/cases", headers=auth(judge), json={"number": SECOND})
    assert r.status == 403, await r.text()
    r = await client.post("/api/hearings", headers=auth(judge), json={
        "case_id": case["id"], "room": "HL0102-06", "starts_at": utc_text(day, 13),
        "ends_at": utc_text(day, 14)})
    assert r.status == 403, await r.text()
    client.session.cookie_jar.clear()

    # A president reads the case too, without the parties' personal data.
    other, other_errors = await cases_page(browser, client, "pres.daoli", "/dashboard")
    await other.goto(str(client.make_url(f"/cases?case={case['id']}")))
    await other.locator("#party-rows tr[data-party]").wait_for(timeout=10_000)
    shown = await other.text_content("#party-rows")
    assert "李四" in shown and "不予显示" in shown and "230102198001015678" not in shown
    await other.screenshot(path=screenshot_path("cases-president"), full_page=True)
    assert other_errors == []


async def test_search_filters_and_pages(client: TestClient, browser: Any) -> None:
    token = await login(client, "clerk.daoli")
    for n in range(401, 422):  # 21 cases: one page of 20 and one more
        r = await client.post("/api/cases", headers=auth(token), json={
            "number": f"（2025）黑0102民初{n}号", "cause": f"案由{n}",
            "parties": [{"role": "plaintiff", "kind": "natural",
                         "name": "王五" if n == 405 else f"原告{n}"}]})
        assert r.status == 201, await r.text()
        if n == 410:
            r = await client.patch(f"/api/cases/{(await r.json())['id']}", headers=auth(token),
                                   json={"status": "concluded"})
            assert r.status == 200, await r.text()
    client.session.cookie_jar.clear()

    page, errors = await cases_page(browser, client, "clerk.daoli", "/clerk")
    rows = page.locator("#case-rows tr[data-case]")
    assert await rows.count() == 20
    assert await page.text_content("#page-info") == "第 1–20 条，共 21 条"
    assert await page.is_disabled("#page-prev") and await page.is_enabled("#page-next")
    await page.click("#page-next")
    await page.wait_for_function(
        "() => document.getElementById('page-info').textContent === '第 21–21 条，共 21 条'")
    assert await rows.count() == 1
    # Newest first: the last page holds the first case filed.
    assert "401" in await rows.first.text_content()

    async def search(**fields: str) -> list[str]:
        for name in ("number", "party", "status"):
            value = fields.get(name, "")
            if name == "status":
                await page.select_option("#search-status", value)
            else:
                await page.fill(f"#search-{name}", value)
        # Empty the table first so only the answer to this search can fill it again.
        await page.eval_on_selector("#case-rows", "rows => rows.replaceChildren()")
        await page.focus("#search-number")
        await page.keyboard.press("Enter")  # submits the search form from its field
        await page.locator("#case-rows tr").first.wait_for(timeout=5_000)
        return [await c.text_content() for c in await page.locator(
            "#case-rows tr[data-case] th a").all()]

    assert await search(party="王五") == ["（2025）黑0102民初405号"]
    assert await search(status="concluded") == ["（2025）黑0102民初410号"]
    # Half-typed numbers with ASCII brackets match the stored full-width ones.
    assert await search(number="(2025)黑0102民初421") == ["（2025）黑0102民初421号"]
    assert await search(number="(2024)") == []
    assert "没有符合条件的案件" in await page.text_content("#case-rows")
    await page.screenshot(path=screenshot_path("cases-search"), full_page=True)
    assert errors == []
