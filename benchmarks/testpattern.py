"""Cost of looping test-pattern sources: CPU-seconds per second per running source.

Runs N sources in this one process (real StreamRegistry, real-time pacing) and prints, side by
side: N = 1, N = 100, and N = 100 with one draining reader per stream; plus the one-off cost
of encoding a clip. Usage: .venv/bin/python benchmarks/testpattern.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from media.sources import ClipCache, PatternSpec, TestPatternSource, render_clip
from media.stream import Reader, StreamRegistry

DISTINCT_ROOMS = 10  # clips encoded for the run; the running cost does not depend on it


async def drain(reader: Reader) -> None:
    async for _frame in reader:
        pass


async def measure(n: int, seconds: float, with_readers: bool, cache: ClipCache) -> dict[str, float]:
    registry = StreamRegistry()
    sources = [
        TestPatternSource(
            registry,
            f"rooms/bench{i}/main",
            PatternSpec(f"Courtroom {i % DISTINCT_ROOMS + 1}"),
            cache=cache,
        )
        for i in range(n)
    ]
    await asyncio.gather(*(s.start() for s in sources))
    tasks = []
    if with_readers:
        tasks = [asyncio.create_task(drain(registry.subscribe(s.path))) for s in sources]
    await asyncio.sleep(1.0)  # settle: first ticks, readers attached
    sent0 = sum(s.packets_sent for s in sources)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sent = sum(s.packets_sent for s in sources) - sent0
    await asyncio.gather(*(s.stop() for s in sources))
    registry.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "cpu_per_source": cpu / wall / n,
        "cpu_total": cpu / wall,
        "packets_per_source": sent / wall / n,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per case")
    args = parser.parse_args()

    spec = PatternSpec("Courtroom 1")
    first = render_clip(spec)
    warm = render_clip(PatternSpec("Courtroom 2"))
    print(
        f"clip {spec.width}x{spec.height} {spec.fps} fps {spec.duration_s} s {spec.codec}: "
        f"{len(first.packets)} packets, {first.size * 8 / spec.duration_s / 1000:.0f} kbit/s, "
        f"encode {first.encode_s:.2f} s first, {warm.encode_s:.2f} s warm"
    )

    cache = ClipCache()
    started = time.perf_counter()
    for i in range(DISTINCT_ROOMS):
        await cache.get_async(PatternSpec(f"Courtroom {i + 1}"))
    print(f"{DISTINCT_ROOMS} distinct clips encoded in {time.perf_counter() - started:.2f} s")

    print(f"{'case':<28}{'CPU-s/s per source':>20}{'CPU-s/s total':>16}{'packets/s/source':>18}")
    for n, readers in ((1, False), (100, False), (100, True)):
        result = await measure(n, args.seconds, readers, cache)
        label = f"N={n}" + (" + 1 reader each" if readers else "")
        print(
            f"{label:<28}{result['cpu_per_source']:>20.5f}{result['cpu_total']:>16.3f}"
            f"{result['packets_per_source']:>18.1f}"
        )
    print("expected packets/s/source: 75 (25 video + 50 Opus)")


if __name__ == "__main__":
    asyncio.run(main())
