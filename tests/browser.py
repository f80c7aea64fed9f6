"""Debian's headless Chromium driven by Playwright; runs in CI, skips elsewhere only if absent."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Real host addresses instead of mDNS names, so ICE never needs multicast.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """A headless Chromium; each test opens its own contexts (separate cookies) on it."""
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    print(f"screenshot: {path}")
    return path


# Frames a <video> (by id) shows in 1.5 s, counted with requestVideoFrameCallback.
FRAMES_JS = """async (id) => {
  const v = document.getElementById(id);
  let frames = 0;
  const tick = () => { frames++; v.requestVideoFrameCallback(tick); };
  v.requestVideoFrameCallback(tick);
  await new Promise(r => setTimeout(r, 1500));
  return {width: v.videoWidth, height: v.videoHeight, frames};
}"""

# The text of a shown watermark (lib/watermark.js) that covers the whole <video> matching the
# selector, faint and letting the mouse through to the player; null if there is none.
WATERMARK_JS = """(selector) => {
  const video = document.querySelector(selector);
  const box = video?.getBoundingClientRect();
  if (!box || !box.width || !box.height) return null;
  for (const mark of document.querySelectorAll("[data-watermark]")) {
    const r = mark.getBoundingClientRect();
    const style = getComputedStyle(mark);
    const covers = r.left <= box.left + 1 && r.top <= box.top + 1 && r.right >= box.right - 1
      && r.bottom >= box.bottom - 1;
    const faint = Number(style.opacity) > 0.05 && Number(style.opacity) < 0.5;
    if (covers && faint && style.pointerEvents === "none" && mark.checkVisibility()
        && style.position === "absolute" && mark.children.length) {
      return mark.children[0].textContent;
    }
  }
  return null;
}"""


async def watermark_over(page: Any, selector: str) -> str:
    """The watermark text over the player `selector`; fails the test when there is none."""
    text = await page.evaluate(WATERMARK_JS, selector)
    assert text, f"no watermark over {selector}"
    return str(text)
