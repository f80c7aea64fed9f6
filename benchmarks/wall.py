"""A monitoring wall's cost on the server: keyframes-only WHEP viewers (small tiles) next to
full viewers (the full-screen tile), for the 720p25 1.5 Mbit/s H.264 stream of fanout.py
(2 s GOP). Loopback only. Also: how long the stream's push takes per frame with 36 keyframes-
only readers attached (they are offered keyframes only, so P frames cost them nothing).

Run: .venv/bin/python benchmarks/wall.py [--seconds 5] [--viewers 16,36]
The server runs in this process (its CPU is measured); viewers run in a child process and count
the frames and bytes they receive without decoding them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time

import aiohttp
import av
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fanout import FPS, HEIGHT, PATH, WIDTH, allow, encode_720p, feed, process_cpu

from media import MediaServer, MediaSettings, StreamRegistry, TrackInfo
from media.aiortc_hooks import receive_encoded, set_ice_hosts

SCRIPT = os.path.abspath(__file__)


async def measure(port: int, viewers: int, seconds: float, query: str) -> dict[str, float]:
    """Run `viewers` in a child process; this process's CPU over their steady window."""
    url = f"http://127.0.0.1:{port}/whep/{PATH}{query}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, SCRIPT, "--viewer-process", url, str(viewers), str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    cpu0, t0 = process_cpu(), time.monotonic()
    line = await asyncio.wait_for(child.stdout.readline(), seconds + 60)
    cpu1, t1 = process_cpu(), time.monotonic()
    await child.wait()
    result: dict[str, float] = json.loads(line)
    result["cpu"] = (cpu1 - cpu0) / (t1 - t0)
    return result


def push_cost(packets: list[av.Packet], readers: int, keyframes_only: bool) -> float:
    """Microseconds per pushed frame with `readers` readers attached (drained as they fill)."""
    registry = StreamRegistry()
    pub = registry.publish("bench/push", [TrackInfo("video", "H264", 90000)])
    attached = [registry.subscribe("bench/push", keyframes_only=keyframes_only)
                for _ in range(readers)]
    data = [(bytes(p), bool(p.is_keyframe)) for p in packets]
    n_frames = 2000
    t0 = time.perf_counter()
    for n in range(n_frames):
        raw, key = data[n % len(data)]
        packet = av.Packet(raw)
        packet.pts = n * 90000 // FPS
        packet.is_keyframe = key
        pub.push(0, packet)
        if n % 100 == 99:
            for reader in attached:
                while reader.get_nowait() is not None:
                    pass
    elapsed = time.perf_counter() - t0
    pub.close()
    return elapsed / n_frames * 1e6


async def run_server(seconds: float, counts: list[int]) -> None:
    set_ice_hosts(("127.0.0.1",))
    packets = encode_720p(10)
    mbps = sum(p.size for p in packets) * 8 / 10 / 1e6
    keys = [p for p in packets if p.is_keyframe]
    registry = StreamRegistry()
    media = MediaServer(MediaSettings(ice_hosts=("127.0.0.1",)), registry, allow)
    app = web.Application()
    app.add_routes(media.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await media.start()
    feeder = asyncio.ensure_future(feed(registry, packets))
    print(f"stream: {WIDTH}x{HEIGHT} @ {FPS} fps, {mbps:.2f} Mbit/s H.264, 2 s GOP, "
          f"keyframes {sum(p.size for p in keys) / len(keys) / 1000:.0f} kB on average")
    try:
        await asyncio.sleep(1.0)
        cpu0, t0 = process_cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        base = (process_cpu() - cpu0) / (time.monotonic() - t0)
        print(f"baseline (publisher only): {base:.4f} CPU-s/s")
        print(f"{'viewer':<16}{'N':>4}{'CPU-s/s':>10}{'CPU/viewer':>12}"
              f"{'Mbit/s/viewer':>15}{'fps/viewer':>12}")
        for n in counts:
            for name, query in (("full", ""), ("keyframes-only", "?keyframes=1")):
                r = await measure(port, n, seconds, query)
                print(f"{name:<16}{n:>4}{r['cpu']:>10.4f}{(r['cpu'] - base) / n:>12.5f}"
                      f"{r['mbps']:>15.3f}{r['fps']:>12.2f}")
    finally:
        feeder.cancel()
        await media.stop()
        await runner.cleanup()
    print("stream push with 36 readers attached (no network), µs per frame:")
    for name, only in (("full readers", False), ("keyframes-only readers", True)):
        print(f"  {name:<24}{push_cost(packets, 36, only):>8.1f}")


async def run_viewers(url: str, count: int, seconds: float) -> None:
    """Child process: `count` WHEP viewers counting frames and bytes without decoding."""
    set_ice_hosts(("127.0.0.1",))
    frames = [0] * count
    octets = [0] * count
    pcs: list[RTCPeerConnection] = []
    async with aiohttp.ClientSession() as http:
        for i in range(count):
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pcs.append(pc)
            transceiver = pc.addTransceiver("video", direction="recvonly")

            def on_frame(data: bytes, ts: int, i: int = i) -> None:
                frames[i] += 1
                octets[i] += len(data)

            receive_encoded(transceiver.receiver, on_frame)
            await pc.setLocalDescription(await pc.createOffer())
            async with http.post(url, data=pc.localDescription.sdp,
                                 headers={"Content-Type": "application/sdp"}) as resp:
                answer = await resp.text()
                assert resp.status == 201, answer
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        for _ in range(300):  # wait (bounded) until every viewer receives
            if all(frames):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        f0, b0 = list(frames), list(octets)
        t0 = time.monotonic()
        print("ready", flush=True)
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        fps = sum(b - a for a, b in zip(f0, frames, strict=True)) / elapsed / count
        mbps = sum(b - a for a, b in zip(b0, octets, strict=True)) * 8 / elapsed / count / 1e6
        print(json.dumps({"fps": fps, "mbps": mbps}), flush=True)
    await asyncio.gather(*(pc.close() for pc in pcs))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--viewer-process":
        asyncio.run(run_viewers(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", default="16,36")
    args = parser.parse_args()
    asyncio.run(run_server(args.seconds, [int(x) for x in args.viewers.split(",")]))


if __name__ == "__main__":
    main()
