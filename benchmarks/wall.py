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
import os
import sys
import time

import av

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fanout import FPS, HEIGHT, PATH, WIDTH, encode_720p, feed
from loopback import LoopbackMedia, cpu_rate, measure_viewers

from media import StreamRegistry, TrackInfo


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
    packets = encode_720p(10)
    mbps = sum(p.size for p in packets) * 8 / 10 / 1e6
    keys = [p for p in packets if p.is_keyframe]
    registry = StreamRegistry()
    server = LoopbackMedia(registry)
    await server.start()
    feeder = asyncio.ensure_future(feed(registry, packets))
    print(f"stream: {WIDTH}x{HEIGHT} @ {FPS} fps, {mbps:.2f} Mbit/s H.264, 2 s GOP, "
          f"keyframes {sum(p.size for p in keys) / len(keys) / 1000:.0f} kB on average")
    try:
        await asyncio.sleep(1.0)
        base = await cpu_rate(seconds)
        print(f"baseline (publisher only): {base:.4f} CPU-s/s")
        print(f"{'viewer':<16}{'N':>4}{'CPU-s/s':>10}{'CPU/viewer':>12}"
              f"{'Mbit/s/viewer':>15}{'fps/viewer':>12}")
        for n in counts:
            for name, query in (("full", ""), ("keyframes-only", "?keyframes=1")):
                r = await measure_viewers(server.url(f"/whep/{PATH}{query}"), n, seconds)
                print(f"{name:<16}{n:>4}{r.cpu:>10.4f}{(r.cpu - base) / n:>12.5f}"
                      f"{r.mbps:>15.3f}{sum(r.fps) / n:>12.2f}")
    finally:
        feeder.cancel()
        await server.stop()
    print("stream push with 36 readers attached (no network), µs per frame:")
    for name, only in (("full readers", False), ("keyframes-only readers", True)):
        print(f"  {name:<24}{push_cost(packets, 36, only):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", default="16,36")
    args = parser.parse_args()
    asyncio.run(run_server(args.seconds, [int(x) for x in args.viewers.split(",")]))


if __name__ == "__main__":
    main()
