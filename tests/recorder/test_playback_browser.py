"""A recorded sub-range plays in headless Chromium through hls.js, at the true wall-clock time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from control.config import Settings
from control.core import Core
from control.iso8601 import parse_iso
from media.sources import Clip
from tests.browser import screenshot_path
from tests.conftest import in_ci
from tests.recorder.test_routes import make_recording

pytestmark = pytest.mark.browser

HLS_JS = Path(__file__).resolve().parents[2] / "node_modules" / "hls.js" / "dist" / "hls.min.js"
PAGE = """<!doctype html><html><body style="margin:0;background:#222">
<video id="v" muted autoplay playsinline style="width:640px"></video>
<div id="clock" style="color:#fff;font:20px sans-serif"></div>
<script src="/test/hls.min.js"></script>
<script>
window.errors = [];
const v = document.getElementById('v');
const hls = new Hls();
hls.on(Hls.Events.ERROR, (_e, d) => window.errors.push(d.details + (d.fatal ? ' (fatal)' : '')));
hls.loadSource(new URLSearchParams(location.search).get('src'));
hls.attachMedia(v);
window.hls = hls;
setInterval(() => {
  const d = hls.playingDate;
  document.getElementById('clock').textContent = d ? d.toISOString() : '';
}, 100);
</script></body></html>"""


def hls_js_or_skip() -> None:
    if HLS_JS.exists():
        return
    message = f"{HLS_JS} missing: run `npm install --no-save hls.js` in the repository root"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def player_client(aiohttp_client: Any, settings: Settings,
                        services: Core) -> TestClient:
    from control.app import create_app
    from tests.recorder.conftest import with_recorder

    app = create_app(settings, services)
    with_recorder(app)

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def script(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(HLS_JS)

    app.router.add_get("/test/player.html", page)
    app.router.add_get("/test/hls.min.js", script)
    return await aiohttp_client(app)


async def test_sub_range_plays_in_chromium(player_client: TestClient, tokens: dict[str, str],
                                           clip: Clip, browser: Any) -> None:
    hls_js_or_skip()
    rec = await make_recording(player_client, clip, tokens["clerk.daoli"], seconds=10)
    base = str(player_client.make_url("/")).rstrip("/")
    context = await browser.new_context()
    # hls.js fetches segments itself: the token cookie authenticates those requests.
    await context.add_cookies([{"name": "token", "value": tokens["pres.harbin"],
                                "url": base}])
    page = await context.new_page()
    src = f"/api/recordings/{rec['id']}/playlist.m3u8?from=3&to=9"
    await page.goto(f"{base}/test/player.html?src={src}")
    seen: list[float] = []
    for _ in range(60):  # up to 15 s for the player to start and advance
        await asyncio.sleep(0.25)
        state = await page.evaluate(
            "({t: v.currentTime, w: v.videoWidth, e: window.errors,"
            " d: hls.playingDate ? hls.playingDate.toISOString() : null})")
        assert not [e for e in state["e"] if "fatal" in e], state["e"]
        seen.append(state["t"])
        if state["w"] and state["d"] and len(seen) > 4 and seen[-1] - seen[0] >= 1.5:
            break
    assert state["w"] == 640, state
    assert seen[-1] - seen[0] >= 1.5, f"currentTime did not advance: {seen}"
    started = parse_iso(rec["started_at"])
    shown = parse_iso(state["d"])
    offset = (shown - started).total_seconds()
    assert 3 <= offset <= 9.5, f"the player shows {shown}, {offset:.1f} s into the recording"
    await page.screenshot(path=screenshot_path("recorder-playback"))
    await context.close()
