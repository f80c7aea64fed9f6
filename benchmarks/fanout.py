"""Server CPU per WHEP viewer: packet passthrough (N = 1, 16, 64) next to aiortc's
decode + re-encode path (N = 1), for a 720p25 1.5 Mbit/s H.264 stream. Loopback only.

Run: .venv/bin/python benchmarks/fanout.py [--seconds 5] [--viewers 1,16,64]
The server runs in this process (its CPU is measured); viewers run in a child process and
count frames without decoding them.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import os
import sys
import time
from typing import Any

import av
import numpy as np
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from loopback import LoopbackMedia, cpu_rate, measure_viewers

from media import StreamRegistry, TrackInfo

PATH = "bench/720p"
FPS = 25
WIDTH, HEIGHT = 1280, 720


def encode_720p(seconds: int, bitrate: int = 1_500_000) -> list[av.Packet]:
    """Pre-encode moving, noisy synthetic 720p25 H.264 at about `bitrate` (2 s GOP)."""
    codec: Any = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.framerate = fractions.Fraction(FPS, 1)
    codec.bit_rate = bitrate
    codec.profile = "Baseline"
    kbps = bitrate // 1000
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={2 * FPS}:min-keyint={2 * FPS}:scenecut=0:repeat-headers=1:"
        f"vbv-maxrate={kbps}:vbv-bufsize={kbps}",
    }
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    packets: list[av.Packet] = []
    for n in range(seconds * FPS):
        image = np.roll(noise, n * 8, axis=1)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        packets.extend(codec.encode(frame))
    packets.extend(codec.encode(None))
    return packets


async def feed(registry: StreamRegistry, packets: list[av.Packet]) -> None:
    """Push the clip in a loop at 25 fps with continuous timestamps, like a live encoder."""
    pub = registry.publish(PATH, [TrackInfo("video", "H264", 90000)], label="bench")
    data = [(bytes(p), bool(p.is_keyframe)) for p in packets]
    start = time.monotonic()
    n = 0
    while True:
        await asyncio.sleep(max(0.0, start + n / FPS - time.monotonic()))
        raw, key = data[n % len(data)]
        packet = av.Packet(raw)
        packet.pts = n * 90000 // FPS
        packet.is_keyframe = key
        pub.push(0, packet)
        n += 1


class DecodedClip(MediaStreamTrack):
    """aiortc's usual server path: decode the stream and hand frames to a re-encoding sender."""

    kind = "video"

    def __init__(self, packets: list[av.Packet]) -> None:
        super().__init__()
        self._data = [bytes(p) for p in packets]
        self._decoder: Any = av.CodecContext.create("h264", "r")
        self._n = 0
        self._start = time.monotonic()

    async def recv(self) -> av.VideoFrame:
        while True:
            await asyncio.sleep(max(0.0, self._start + self._n / FPS - time.monotonic()))
            frames = self._decoder.decode(av.Packet(self._data[self._n % len(self._data)]))
            self._n += 1
            if frames:
                frame: av.VideoFrame = frames[0]
                frame.pts = self._n * 90000 // FPS
                frame.time_base = fractions.Fraction(1, 90000)
                return frame


class ForwardedPackets(MediaStreamTrack):
    """aiortc's own packet path: a track returning av.Packet, packed again by every viewer."""

    kind = "video"

    def __init__(self, registry: StreamRegistry) -> None:
        super().__init__()
        self._reader = registry.subscribe(PATH, label="aiortc-pack")

    async def recv(self) -> av.Packet:
        return (await self._reader.get()).packet

    def stop(self) -> None:
        super().stop()
        self._reader.close()


async def packet_offer(request: web.Request) -> web.Response:
    """A plain aiortc answerer whose sender packetises av.Packets per viewer (for comparison)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    request.app["pcs"].append(pc)
    pc.addTrack(ForwardedPackets(request.app["registry"]))
    caps = RTCRtpSender.getCapabilities("video").codecs
    pc.getTransceivers()[0].setCodecPreferences([c for c in caps if c.name == "H264"][:1])
    await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp")


async def transcode_offer(request: web.Request) -> web.Response:
    """A plain aiortc answerer that decodes and re-encodes per viewer (for comparison)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    request.app["pcs"].append(pc)
    pc.addTrack(DecodedClip(request.app["packets"]))
    await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp")


async def measure(
    server: LoopbackMedia, viewers: int, seconds: float, endpoint: str
) -> tuple[float, list[float]]:
    """Start the viewer process, measure this process's CPU over its steady window."""
    run = await measure_viewers(server.url(endpoint), viewers, seconds)
    print(f"    [{endpoint} N={viewers}: user {run.user:.4f}, system {run.system:.4f} CPU-s/s]")
    return run.cpu, run.fps


async def run_server(seconds: float, counts: list[int]) -> None:
    packets = encode_720p(10)
    mbps = sum(p.size for p in packets) * 8 / 10 / 1e6
    registry = StreamRegistry()
    app = web.Application()
    app["packets"], app["pcs"], app["registry"] = packets, [], registry
    app.add_routes([
        web.post("/transcode", transcode_offer),
        web.post("/aiortc-pack", packet_offer),
    ])
    server = LoopbackMedia(registry, app)
    await server.start()
    feeder = asyncio.ensure_future(feed(registry, packets))
    print(f"stream: {WIDTH}x{HEIGHT} @ {FPS} fps, {mbps:.2f} Mbit/s H.264, 2 s GOP")
    try:
        await asyncio.sleep(1.0)
        base = await cpu_rate(seconds)
        print(f"baseline (publisher only, 0 viewers): {base:.4f} CPU-s/s")
        print(f"{'path':<24}{'N':>4}{'CPU-s/s':>10}{'per viewer':>12}{'fps min/avg':>14}")
        for n in counts:
            cpu, fps = await measure(server, n, seconds, f"/whep/{PATH}")
            per = (cpu - base) / n
            print(f"{'passthrough (WHEP)':<24}{n:>4}{cpu:>10.4f}{per:>12.5f}"
                  f"{min(fps):>7.1f}/{sum(fps) / len(fps):.1f}")
        n = max(counts[: len(counts) - 1] or counts)
        cpu, fps = await measure(server, n, seconds, "/aiortc-pack")
        print(f"{'aiortc packs per viewer':<24}{n:>4}{cpu:>10.4f}{(cpu - base) / n:>12.5f}"
              f"{min(fps):>7.1f}/{sum(fps) / len(fps):.1f}")
        cpu, fps = await measure(server, 1, seconds, "/transcode")
        print(f"{'aiortc decode+re-encode':<24}{1:>4}{cpu:>10.4f}{cpu - base:>12.5f}"
              f"{min(fps):>7.1f}/{sum(fps) / len(fps):.1f}")
    finally:
        feeder.cancel()
        await asyncio.gather(*(pc.close() for pc in app["pcs"]))
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", default="1,16,64")
    args = parser.parse_args()
    counts = [int(x) for x in args.viewers.split(",")]
    asyncio.run(run_server(args.seconds, counts))


if __name__ == "__main__":
    main()
