"""The defence lawyer's consultation page in Chromium, against the remote site's page in a second
context: the camera is asked for before the one-time code is spent, each side sees and hears
the other under its own watermark, the lawyer ends it (and the site's page says so rather than
reconnecting), a spent code is refused on the page, and nothing of the consultation is recorded
while the courtroom of the same hearing is."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.app import create_app
from control.config import Settings
from control.core import CORE, Core
from control.live import LIVE
from hearing.models import Consultation
from media.sources import Clip, PatternSpec, render_clip
from recorder.models import Recording
from recorder.service import RECORDER
from tests.browser import FRAMES_JS, screenshot_path, watermark_over
from tests.conftest import auth
from tests.hearing.conftest import move
from tests.hearing.remote import CLERK, ROOM, book_now, criminal_case, new_site
from tests.media.peers import wait_until
from tests.recorder.conftest import FastFeed

pytestmark = pytest.mark.browser

# A browser whose user refuses the camera and microphone.
DENY_CAMERA = """navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));"""


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_clip(PatternSpec("Courtroom", gop_s=1, duration_s=2))


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, services: Core) -> TestClient:
    """The whole app, recorder and hearing lifecycle included."""
    app = create_app(settings, services)
    app[RECORDER].segment_s = 1.0
    return await aiohttp_client(app)


def consultations(client: TestClient, hearing_id: int) -> list[Consultation]:
    with client.app[CORE].db.session() as s:
        return list(s.scalars(select(Consultation).where(Consultation.hearing_id == hearing_id)))


async def join(page: Any, hearing_id: int, code: str) -> None:
    await page.fill("#consult-hearing", str(hearing_id))
    await page.fill("#consult-code", code)
    await page.click("#consult-join")


async def wait_frames(page: Any, video: str) -> dict[str, int]:
    await page.wait_for_function(f"() => document.getElementById('{video}').videoWidth > 0",
                                 timeout=30_000)
    return dict(await page.evaluate(FRAMES_JS, video))


async def test_lawyer_and_site_see_each_other_privately_and_the_code_works_once(
        client: TestClient, browser: Any, clip: Clip, settings: Settings) -> None:
    courtroom = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main", clip)
    courtroom.push(2)
    _, credential = await new_site(client)
    case_id, _, lawyer = await criminal_case(client)
    hid = (await book_now(client, case_id, "HL-KSS01"))["id"]
    r = await client.post(f"/api/hearings/{hid}/consultation-codes", json={"party_id": lawyer},
                          headers=auth(CLERK))
    assert r.status == 201, await r.text()
    code = (await r.json())["code"]
    url = str(client.make_url("/consult"))

    # The camera is refused: the page says so, and the code is still unspent.
    denied_context = await browser.new_context()
    await denied_context.add_init_script(DENY_CAMERA)
    denied = await denied_context.new_page()
    resp = await denied.goto(url)
    assert "script-src 'self'" in (await resp.all_headers())["content-security-policy"]
    await join(denied, hid, code)
    await denied.wait_for_function(
        "() => document.getElementById('consult-error').textContent", timeout=10_000)
    assert "拒绝了摄像头或麦克风权限" in (await denied.text_content("#consult-error") or "")
    assert await denied.is_hidden("#call-panel")
    assert consultations(client, hid) == []
    await denied_context.close()

    # The lawyer joins (the hearing number may come in the link) under the privacy notice.
    lawyer_page = await (await browser.new_context()).new_page()
    await lawyer_page.goto(f"{url}?hearing={hid}")
    assert await lawyer_page.input_value("#consult-hearing") == str(hid)
    notice = lawyer_page.locator("#consult-private")
    assert "这是不录音录像的私密会见" in await notice.inner_text()
    await lawyer_page.fill("#consult-code", code)
    await lawyer_page.click("#consult-join")
    await lawyer_page.wait_for_selector("#call-panel:not([hidden])", timeout=10_000)
    assert await notice.is_visible()
    [opened] = consultations(client, hid)
    lawyer_path, site_path = f"consult/{opened.id}/lawyer", f"consult/{opened.id}/site"

    # The site's page enters the consultation listed for its hearing.
    site_page = await (await browser.new_context()).new_page()
    offers: list[str] = []  # the site's WHIP and WHEP offers, to see that it stops retrying
    site_page.on("request", lambda req: offers.append(req.url) if req.method == "POST"
                 and ("/whip/" in req.url or "/whep/" in req.url) else None)
    await site_page.goto(str(client.make_url("/site")))
    await site_page.fill("#credential", credential)
    await site_page.click("#login button[type=submit]")
    await site_page.click(f"li[data-hearing='{hid}'] button.consult", timeout=10_000)

    seen_by_lawyer = await wait_frames(lawyer_page, "site-video")
    seen_by_site = await wait_frames(site_page, "lawyer")
    assert seen_by_lawyer["frames"] >= 5 and seen_by_lawyer["width"] > 0, seen_by_lawyer
    assert seen_by_site["frames"] >= 5 and seen_by_site["width"] > 0, seen_by_site
    streams = client.app[LIVE].streams
    for path in (lawyer_path, site_path):  # both ends prefer H.264, as for a courtroom link
        assert {t.codec for t in streams.get(path).tracks} == {"H264", "opus"}, path
    assert await lawyer_page.evaluate("() => document.getElementById('site-video').muted") is False
    mark = await watermark_over(lawyer_page, "#site-video")
    assert re.fullmatch(rf"律师 Lawyer #{lawyer} {opened.id[:6]} .*\d{{2}}:\d{{2}}", mark), mark
    mark = await watermark_over(site_page, "#lawyer")
    assert mark.startswith("HL-KSS01 ") and re.search(r"\d{2}:\d{2}", mark), mark

    # The courtroom goes into session meanwhile: the recorder records the hearing, not this.
    await move(client, CLERK, hid, "opened")
    recorder = client.app[RECORDER]
    assert "main" in recorder.active_for(ROOM, f"hearing:{hid}")
    for _ in range(3):
        courtroom.push(1)
        await lawyer_page.wait_for_timeout(800)
    await lawyer_page.screenshot(path=screenshot_path("consult-lawyer-in-call"))
    await site_page.screenshot(path=screenshot_path("consult-site-in-call"))

    # The lawyer ends it: the server cuts both streams at once.
    await lawyer_page.click("#consult-end")
    await lawyer_page.wait_for_selector("#ended-panel:not([hidden])", timeout=10_000)
    assert await lawyer_page.text_content("#ended-text") == "会见已结束。"
    assert await lawyer_page.text_content("#ended-warning") == ""
    sessions = client.app[LIVE].server.sessions
    assert await wait_until(lambda: not any(s.path.startswith("consult/")
                                            for s in sessions.values()), 10)
    [ended] = consultations(client, hid)
    assert ended.ended_by == f"lawyer:{lawyer}"
    # The site's page learns it from its own streams' 404 and stops, instead of reconnecting
    # (about 3 s here: DTLS closes at once, then one retry; ICE alone took 13 s).
    await site_page.wait_for_function(
        "() => document.getElementById('consult-state').textContent === '会见已结束'",
        timeout=10_000)
    loop = asyncio.get_running_loop()
    ended_seen, offers_then = loop.time(), len(offers)
    assert await site_page.is_hidden("#end-consult")
    await site_page.locator(f"li[data-hearing='{hid}'] button.consult").wait_for(
        state="detached", timeout=5_000)  # the list is asked again: nothing left to join
    await site_page.screenshot(path=screenshot_path("consult-site-ended"))
    await site_page.select_option("#site-lang", "en")
    assert await site_page.text_content("#consult-state") == "The consultation has ended"

    # The spent code is refused, visibly, and opens nothing.
    await lawyer_page.click("#consult-back")
    await join(lawyer_page, hid, code)
    error = lawyer_page.locator("#consult-error")
    await error.filter(has_text="会见码无效").wait_for(timeout=10_000)
    assert await error.is_visible()
    assert await lawyer_page.is_hidden("#call-panel")
    assert len(consultations(client, hid)) == 1
    await lawyer_page.screenshot(path=screenshot_path("consult-code-refused"))
    await lawyer_page.select_option("#consult-lang", "en")
    assert await lawyer_page.text_content("#consult-private strong") == \
        "This private consultation is never recorded"

    # Nothing of the consultation was recorded; the courtroom was.
    await move(client, CLERK, hid, "closed")
    assert await wait_until(lambda: not recorder.active_for(ROOM, f"hearing:{hid}"), 10)
    with client.app[CORE].db.session() as s:
        paths = [r.stream_path for r in s.scalars(select(Recording))]
    assert f"rooms/{ROOM}/main" in paths
    assert not [p for p in paths if p.startswith("consult/") or opened.id in p], paths
    files = [str(p) for p in settings.recordings_dir.rglob("*") if p.is_file()]
    assert files and not [f for f in files if "consult" in f or opened.id in f], files
    # No offer was sent since (the page retried every 3 s before it knew).
    await asyncio.sleep(max(0.0, 3.5 - (loop.time() - ended_seen)))
    assert len(offers) == offers_then, offers[offers_then:]
    for page in (lawyer_page, site_page):
        await page.context.close()
    courtroom.close()
