"""Two Chromium contexts, a petitioner and a receiving judge, see each other; the session is
recorded with its markers. The public page shows the redacted schedule and plays nothing it
should not."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.live import LIVE
from recorder.models import Marker, Recording
from recorder.service import RECORDER
from tests.browser import FRAMES_JS, screenshot_path, watermark_over
from tests.conftest import PASSWORD
from tests.hearing.petitioning import id_number
from tests.media.peers import wait_until

pytestmark = pytest.mark.browser

SCRIPT = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


async def staff_login(page: Any, base: str, username: str, next_page: str) -> None:
    await page.goto(f"{base}?next={next_page}")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"**{next_page}", timeout=10_000)


async def test_petitioner_and_judge_see_each_other_and_it_is_recorded(
        client: TestClient, browser: Any) -> None:
    client.app[RECORDER].segment_s = 1.0
    base = str(client.make_url("/"))
    petitioner = await (await browser.new_context()).new_page()
    resp = await petitioner.goto(f"{base}petition")
    assert "default-src 'self'" in (await resp.all_headers())["content-security-policy"]
    await petitioner.wait_for_selector("#petition-court option[value=HL0102]", state="attached")
    await petitioner.select_option("#petition-court", "HL0102")
    await petitioner.fill("#petition-name", "王五")
    await petitioner.fill("#petition-phone", "13900001111")
    await petitioner.fill("#petition-id", id_number(7))
    await petitioner.fill("#petition-subject", f"咨询立案 {SCRIPT}")
    await petitioner.click("#petition-submit")
    await petitioner.wait_for_selector("#ticket-panel:not([hidden])", timeout=10_000)
    pid = int(await petitioner.text_content("#ticket-id") or "0")
    assert "1" in (await petitioner.text_content("#ticket-position") or "")
    await petitioner.click("#check-media")  # the permission prompt before it is our turn
    await petitioner.wait_for_function(
        "() => document.getElementById('self-view').srcObject !== null", timeout=10_000)
    await petitioner.screenshot(path=screenshot_path("petition-waiting"))

    judge = await (await browser.new_context()).new_page()
    await staff_login(judge, base, "judge.daoli", "/reception")
    row = judge.locator(f"#queue li[data-petition='{pid}']")
    await row.wait_for(timeout=10_000)
    assert SCRIPT in (await row.text_content() or "")  # shown as text ...
    assert await judge.locator("#queue img, #queue script").count() == 0  # ... never as HTML
    assert await judge.title() != "pwned"
    await judge.screenshot(path=screenshot_path("reception-queue"))
    await judge.click("#accept-next")
    await judge.wait_for_selector("#session-panel:not([hidden])", timeout=10_000)

    await petitioner.wait_for_selector("#call-panel:not([hidden])", timeout=15_000)
    await petitioner.wait_for_function(
        "() => document.getElementById('court-video').videoWidth > 0", timeout=30_000)
    await judge.wait_for_function(
        "() => document.getElementById('petitioner-video').videoWidth > 0", timeout=30_000)
    seen_by_petitioner = await petitioner.evaluate(FRAMES_JS, "court-video")
    seen_by_judge = await judge.evaluate(FRAMES_JS, "petitioner-video")
    assert seen_by_petitioner["frames"] >= 5, seen_by_petitioner
    assert seen_by_judge["frames"] >= 5, seen_by_judge
    # Each side's picture of the other carries its viewer's watermark: the judge's name; for the
    # petitioner a random session id, never their name or phone number.
    mark = await watermark_over(petitioner, "#court-video")
    assert re.fullmatch(r"信访 Petition [0-9a-f]{6} .*\d{2}:\d{2}", mark), mark
    assert "王五" not in mark and "13900001111" not in mark
    mark = await watermark_over(judge, "#petitioner-video")
    assert re.fullmatch(r"judge\.daoli .*\d{2}:\d{2}", mark), mark
    recorder = client.app[RECORDER]
    ref = f"petition:{pid}"
    assert await wait_until(lambda: len(recorder.active_for("HL0102-PET", ref)) == 2, 10)
    streams = client.app[LIVE].streams
    codecs = {t.codec for side in ("petitioner", "reception")
              for t in streams.get(f"petitions/{pid}/{side}").tracks}
    assert codecs == {"H264", "opus"}, codecs  # what the recorder keeps
    await petitioner.screenshot(path=screenshot_path("petition-in-call"))
    await judge.screenshot(path=screenshot_path("reception-in-call"))
    await judge.wait_for_timeout(2500)  # a few one-second segments

    await judge.fill("#outcome", "已告知立案所需材料，建议先行调解")
    await judge.click("#end-session")
    await judge.wait_for_selector("#session-panel", state="hidden", timeout=10_000)
    await petitioner.wait_for_selector("#ended-panel:not([hidden])", timeout=15_000)
    assert await wait_until(lambda: not recorder.active_for("HL0102-PET", ref), 10)
    await petitioner.screenshot(path=screenshot_path("petition-ended"))

    with client.app[CORE].db.session() as s:
        recs = s.scalars(select(Recording).where(Recording.hearing_ref == ref)
                         .order_by(Recording.feed)).all()
        assert [(r.feed, r.state) for r in recs] == [("petitioner", "closed"),
                                                    ("reception", "closed")]
        assert all(r.segment_count >= 1 for r in recs)
        kinds = {r.feed: [m.kind for m in s.scalars(select(Marker).where(
            Marker.recording_id == r.id).order_by(Marker.at, Marker.id))] for r in recs}
    assert kinds == {"petitioner": ["opened", "closed"], "reception": ["opened", "closed"]}
