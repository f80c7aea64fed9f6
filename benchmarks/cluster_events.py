"""Cross-node event latency: an event published on node A until a handler on node B runs it.

Two buses, each with its `PostgresBusBridge`, in one process on a throw-away PostgreSQL database
(`--url` or COURTAV_TEST_POSTGRES_URL; the database is created and dropped). Side by side: one
event at a time, a steady 500 events/s, and events over the NOTIFY limit (sent by reference).
Goal: p99 <= 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from control.bus import Event, EventBus
from control.bus_postgres import PostgresBusBridge
from control.db import Database
from control.migrate import upgrade
from control.policy import Target


async def measure(url: str, count: int, rate: float, blob: int) -> list[float]:
    """Latencies (s) of `count` events from A to B; `rate` 0 = one at a time."""
    bus_a, bus_b = EventBus(), EventBus()
    a = PostgresBusBridge(bus_a, url, "bench-a")
    b = PostgresBusBridge(bus_b, url, "bench-b")
    latencies: list[float] = []
    arrived: asyncio.Queue[None] = asyncio.Queue()

    def on_b(event: Event) -> None:
        latencies.append(time.perf_counter() - float(event.data["t"]))
        arrived.put_nowait(None)

    bus_b.on("bench.tick", on_b, remote=True)
    await a.start()
    await b.start()
    try:
        payload = "x" * blob
        for _ in range(count):
            bus_a.post(Event("bench.tick", Target(court="HL"),
                             {"t": time.perf_counter(), "blob": payload}))
            if rate:
                await asyncio.sleep(1 / rate)  # the pace of the load, not synchronisation
            else:
                await asyncio.wait_for(arrived.get(), 5)
        while len(latencies) < count:
            await asyncio.wait_for(arrived.get(), 5)
    finally:
        await a.stop()
        await b.stop()
        await bus_a.close()
        await bus_b.close()
    return latencies


def line(name: str, lat: list[float]) -> str:
    lat = sorted(lat)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return (f"{name:<36} n={len(lat):<5} p50={p(0.50):6.2f} ms  p99={p(0.99):6.2f} ms  "
            f"mean={statistics.fmean(lat) * 1000:6.2f} ms")


async def run(url: str, count: int) -> None:
    print(line("one at a time (small event)", await measure(url, count, 0, 0)))
    print(line("steady 500 events/s", await measure(url, count, 500, 0)))
    print(line("one at a time, 20 kB (by reference)", await measure(url, count // 4, 0, 20_000)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=os.environ.get("COURTAV_TEST_POSTGRES_URL", ""))
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("give --url or set COURTAV_TEST_POSTGRES_URL (a PostgreSQL server)")
    name = f"courtav_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
        db = Database(url)
        upgrade(db)  # bus_payloads, for the events sent by reference
        db.close()
        asyncio.run(run(url, args.count))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
