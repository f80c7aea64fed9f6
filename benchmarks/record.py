"""Recorder CPU per live stream: remux to fMP4 + SHA-256 + fsync + index rows, N = 1, 20, 50.

Each stream is 720p25 H.264 at about 2 Mbit/s (2 s GOP) plus 20 ms Opus packets, published in
real time into a StreamRegistry by one pacing timer; a RecorderService records every stream
into 6 s segments on disk and indexes them in SQLite. The same publishing without recording
is measured first, and subtracted. CPU is process time (all threads, user + system, so the
fsync write-back is counted) over a steady-state window after a short warm-up; the one-off
start and stop of a recording are left out. Goal: <= 0.002 CPU-s per second per stream.

Run: .venv/bin/python benchmarks/record.py [--seconds 20] [--streams 1,20,50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from control.bus import EventBus
from control.db import Database
from control.media_paths import room_path
from control.migrate import upgrade
from control.policy import Principal
from control.registry import CourtRegistry, RoomInfo
from media import Publisher, StreamRegistry, TrackInfo
from recorder.service import RecorderService

FPS, WIDTH, HEIGHT, GOP_S, CLIP_S = 25, 1280, 720, 2, 8
TICK_S = 0.02
WARMUP_S = 2.0
WHO = Principal("bench", "admin")


@dataclass(frozen=True)
class Pkt:
    track: int
    pts: int
    duration: int
    key: bool
    data: bytes
    due: float


def encode_clip(bitrate: int) -> list[Pkt]:
    """CLIP_S seconds of noisy moving 720p (so x264 really spends `bitrate`) and an Opus tone."""
    cc: Any = av.CodecContext.create("libx264", "w")
    cc.width, cc.height, cc.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    cc.time_base, cc.framerate, cc.bit_rate = Fraction(1, FPS), Fraction(FPS), bitrate
    kbps = bitrate // 1000
    cc.options = {"preset": "ultrafast", "tune": "zerolatency",
                  "x264-params": f"keyint={GOP_S * FPS}:min-keyint={GOP_S * FPS}:scenecut=0:"
                                 f"vbv-maxrate={kbps}:vbv-bufsize={kbps}"}
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (HEIGHT, WIDTH * 2), dtype=np.uint8)
    packets: list[Pkt] = []
    encoded: list[av.Packet] = []
    for i in range(FPS * CLIP_S):
        luma = np.roll(noise, i * 8, axis=1)[:, :WIDTH]
        yuv = np.vstack([luma, np.full((HEIGHT // 2, WIDTH), 128, np.uint8)])
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i
        if i % (GOP_S * FPS) == 0:
            frame.pict_type = av.video.frame.PictureType.I
        encoded.extend(cc.encode(frame))
    encoded.extend(cc.encode(None))
    for i, p in enumerate(encoded):
        packets.append(Pkt(0, i * 3600, 3600, bool(p.is_keyframe), bytes(p), i / FPS))
    ac: Any = av.CodecContext.create("libopus", "w")
    ac.sample_rate, ac.format, ac.layout, ac.bit_rate = 48_000, "s16", "mono", 32_000
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(48_000 * CLIP_S) / 48_000) * 32767)
    samples = tone.astype(np.int16)
    opus: list[av.Packet] = []
    for start in range(0, len(samples), 960):
        af = av.AudioFrame.from_ndarray(samples[None, start:start + 960], format="s16",
                                        layout="mono")
        af.sample_rate, af.pts = 48_000, start
        opus.extend(ac.encode(af))
    for i, p in enumerate(opus[: len(samples) // 960]):
        packets.append(Pkt(1, i * 960, 960, True, bytes(p), i * 0.02))
    packets.sort(key=lambda p: (p.due, p.track))
    return packets


TRACKS = (TrackInfo("video", "H264", 90_000, {"packetization-mode": "1"}),
          TrackInfo("audio", "opus", 48_000))
BASES = (Fraction(1, 90_000), Fraction(1, 48_000))
LOOP_TICKS = (CLIP_S * 90_000, CLIP_S * 48_000)


class Feed:
    """One looping stream, started at a random phase so keyframes do not all coincide."""

    def __init__(self, pub: Publisher, clip: list[Pkt], phase: float) -> None:
        self.pub, self.clip, self.index, self.loops = pub, clip, 0, 0
        self.t0 = time.monotonic() - phase
        self.index = next(i for i, p in enumerate(clip) if p.due >= phase and p.key
                          and p.track == 0)
        self.t0 = time.monotonic() - clip[self.index].due

    def pump(self, now: float) -> None:
        clip = self.clip
        for _ in range(len(clip)):  # at most one loop per tick
            p = clip[self.index]
            if self.t0 + self.loops * CLIP_S + p.due > now:
                return
            packet = av.Packet(p.data)
            packet.pts = packet.dts = p.pts + self.loops * LOOP_TICKS[p.track]
            packet.duration, packet.time_base = p.duration, BASES[p.track]
            packet.is_keyframe = p.key
            self.pub.push(p.track, packet)
            self.index += 1
            if self.index == len(clip):
                self.index, self.loops = 0, self.loops + 1


async def run(clip: list[Pkt], n: int, seconds: float, record: bool, analyze: bool,
              tmp: Path) -> tuple[float, int, int]:
    """CPU seconds used while n streams run (and are recorded); segments and bytes written."""
    streams = StreamRegistry()
    rooms = [RoomInfo(f"BENCH-{i:02d}", "BENCH", "", "", ("main",)) for i in range(n)]
    rng = random.Random(n)
    feeds = [Feed(streams.publish(room_path(r.code, "main"), TRACKS), clip,
                  rng.uniform(0, CLIP_S - GOP_S)) for r in rooms]
    db = Database(f"sqlite:///{tmp / f'bench-{n}-{record}-{analyze}.db'}")
    upgrade(db)
    bus = EventBus()
    service = RecorderService(db, bus, CourtRegistry({}, {}), streams,
                              tmp / "recordings", analyze=analyze)
    await service.start()
    for feed in feeds:
        feed.pump(time.monotonic())
    if record:
        for room in rooms:
            await service.start_recording(room, "main", WHO)
    # Steady state only: a recording runs for hours, its start and stop happen once.
    cpu0 = wall0 = 0.0
    start = time.monotonic()
    while time.monotonic() - start < WARMUP_S + seconds:  # bounded by the run's length
        now = time.monotonic()
        if not wall0 and now - start >= WARMUP_S:
            cpu0, wall0 = time.process_time(), now
        for feed in feeds:
            feed.pump(now)
        await asyncio.sleep(TICK_S)
    cpu = time.process_time() - cpu0
    if record:
        for room in rooms:
            await service.stop_recording(room, "main", WHO)
    segments = sum(1 for _ in (tmp / "recordings").rglob("*.m4s")) if record else 0
    size = sum(p.stat().st_size for p in (tmp / "recordings").rglob("*.m4s")) if record else 0
    await service.stop()
    await bus.close()
    streams.close()
    db.close()
    return cpu, segments, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--streams", default="1,20,50")
    parser.add_argument("--bitrate", type=int, default=2_000_000)
    args = parser.parse_args()
    clip = encode_clip(args.bitrate)
    mbps = sum(len(p.data) for p in clip) * 8 / CLIP_S / 1e6
    print(f"stream: {WIDTH}x{HEIGHT} {FPS} fps H.264 + Opus, {mbps:.2f} Mbit/s, "
          f"{args.seconds:.0f} s per run, 6 s segments, SQLite index")
    print(f"{'N':>3} {'publish only':>13} {'record':>9} {'+analysis':>10} "
          f"{'CPU-s/s/stream':>15} {'+analysis':>10} {'segments':>9} {'MB':>7}")
    for n in (int(x) for x in args.streams.split(",")):
        with tempfile.TemporaryDirectory(prefix="courtav-rec-") as tmp:
            base, _, _ = await run(clip, n, args.seconds, False, False, Path(tmp))
        with tempfile.TemporaryDirectory(prefix="courtav-rec-") as tmp:
            plain, _, _ = await run(clip, n, args.seconds, True, False, Path(tmp))
        with tempfile.TemporaryDirectory(prefix="courtav-rec-") as tmp:
            full, segs, size = await run(clip, n, args.seconds, True, True, Path(tmp))
        per = (plain - base) / (n * args.seconds)
        per_full = (full - base) / (n * args.seconds)
        verdict = "ok" if per <= 0.002 else "OVER GOAL"
        print(f"{n:>3} {base:>12.3f}s {plain:>8.3f}s {full:>9.3f}s {per:>15.5f} "
              f"{per_full:>10.5f} {segs:>9} {size / 1e6:>7.1f}  {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
