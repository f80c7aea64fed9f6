"""Headless Chromium publishes its fake camera by WHIP; another page views it by WHEP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from media import MediaSettings, TrackInfo
from tests.browser import screenshot_path

from .conftest import MediaHarness
from .peers import encode_h264, wait_until

PAGE = """<!doctype html>
<html><body><video id="v" autoplay muted playsinline></video>
<script>
window.frames_shown = 0;
window.failure = null;
async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
  window.posted_ms = performance.now();
  const resp = await fetch(url, {method: "POST", body: pc.localDescription.sdp,
    headers: {"Content-Type": "application/sdp", "Authorization": "Bearer TOKEN"}});
  if (resp.status !== 201) throw new Error("HTTP " + resp.status + " " + await resp.text());
  await pc.setRemoteDescription({type: "answer", sdp: await resp.text()});
}
async function publish(path) {
  const media = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) pc.addTransceiver(track, {direction: "sendonly"});
  const codec = params.get("codec");
  for (const t of pc.getTransceivers()) {
    if (codec && t.sender.track.kind === "video") {
      const caps = RTCRtpSender.getCapabilities("video").codecs;
      t.setCodecPreferences(caps.filter((c) => c.mimeType === "video/" + codec));
    }
  }
  document.getElementById("v").srcObject = media;
  await negotiate(pc, "/whip/" + path);
}
async function view(path) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.addTransceiver("audio", {direction: "recvonly"});
  const video = document.getElementById("v");
  pc.ontrack = (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); };
  const count = () => {
    if (window.frames_shown === 0) window.first_frame_ms = performance.now() - window.posted_ms;
    window.frames_shown += 1;
    video.requestVideoFrameCallback(count);
  };
  video.requestVideoFrameCallback(count);
  window.viewer_pc = pc;
  await negotiate(pc, "/whep/" + path);
}
async function playoutDelayMs() {
  // Average time frames spent in the jitter buffer: near zero means "at live".
  const stats = await window.viewer_pc.getStats();
  for (const s of stats.values()) {
    if (s.type === "inbound-rtp" && s.kind === "video" && s.jitterBufferEmittedCount) {
      return 1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount;
    }
  }
  return -1;
}
const params = new URLSearchParams(location.search);
(params.get("role") === "publish" ? publish : view)(params.get("path"))
  .catch((e) => { window.failure = String(e); });
</script></body></html>
"""

@pytest.mark.browser
@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_chromium_publishes_by_whip_and_views_by_whep(
    aiohttp_client: Callable[..., Any], browser: Any, codec: str
) -> None:
    harness = MediaHarness(MediaSettings(ice_hosts=("127.0.0.1",)))
    app = harness.app()

    async def page(request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        return web.Response(text=PAGE.replace("TOKEN", token), content_type="text/html")

    app.router.add_get("/page.html", page)
    client = await aiohttp_client(app)
    base = str(client.make_url("/page.html"))
    path = "rooms/HL09-01/main"
    context = await browser.new_context()
    try:
        publisher = await context.new_page()
        query = f"role=publish&path={path}&token=tok-alice&codec={codec}"
        await publisher.goto(f"{base}?{query}")
        assert await wait_until(
            lambda: harness.registry.latest_keyframe(path) is not None, 10
        ), await publisher.evaluate("window.failure")
        stream = harness.registry.get(path)
        assert stream is not None
        assert sorted(t.codec for t in stream.tracks) == [codec, "opus"]
        viewer = await context.new_page()
        await viewer.goto(f"{base}?role=view&path={path}&token=tok-bob")
        await viewer.wait_for_function(
            "document.getElementById('v').videoWidth > 0 && window.frames_shown > 5",
            timeout=10000,
        )
        first = await viewer.evaluate("window.frames_shown")
        await viewer.wait_for_timeout(1000)
        later = await viewer.evaluate("window.frames_shown")
        width = await viewer.evaluate("document.getElementById('v').videoWidth")
        assert width > 0 and later > first + 5, (width, first, later)
        await viewer.screenshot(path=screenshot_path(f"media-whep-viewer-{codec}"))
        print(f"viewer: {width}px wide, {later - first} frames/s")
    finally:
        await context.close()


@pytest.mark.browser
async def test_chromium_late_viewer_of_long_gop_starts_at_once_and_live(
    aiohttp_client: Callable[..., Any], browser: Any
) -> None:
    """A 2 s GOP source that ignores PLI: Chromium shows a picture at once, at live delay."""
    harness = MediaHarness(MediaSettings(ice_hosts=("127.0.0.1",)))
    app = harness.app()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.replace("TOKEN", "tok-bob"), content_type="text/html")

    app.router.add_get("/page.html", page)
    client = await aiohttp_client(app)
    path = "rooms/long-gop/main"
    packets = encode_h264(25 * 8, width=640, height=360, gop=50)
    pub = harness.registry.publish(path, [TrackInfo("video", "H264", 90000)], label="encoder")
    start = time.monotonic()

    async def feed() -> None:
        for i, packet in enumerate(packets):
            await asyncio.sleep(max(0.0, start + i / 25 - time.monotonic()))
            pub.push(0, packet)

    def pub_gop() -> list[Any]:
        stream = harness.registry.get(path)
        return stream.gop if stream is not None else []

    feeder = asyncio.ensure_future(feed())
    try:
        # Join just after a keyframe, so the next one is ~1.9 s away.
        assert await wait_until(lambda: 0 < len(pub_gop()) <= 3 and time.monotonic() > start + 1)
        context = await browser.new_context()
        try:
            viewer = await context.new_page()
            await viewer.goto(f"{client.make_url('/page.html')}?role=view&path={path}")
            await viewer.wait_for_function("window.frames_shown > 10", timeout=10000)
            first_ms = await viewer.evaluate("window.first_frame_ms")
            await viewer.wait_for_timeout(1500)
            delay_ms = await viewer.evaluate("playoutDelayMs()")
            print(f"chromium: first frame {first_ms:.0f} ms after the WHEP POST, "
                  f"jitter-buffer delay {delay_ms:.0f} ms")
            assert first_ms < 800, first_ms  # the next keyframe is ~1.9 s away
            assert 0 <= delay_ms < 250, delay_ms
        finally:
            await context.close()
    finally:
        feeder.cancel()
        pub.close()
