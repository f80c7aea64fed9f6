"""Debian's headless Chromium driven by Playwright; runs in CI, skips elsewhere only if absent."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

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
