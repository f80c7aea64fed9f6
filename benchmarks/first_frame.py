"""Time from WHEP POST to the first decoded frame for late viewers of a 720p25 H.264 stream
with a 2 s GOP whose encoder ignores keyframe requests. Loopback only.

Run: .venv/bin/python benchmarks/first_frame.py [--viewers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fanout import FPS, PATH, encode_720p, feed
from loopback import LoopbackMedia, post_offer

from media import StreamRegistry


async def late_viewer(http: aiohttp.ClientSession, url: str) -> tuple[float, float]:
    """POST an offer, return (POST -> answer, POST -> first decoded frame) in seconds."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    first: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def consume(track: MediaStreamTrack) -> None:
        frame = await track.recv()
        if isinstance(frame, av.VideoFrame) and not first.done():
            first.set_result(time.monotonic())

    tasks: list[asyncio.Task[None]] = []
    pc.on("track", lambda track: tasks.append(asyncio.ensure_future(consume(track))))
    await pc.setLocalDescription(await pc.createOffer())
    posted = time.monotonic()
    answer = await post_offer(http, url, pc)
    answered = time.monotonic()
    await pc.setRemoteDescription(answer)
    shown = await asyncio.wait_for(first, 10)
    await pc.close()
    for task in tasks:
        task.cancel()
    return answered - posted, shown - posted


async def main(viewers: int) -> None:
    packets = encode_720p(6)
    registry = StreamRegistry()
    server = LoopbackMedia(registry)
    await server.start()
    feeder = asyncio.ensure_future(feed(registry, packets))  # never answers keyframe requests
    url = server.url(f"/whep/{PATH}")
    answers, firsts, positions = [], [], []
    try:
        await asyncio.sleep(1.0)
        async with aiohttp.ClientSession() as http:
            for _ in range(viewers):
                await asyncio.sleep(random.uniform(0.3, 2.0))  # land anywhere in the GOP
                stream = registry.get(PATH)
                positions.append(len(stream.gop) if stream else 0)
                answer, first = await late_viewer(http, url)
                answers.append(answer)
                firsts.append(first)
    finally:
        feeder.cancel()
        await server.stop()
    ms = sorted(x * 1000 for x in firsts)
    print(f"stream: 1280x720 @ {FPS} fps H.264, 2 s GOP, keyframe requests ignored")
    print(f"late viewers: {viewers}, joined {min(positions)}..{max(positions)} frames into a GOP")
    print(f"WHEP POST -> 201 answer:      median {statistics.median(answers) * 1000:.0f} ms")
    print(f"WHEP POST -> first decoded frame: min {ms[0]:.0f} ms, median "
          f"{statistics.median(ms):.0f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, "
          f"max {ms[-1]:.0f} ms (goal <= 150 ms)")
    print("without the GOP cache a viewer would wait for the next keyframe: "
          f"{statistics.mean(2000 - p * 1000 / FPS for p in positions):.0f} ms on average")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=10)
    asyncio.run(main(parser.parse_args().viewers))
