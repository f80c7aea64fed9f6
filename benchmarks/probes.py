"""CPU cost of the health probes at the default probe rate. Goal: all feeds of 100 live rooms
cost less than 0.2 of one core.

1. Per feed, in simulated time: a 640x360 main feed (H.264 + Opus) and a 320x180 sub feed
   (H.264) are fed to one probe for 10 simulated minutes; CPU per feed is split into the
   per-packet bookkeeping, the keyframe decodes and the audio windows.
2. Live, in real time: N rooms publish looped test patterns (main + sub) into one registry;
   the process CPU is measured without probes, then with a ProbeSet on every feed; the
   difference is what probing costs (readers, bookkeeping, decodes, ticks).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from dataclasses import dataclass

import av

from media.probes import FEED_TYPES, FeedProbe, Finding, ProbeThresholds
from media.probeset import ProbeSet
from media.reader import MediaFrame
from media.sources import Clip, PatternSpec, TestPatternSource, render_clip
from media.stream import StreamRegistry

MAIN = PatternSpec("BENCH main", width=640, height=360, bitrate=600_000)
SUB = PatternSpec("BENCH sub", width=320, height=180, bitrate=200_000, audio=False)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Simulated:
    name: str
    seconds: float
    total: float
    bookkeeping: float
    video: float
    audio: float
    samples: int
    windows: int


def simulate(clip: Clip, thresholds: ProbeThresholds, seconds: int) -> Simulated:
    """Feed `seconds` of a looped clip to one probe as fast as it goes, timing each part."""
    findings: list[Finding] = []
    probe = FeedProbe("bench", clip.tracks, thresholds, findings.append, now=0.0)
    loops = seconds // clip.spec.duration_s
    frames = []
    for n in range(loops):
        for p in clip.packets:
            pkt = av.Packet(p.data)
            pts = p.pts + n * clip.loop_ticks[p.track]
            pkt.pts = pkt.dts = pts
            frames.append((n * clip.spec.duration_s + p.due, MediaFrame(p.track, pkt, pts,
                                                                       p.keyframe)))
    book = video = audio = 0.0
    next_tick = 1.0
    started = time.process_time()
    for now, frame in frames:
        t0 = time.process_time()
        if now >= next_tick:
            probe.tick(now)
            next_tick += 1.0
        job = probe.on_frame(frame, now)
        t1 = time.process_time()
        book += t1 - t0
        if job is not None:
            probe.process(job)
            spent = time.process_time() - t1
            if job.kind == "video":
                video += spent
            else:
                audio += spent
    total = time.process_time() - started
    assert not findings, findings  # a healthy pattern raises nothing
    return Simulated(clip.spec.name, float(seconds), total, book, video, audio,
                     probe.samples, probe.windows)


async def live(rooms: int, seconds: float, probe: bool) -> tuple[float, ProbeSet | None]:
    """Process CPU seconds per wall second with `rooms` x (main + sub) test patterns."""
    streams = StreamRegistry()
    sources = []
    for i in range(rooms):
        for feed, spec in (("main", MAIN), ("sub", SUB)):
            src = TestPatternSource(streams, f"rooms/B-{i:03d}/{feed}", spec)
            await src.start()
            sources.append(src)
    probes = None
    if probe:
        probes = ProbeSet(streams, lambda f: None)
        await probes.start()
        for path in streams.paths():
            probes.watch(path, FEED_TYPES[path.rsplit("/", 1)[1]])
    await asyncio.sleep(2.0)  # settle: every source running, first samples taken
    c0, w0 = cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    load = (cpu() - c0) / (time.perf_counter() - w0)
    if probes is not None:
        await probes.stop()
    for src in sources:
        await src.stop()
    return load, probes


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rooms", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=20.0, help="live measurement, each run")
    ap.add_argument("--simulated", type=int, default=600, help="simulated seconds per feed")
    args = ap.parse_args()
    clips = {"main": render_clip(MAIN), "sub": render_clip(SUB)}
    print(f"1. one probe per feed, default rate, {args.simulated} simulated seconds")
    per_room = 0.0
    for feed, clip in clips.items():
        t = FEED_TYPES[feed]
        r = simulate(clip, t, args.simulated)
        per_room += r.total / r.seconds
        print(f"  {feed:<4} {clip.spec.width}x{clip.spec.height} keyframe/{t.keyframe_every_s:g}s"
              f" audio {t.audio_window_s:g}s/{t.audio_every_s:g}s: "
              f"{r.total / r.seconds * 100:6.3f} % of a core  (bookkeeping "
              f"{r.bookkeeping / r.seconds * 100:.3f} %, video {r.video / r.seconds * 100:.3f} %"
              f" [{r.video / max(1, r.samples) * 1000:.2f} ms/picture], audio "
              f"{r.audio / r.seconds * 100:.3f} % [{r.audio / max(1, r.windows) * 1000:.2f}"
              f" ms/window])")
    print(f"  one room (main + sub): {per_room * 100:.3f} % of a core; "
          f"{args.rooms} rooms: {per_room * args.rooms:.3f} cores")
    print(f"2. live: {args.rooms} rooms x (main + sub) test patterns, {args.seconds:g} s each run")
    base, _ = await live(args.rooms, args.seconds, probe=False)
    print(f"  sources only:        {base:.3f} cores")
    with_probes, probes = await live(args.rooms, args.seconds, probe=True)
    assert probes is not None
    s = probes.stats
    print(f"  sources + probes:    {with_probes:.3f} cores")
    print(f"  probing {2 * args.rooms} feeds:   {with_probes - base:.3f} cores "
          f"(goal < 0.2); per feed {(with_probes - base) / (2 * args.rooms) * 100:.3f} %")
    print(f"  probe work: {s.frames} packets, {s.video_decodes} pictures "
          f"({s.video_seconds / max(1, s.video_decodes) * 1000:.2f} ms each), "
          f"{s.audio_windows} audio windows "
          f"({s.audio_seconds / max(1, s.audio_windows) * 1000:.2f} ms each), "
          f"{s.jobs_dropped} jobs dropped")


if __name__ == "__main__":
    asyncio.run(main())
