"""SegmentRecorder: remuxed segments decode, are cut on keyframes, hashed, chained and synced."""

from __future__ import annotations

import errno
import hashlib
import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from media import StreamRegistry
from media.sources import Clip, ClipCache, PatternSpec, TestPatternSource
from recorder import fmp4
from recorder.models import GENESIS
from recorder.segments import ClosedSegment, RecordingPlace, SegmentRecorder
from recorder.storage import SegmentFile
from tests.media.peers import wait_until
from tests.recorder.conftest import FastFeed, decode, segment_files

PATH = "rooms/HL0102-01/main"


async def record(tmp_path: Path, clip: Clip, seconds: float, segment_s: float,
                 **kwargs: object) -> tuple[list[ClosedSegment], SegmentRecorder, Path]:
    streams = StreamRegistry()
    feed = FastFeed(streams, PATH, clip)
    feed.push(2)  # something in the GOP cache, as a live stream has
    closed: list[ClosedSegment] = []

    async def on_segment(seg: ClosedSegment) -> None:
        closed.append(seg)

    rec = SegmentRecorder(streams.subscribe(PATH, label="recorder"), segment_s=segment_s,
                          on_segment=on_segment, **kwargs)  # type: ignore[arg-type]
    span = rec.replay_span
    place = RecordingPlace(1, datetime.now(UTC) - timedelta(seconds=span),
                           time.monotonic() - span, tmp_path, "HL0102/HL0102-01/d/1/main")
    rec.start(place)
    feed.push(seconds)
    await rec.stop()
    return closed, rec, tmp_path / place.directory


async def test_segments_decode_with_expected_frames_and_durations(tmp_path: Path,
                                                                  clip: Clip) -> None:
    closed, rec, folder = await record(tmp_path, clip, 8, segment_s=2.0)
    assert rec.state == "stopped" and rec.error is None
    # The replayed GOP (1 s) plus 8 s, cut every 2 s on a keyframe: 2+2+2+2+1.
    assert [s.sequence for s in closed] == [1, 2, 3, 4, 5]
    assert [s.duration for s in closed] == [2.0, 2.0, 2.0, 2.0, 1.0]
    init = (folder / "init-000001.mp4").read_bytes()
    for seg in closed:
        data = (tmp_path / seg.path).read_bytes()
        stats = decode(init, data)
        assert stats["video"] == round(seg.duration * 25)
        assert stats["size"] == (640, 360)
        # Audio: 50 packets of 960 samples per second, +-1 at the cuts (held-back sample).
        assert abs(stats["samples"] - seg.duration * 48_000) <= 960
        first = fmp4.read_fragments(data)[0].tracks[1]
        assert first[3], "a segment must open on a keyframe"
    for a, b in itertools.pairwise(closed):
        assert b.start_at == a.end_at, "segments abut exactly"


async def test_index_matches_files_and_chain_links(tmp_path: Path, clip: Clip) -> None:
    closed, _rec, folder = await record(tmp_path, clip, 6, segment_s=1.0)
    files = segment_files(folder)
    assert [f.name for f in files] == [Path(s.path).name for s in closed]
    assert not list(folder.glob("*.part")), "no temp file survives a clean stop"
    prev = GENESIS
    for seg in closed:
        data = (tmp_path / seg.path).read_bytes()
        assert seg.bytes == len(data)
        assert seg.sha256 == hashlib.sha256(data).hexdigest()
        assert seg.prev_sha256 == prev
        prev = seg.sha256
    assert closed[0].init_sha256 == hashlib.sha256(
        (folder / "init-000001.mp4").read_bytes()).hexdigest()
    assert all(s.init_sha256 is None for s in closed[1:])
    assert closed[0].audio_dbfs is not None and -40 < closed[0].audio_dbfs < 0
    assert closed[0].motion == 0.0 and all(s.motion is not None for s in closed)


async def test_new_parameter_sets_start_a_new_init(tmp_path: Path, clip: Clip) -> None:
    streams = StreamRegistry()
    feed = FastFeed(streams, PATH, clip)
    feed.push(2)
    closed: list[ClosedSegment] = []

    async def on_segment(seg: ClosedSegment) -> None:
        closed.append(seg)

    rec = SegmentRecorder(streams.subscribe(PATH), segment_s=2.0, on_segment=on_segment)
    rec.start(RecordingPlace(1, datetime.now(UTC), time.monotonic(), tmp_path, "r/main"))
    feed.push(2)
    # Another encoder takes over with a bigger picture: same codec, so the reader stays.
    big = ClipCache().get(PatternSpec("Bigger", width=960, height=540, gop_s=1, duration_s=2))
    takeover = streams.publish(PATH, big.tracks, takeover=True, label="second")
    feed.publisher = takeover
    feed.clip = big
    feed.push(4)
    await rec.stop()
    inits = sorted(p.name for p in (tmp_path / "r/main").glob("init-*.mp4"))
    assert len(inits) == 2
    switch = next(s for s in closed if s.init_name == inits[1])
    assert switch.init_sha256 is not None and switch.init_name == f"init-{switch.sequence:06d}.mp4"
    stats = decode((tmp_path / "r/main" / inits[1]).read_bytes(),
                   (tmp_path / switch.path).read_bytes())
    assert stats["size"] == (960, 540)


async def test_write_error_raises_alert_and_keeps_closed_segments(
        tmp_path: Path, clip: Clip, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = 0
    original = SegmentFile.write

    def failing_write(self: SegmentFile, chunk: bytes) -> None:
        nonlocal writes
        writes += 1
        if writes > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, chunk)

    monkeypatch.setattr(SegmentFile, "write", failing_write)
    errors: list[str] = []
    closed, rec, folder = await record(tmp_path, clip, 8, segment_s=1.0,
                                       on_error=errors.append)
    assert rec.state == "failed" and errors and "No space left" in errors[0]
    assert 1 <= len(closed) <= 4
    for seg in closed:  # every closed segment is whole and matches its hash
        assert hashlib.sha256((tmp_path / seg.path).read_bytes()).hexdigest() == seg.sha256
    assert len(segment_files(folder)) == len(closed)


async def test_live_test_pattern_over_a_real_stream(tmp_path: Path) -> None:
    streams = StreamRegistry()
    source = TestPatternSource(streams, PATH, PatternSpec("Live", gop_s=1, duration_s=2))
    await source.start()
    closed: list[ClosedSegment] = []

    async def on_segment(seg: ClosedSegment) -> None:
        closed.append(seg)

    try:
        assert await wait_until(lambda: streams.latest_keyframe(PATH) is not None, 5)
        rec = SegmentRecorder(streams.subscribe(PATH), segment_s=1.0, on_segment=on_segment)
        started = datetime.now(UTC) - timedelta(seconds=rec.replay_span)
        rec.start(RecordingPlace(1, started, time.monotonic() - rec.replay_span, tmp_path,
                                 "live/main"))
        assert await wait_until(lambda: len(closed) >= 3, 10)  # segments of real time
        await rec.stop()
    finally:
        await source.stop()
    assert len(closed) >= 3
    # Wall-clock times follow the real clock within a GOP.
    assert abs((closed[-1].end_at - datetime.now(UTC)).total_seconds()) < 1.5
    init = (tmp_path / "live/main/init-000001.mp4").read_bytes()
    for seg in closed[:-1]:
        assert seg.duration == pytest.approx(1.0)
        assert decode(init, (tmp_path / seg.path).read_bytes())["video"] == 25
