"""What the WHEP benchmarks share: serving an app on a free loopback port, a media server there
that lets every request in, and a child process of WHEP viewers that count what they receive
without decoding it (run as `python benchmarks/loopback.py URL COUNT SECONDS`).

The scripts beside it import it by name: they are run as `python benchmarks/<script>.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from media import MediaServer, MediaSettings, StreamRegistry
from media.aiortc_hooks import receive_encoded, set_ice_hosts

HOST = "127.0.0.1"
SCRIPT = os.path.abspath(__file__)


async def allow(request: web.Request, action: str, path: str) -> str:
    """The media server's access check for benchmarks: everyone is "bench"."""
    return "bench"


def process_cpu() -> float:
    """User + system CPU seconds of this process so far."""
    t = os.times()
    return t.user + t.system


async def cpu_rate(seconds: float) -> float:
    """CPU-s/s of this process over the next `seconds`."""
    cpu0, t0 = process_cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    return (process_cpu() - cpu0) / (time.monotonic() - t0)


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve `app` on a free loopback port: its runner (to clean up) and the port."""
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind((HOST, 0))
    port = int(sock.getsockname()[1])
    sock.close()
    await web.TCPSite(runner, HOST, port).start()
    return runner, port


class LoopbackMedia:
    """A MediaServer over `registry`, its routes added to `app` (a new one by default), served
    on a free loopback port with ICE on loopback only."""

    def __init__(self, registry: StreamRegistry, app: web.Application | None = None) -> None:
        set_ice_hosts((HOST,))
        self.media = MediaServer(MediaSettings(ice_hosts=(HOST,)), registry, allow)
        self.app = web.Application() if app is None else app
        self.app.add_routes(self.media.routes())
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        """The address of `path` (starting with "/") on this server."""
        return f"http://{HOST}:{self.port}{path}"

    async def start(self) -> None:
        self._runner, self.port = await serve(self.app)
        await self.media.start()

    async def stop(self) -> None:
        await self.media.stop()
        if self._runner is not None:
            await self._runner.cleanup()


async def post_offer(
    http: aiohttp.ClientSession, url: str, pc: RTCPeerConnection
) -> RTCSessionDescription:
    """POST `pc`'s local offer to the WHEP endpoint `url`; the answer (not yet applied)."""
    async with http.post(url, data=pc.localDescription.sdp,
                         headers={"Content-Type": "application/sdp"}) as resp:
        answer = await resp.text()
        assert resp.status == 201, answer
    return RTCSessionDescription(answer, "answer")


@dataclass(frozen=True)
class ViewerRun:
    """What a child process of viewers received over its steady window (frames per second for
    each viewer, Mbit/s per viewer on average) and this process's CPU-s/s meanwhile."""

    fps: list[float]
    mbps: float
    user: float
    system: float

    @property
    def cpu(self) -> float:
        return self.user + self.system


async def measure_viewers(url: str, count: int, seconds: float) -> ViewerRun:
    """Run `count` viewers of `url` in a child process, measuring this process over `seconds`
    once every viewer receives."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, SCRIPT, url, str(count), str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    before, t0 = os.times(), time.monotonic()
    line = await asyncio.wait_for(child.stdout.readline(), seconds + 60)
    after, t1 = os.times(), time.monotonic()
    await child.wait()
    received = json.loads(line)
    return ViewerRun(received["fps"], received["mbps"], (after.user - before.user) / (t1 - t0),
                     (after.system - before.system) / (t1 - t0))


async def run_viewers(url: str, count: int, seconds: float) -> None:
    """Child process: `count` WHEP viewers counting frames and bytes without decoding; prints
    "ready" once all receive, then one JSON line of what came in the next `seconds`."""
    set_ice_hosts((HOST,))
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
            await pc.setRemoteDescription(await post_offer(http, url, pc))
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
        fps = [(b - a) / elapsed for a, b in zip(f0, frames, strict=True)]
        mbps = sum(b - a for a, b in zip(b0, octets, strict=True)) * 8 / elapsed / count / 1e6
        print(json.dumps({"fps": fps, "mbps": mbps}), flush=True)
    await asyncio.gather(*(pc.close() for pc in pcs))


if __name__ == "__main__":
    asyncio.run(run_viewers(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
