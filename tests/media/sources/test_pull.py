"""Pull sources from files generated here (MP4, MPEG-TS, WebM) into the real StreamRegistry."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import time
from pathlib import Path

import av
import pytest

from media.sources import PullSource, SourceError, probe
from media.stream import StreamRegistry

from .conftest import LiveReader, collect, decode, video_of, wait_state, write_media


async def test_mp4_is_published_as_annex_b_in_real_time(mp4_file: Path, caplog):
    caplog.set_level(logging.WARNING)
    registry = StreamRegistry()
    live = LiveReader(registry, "rooms/f/main")
    source = PullSource(registry, "rooms/f/main", str(mp4_file), on_state=live)
    started = time.monotonic()
    await source.start()
    await wait_state(source, "live")
    assert live.reader is not None
    reader = live.reader
    frames = await collect(reader, lambda fs: len(fs) >= 10, timeout=5.0)
    await wait_state(source, "ended")
    elapsed = time.monotonic() - started
    stream = registry.get("rooms/f/main")
    assert stream is not None and not stream.is_live  # the publisher left, the reader stays
    # AAC is not WebRTC audio: video only, said once.
    assert [t.codec for t in stream.tracks] == ["H264"]
    assert stream.tracks[0].params["profile-level-id"].startswith("42c0")  # constrained baseline
    assert sum("aac" in r.getMessage() for r in caplog.records) == 1
    # Annex-B with SPS/PPS in-band: each keyframe decodes alone, all frames decode.
    assert all(bytes(f.packet).startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01")) for f in frames)
    keys = [f for f in frames if f.keyframe]
    assert len(keys) == 1 and frames[0].keyframe
    assert decode("h264", keys)
    decoded = decode("h264", frames)
    assert len(decoded) == 10 and {(f.width, f.height) for f in decoded} == {(160, 96)}
    assert [f.pts for f in frames] == [i * 9000 for i in range(10)]
    assert 0.8 < elapsed < 3.0  # 1 s of media, paced by its timestamps
    reader.close()


async def test_mpegts_file_with_opus(tmp_path: Path):
    ts = write_media(tmp_path / "hearing.ts", fmt="mpegts", seconds=1.0)
    registry = StreamRegistry()
    live = LiveReader(registry, "rooms/ts/main")
    source = PullSource(registry, "rooms/ts/main", f"file://{ts}", realtime=False, on_state=live)
    await source.start()
    await wait_state(source, "ended")
    assert live.states == ["connecting", "live", "ended"] and live.reader is not None
    reader = live.reader
    frames = await collect(reader, lambda fs: len(reader) == 0, timeout=2.0)
    stream = registry.get("rooms/ts/main")
    assert stream is not None and [t.codec for t in stream.tracks] == ["H264", "opus"]
    video, audio = video_of(frames), video_of(frames, 1)
    assert len(decode("h264", video)) == len(video) == 10
    # 50 sent; a reader starts at the first video keyframe, which the muxer put ~0.18 s in.
    assert len(audio) >= 40
    ctx = av.CodecContext.create("opus", "r")
    assert sum(f.samples for a in audio for f in ctx.decode(av.Packet(bytes(a.packet)))) > 0
    assert all(b.pts > a.pts for a, b in itertools.pairwise(audio))


async def test_webm_vp8_passes_through(tmp_path: Path):
    webm = write_media(tmp_path / "hearing.webm", video="libvpx", seconds=0.5)
    registry = StreamRegistry()
    tracks = await probe(str(webm))
    assert [t.codec for t in tracks] == ["VP8", "opus"]
    source = PullSource(registry, "rooms/w/main", str(webm))
    await source.start()
    await wait_state(source, "live")
    reader = registry.subscribe("rooms/w/main")
    frames = await collect(reader, lambda fs: len(video_of(fs)) >= 3, timeout=3.0)
    await source.stop()
    assert len(decode("vp8", video_of(frames))) == 3


async def test_repeat_continues_timestamps_across_passes(tmp_path: Path):
    short = write_media(tmp_path / "short.mp4", seconds=0.5, audio=None)
    registry = StreamRegistry()
    source = PullSource(registry, "rooms/r/main", str(short), repeat=True)
    await source.start()
    await wait_state(source, "live")
    reader = registry.subscribe("rooms/r/main")
    frames = await collect(reader, lambda fs: len(fs) >= 13, timeout=5.0)  # 2.6 passes
    await source.stop()
    assert source.state == "stopped"
    assert {b.pts - a.pts for a, b in itertools.pairwise(frames)} == {9000}
    assert len([f for f in frames if f.keyframe]) >= 2
    assert len(decode("h264", frames)) == 13


async def test_b_frames_are_refused_with_a_clear_error(tmp_path: Path):
    bfile = write_media(tmp_path / "bframes.mp4", bframes=2, audio=None)
    with pytest.raises(SourceError, match="B-frames"):
        await probe(str(bfile))
    registry = StreamRegistry()
    states: list[tuple[str, str | None]] = []
    source = PullSource(
        registry, "rooms/b/main", str(bfile), on_state=lambda s, e: states.append((s, e))
    )
    await source.start()
    await wait_state(source, "failed")
    assert "B-frames" in (source.last_error or "") and "bframes=0" in (source.last_error or "")
    assert states[-1][0] == "failed" and states[-1][1] == source.last_error
    assert registry.get("rooms/b/main") is None  # never published
    await source.stop()


async def test_input_without_webrtc_tracks_is_refused(tmp_path: Path):
    aac_only = write_media(tmp_path / "aac.mp4", video=None, audio="aac")
    with pytest.raises(SourceError, match="no WebRTC-compatible track"):
        await probe(str(aac_only))


async def test_missing_file_is_retried_with_back_off_until_it_appears(
    tmp_path: Path, mp4_file: Path
):
    target = tmp_path / "later.mp4"
    states: list[str] = []
    third_retry = asyncio.Event()

    def on_state(state: str, error: str | None) -> None:
        states.append(state)
        if states.count("retrying") == 3:
            third_retry.set()

    source = PullSource(
        StreamRegistry(),
        "rooms/m/main",
        f"file://{target}",
        backoff_initial=0.05,
        on_state=on_state,
    )
    await source.start()
    await asyncio.wait_for(third_retry.wait(), 3.0)  # back-off 0.05, 0.1, 0.2 s
    assert "retry in" in (source.last_error or "") and source.attempts >= 3
    os.replace(mp4_file, target)  # appears at once, whole
    await wait_state(source, "live", timeout=3.0)
    await wait_state(source, "ended", timeout=3.0)
    assert states[:4] == ["connecting", "retrying", "connecting", "retrying"]
    assert states[-2:] == ["live", "ended"]


async def test_back_off_is_capped_and_retries_are_bounded(tmp_path: Path):
    errors: list[str] = []
    source = PullSource(
        StreamRegistry(),
        "rooms/n/main",
        str(tmp_path / "never.mp4"),
        backoff_initial=0.02,
        backoff_max=0.04,
        max_retries=4,
        on_state=lambda s, e: errors.append(e or "") if s == "retrying" else None,
    )
    await source.start()
    await wait_state(source, "failed", timeout=3.0)
    delays = [float(e.rsplit("retry in ", 1)[1].rstrip("s")) for e in errors]
    assert len(delays) == 4 and max(delays) <= 0.04
    assert "No such file" in (source.last_error or "")


async def test_stop_interrupts_the_back_off(tmp_path: Path):
    source = PullSource(
        StreamRegistry(), "rooms/s/main", str(tmp_path / "never.mp4"), backoff_initial=30.0
    )
    await source.start()
    await wait_state(source, "retrying")
    started = time.monotonic()
    await source.stop()
    assert time.monotonic() - started < 1.0
    assert source.state == "stopped"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def send_ts(data: bytes, port: int, seconds: float, passes: int) -> None:
    """Send MPEG-TS over UDP to loopback like an encoder would: 7 TS packets a datagram, paced."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port)
    )
    chunks = [data[i : i + 7 * 188] for i in range(0, len(data), 7 * 188)]
    try:
        for _ in range(passes):
            for chunk in chunks:
                transport.sendto(chunk)
                await asyncio.sleep(seconds / len(chunks))
    finally:
        transport.close()


async def test_udp_mpegts_goes_live_and_reconnects(tmp_path: Path):
    data = write_media(tmp_path / "live.ts", fmt="mpegts", seconds=0.6).read_bytes()
    port = free_udp_port()
    registry = StreamRegistry()
    live = LiveReader(registry, "rooms/u/main")
    source = PullSource(
        registry,
        "rooms/u/main",
        f"udp://127.0.0.1:{port}",
        open_timeout=3.0,
        read_timeout=0.4,
        backoff_initial=0.05,
        on_state=live,
    )
    assert source.live and not source.realtime
    await source.start()
    await asyncio.sleep(0.2)  # let it bind before the first keyframe is sent
    # Two passes: the sender's timestamps jump back between them, the stream's must not.
    await send_ts(data, port, 0.6, passes=2)
    await wait_state(source, "retrying", timeout=2.0)  # nothing for read_timeout: reconnect
    assert live.states == ["connecting", "live", "retrying"]
    assert "timed out: no data for 0.4s" in (source.last_error or "")
    await wait_state(source, "connecting", timeout=2.0)
    await asyncio.sleep(0.2)  # as above: the socket is bound inside FFmpeg, where we cannot see
    await send_ts(data, port, 0.6, passes=2)
    await wait_state(source, "retrying", timeout=2.0)
    assert live.reader is not None
    reader = live.reader
    frames = await collect(reader, lambda fs: len(reader) == 0, timeout=1.0)
    started = time.monotonic()
    await source.stop()
    assert time.monotonic() - started < 1.5  # stop is prompt even in the middle of a back-off
    assert live.states.count("live") == 2 and live.states[-1] == "stopped"
    video, audio = video_of(frames), video_of(frames, 1)
    # 24 frames sent over loopback: the reader stayed attached across the reconnect.
    assert len(video) >= 20
    for track in (video, audio):
        assert all(b.pts > a.pts for a, b in itertools.pairwise(track))
    assert len(decode("h264", video)) == len(video)
    reader.close()
