"""Latency of `GET /api/courtrooms` (all 888 rooms with live status) under 50 concurrent clients.

Starts `courtav serve` as its own process on a loopback port with a throw-away data folder, logs
in as the demo admin, then runs a bounded closed-loop load from this process. `GET /api/me` is
measured the same way beside it, as the floor set by aiohttp and authentication alone.
Goal: p99 <= 20 ms for the full listing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load(base: str, path: str, token: str, clients: int, per_client: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    conn = aiohttp.TCPConnector(limit=clients)
    # The client keeps gzip bodies compressed: the figure is the server's, not our inflating.
    async with aiohttp.ClientSession(connector=conn, auto_decompress=False,
                                     headers={"Accept-Encoding": "gzip"}) as http:

        async def one_client() -> None:
            for _ in range(per_client):
                start = time.perf_counter()
                async with http.get(base + path, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, lat: list[float], wall: float, cpu: float) -> None:
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    print(f"{name:<34} n={len(lat):<5} p50={p(0.50):6.2f} ms  p90={p(0.90):6.2f} ms  "
          f"p99={p(0.99):6.2f} ms  mean={statistics.mean(lat) * 1000:6.2f} ms  "
          f"{len(lat) / wall:6.0f} req/s  server CPU {cpu / len(lat) * 1000:.3f} ms/req")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=40, help="per client")
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "COURTAV_DATA_DIR": data, "COURTAV_PORT": str(port),
               "COURTAV_LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([sys.executable, "-m", "control.cli", "serve"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            password = ""
            for _ in range(40):
                line = proc.stdout.readline()
                if m := re.match(r"^\s+admin\s+admin\s+-\s+(\S+)$", line):
                    password = m.group(1)
                    break
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(100):
                    try:
                        async with http.post(f"{base}/api/login", json={
                                "username": "admin", "password": password}) as r:
                            token = (await r.json())["token"]
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                async with http.get(f"{base}/api/courtrooms",
                                    headers={"Authorization": f"Bearer {token}"}) as r:
                    body = await r.json()
                    print(f"rooms listed: {body['total']}, body {r.content_length} bytes")
            print(f"{args.clients} concurrent clients x {args.requests} requests, loopback")
            await load(base, "/api/courtrooms", token, args.clients, 5)  # warm-up
            for path in ("/api/me", "/api/courtrooms", "/api/courtrooms?court=HL01&q=法庭"):
                start, cpu = time.perf_counter(), cpu_seconds(proc.pid)
                lat = await load(base, path, token, args.clients, args.requests)
                report(path, lat, time.perf_counter() - start, cpu_seconds(proc.pid) - cpu)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
