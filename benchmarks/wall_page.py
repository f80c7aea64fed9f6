"""The wall page in headless Chromium: a 36-tile wall of test-pattern rooms on the whole app.
Prints how long until every tile shows a picture, how long a key takes to show (measured in
the page, key event to the next frame), and what the open wall costs the server (CPU and the
bits it sends), with small tiles on keyframes-only streams and, for comparison, on full ones.
Loopback only; needs /usr/bin/chromium and playwright.

Run: .venv/bin/python benchmarks/wall_page.py [--tiles 36] [--seconds 8] [--keys 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loopback import process_cpu, serve

from control.app import build_services, create_app
from control.auth import add_user
from control.config import DemoSettings, load_settings
from control.live import LIVE
from media.sources import PatternSpec, TestPatternSource
from media.whep import WhepSession

USER, PASSWORD = "bench.security", "wall bench password 7"
FLAGS = ["--no-sandbox", "--allow-loopback-in-peer-connection", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-features=WebRtcHideLocalIpsWithMdns"]
WIDTHS_JS = ("() => [...document.querySelectorAll('#wall .tile')]"
             ".map(t => Number(t.dataset.width || 0))")


def sent_octets(app: web.Application) -> int:
    total = 0
    for session in app[LIVE].server.sessions.values():
        if isinstance(session, WhepSession):
            total += sum(o.octets for o in session._outputs if o is not None)
    return total


async def measure_server(app: web.Application, seconds: float) -> tuple[float, float]:
    """(CPU-s/s of this process, Mbit/s sent to viewers) over `seconds`."""
    cpu0, bytes0, t0 = process_cpu(), sent_octets(app), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    return (process_cpu() - cpu0) / elapsed, (sent_octets(app) - bytes0) * 8 / elapsed / 1e6


async def run(tiles: int, seconds: float, keys: int) -> None:
    from playwright.async_api import async_playwright

    data = Path(tempfile.mkdtemp(prefix="wall-bench-"))
    settings = replace(load_settings(env={"COURTAV_DATA_DIR": str(data),
                                          "COURTAV_ICE_HOSTS": "127.0.0.1"}),
                       demo=DemoSettings(enabled=False))
    services = build_services(settings)
    with services.db.session() as session:
        add_user(session, services.registry, USER, "security", "HL01", PASSWORD)
    rooms = [r.code for r in services.registry.rooms_of(services.registry.subtree("HL01"))][:tiles]
    app = create_app(settings, services)
    runner, port = await serve(app)
    base = f"http://127.0.0.1:{port}"
    spec = PatternSpec("BENCH", width=640, height=360, gop_s=2, duration_s=4, bitrate=600_000)
    sources = [TestPatternSource(app[LIVE].streams, f"rooms/{r}/main", spec) for r in rooms]
    try:
        for source in sources:
            await source.start()
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/login",
                                 json={"username": USER, "password": PASSWORD}) as resp:
                token = (await resp.json())["token"]
            async with http.put(f"{base}/api/walls/mine/bench", json={
                    "size": tiles, "tiles": [{"room": r} for r in rooms]},
                    headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200, await resp.text()
        base_cpu, _ = await measure_server(app, 2.0)
        clip = sources[0].clip
        assert clip is not None
        print(f"{len(rooms)} test-pattern rooms, 640x360 @ 25 fps, "
              f"{clip.size * 8 / spec.duration_s / 1e6:.2f} Mbit/s, 2 s GOP; "
              f"server with no viewer (probes on): {base_cpu:.3f} CPU-s/s")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                               headless=True, args=FLAGS)
            context = await browser.new_context(viewport={"width": 1920, "height": 1080})
            await context.request.post(f"{base}/api/login",
                                       data={"username": USER, "password": PASSWORD})
            page = await context.new_page()
            t0 = time.monotonic()
            await page.goto(f"{base}/wall")
            await page.wait_for_function(
                f"() => ({WIDTHS_JS})().filter(w => w > 0).length === {len(rooms)}",
                timeout=60_000)
            print(f"all {len(rooms)} tiles showing a picture {time.monotonic() - t0:.2f} s "
                  "after opening the page")
            await page.focus("#wall .tile[data-slot='0']")
            latencies = []
            for i in range(keys):
                await page.evaluate("() => { delete document.body.dataset.keyLatency; }")
                await page.keyboard.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")
                await page.wait_for_function("() => document.body.dataset.keyLatency")
                latencies.append(float(await page.evaluate(
                    "() => document.body.dataset.keyLatency")))
            latencies.sort()
            print(f"key to frame (in the page, {keys} keys): median "
                  f"{statistics.median(latencies):.1f} ms, p95 "
                  f"{latencies[int(len(latencies) * 0.95) - 1]:.1f} ms, max {latencies[-1]:.1f} ms")
            cpu, mbps = await measure_server(app, seconds)
            print(f"{'small tiles on':<22}{'server CPU-s/s':>16}{'Mbit/s sent':>14}"
                  f"{'per tile':>10}")
            print(f"{'keyframes only':<22}{cpu:>16.3f}{mbps:>14.2f}{mbps / len(rooms):>10.3f}")
            # For comparison: the same wall if every small tile read the full main stream.
            await context.close()
            server = app[LIVE].server
            await asyncio.gather(*(x.close("bench") for x in list(server.sessions.values())))
            full = await browser.new_context(viewport={"width": 1920, "height": 1080})
            await full.request.post(f"{base}/api/login",
                                    data={"username": USER, "password": PASSWORD})
            await full.route("**/whep/**", lambda route: route.continue_(
                url=route.request.url.replace("?keyframes=1", "")))
            page = await full.new_page()
            await page.goto(f"{base}/wall")
            await page.wait_for_function(
                f"() => ({WIDTHS_JS})().filter(w => w > 0).length === {len(rooms)}",
                timeout=60_000)
            await asyncio.sleep(2.0)
            cpu, mbps = await measure_server(app, seconds)
            print(f"{'full streams':<22}{cpu:>16.3f}{mbps:>14.2f}{mbps / len(rooms):>10.3f}")
            await full.close()
            await browser.close()
    finally:
        for source in sources:
            await source.stop()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiles", type=int, default=36, choices=(1, 4, 9, 16, 25, 36))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(run(args.tiles, args.seconds, args.keys))


if __name__ == "__main__":
    main()
