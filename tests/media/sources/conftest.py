"""Test media made on the spot with PyAV, and small helpers to watch sources and decode packets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from media.sources import SourceState
from media.stream import MediaFrame, Reader, StreamRegistry


def write_media(
    path: Path,
    *,
    fmt: str | None = None,
    seconds: float = 1.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 96),
    video: str | None = "libx264",
    bframes: int = 0,
    audio: str | None = "libopus",
) -> Path:
    """Write a few seconds of synthetic video (a moving bar) and a tone into `path`."""
    out = av.open(str(path), "w", format=fmt)
    # Every stream is added before the first packet is muxed.
    vs: av.VideoStream | None = None
    aus: av.AudioStream | None = None
    if video is not None:
        options = {"preset": "ultrafast", "g": str(fps)}
        if video == "libx264":
            # bframes > 0 needs a profile that has them; ultrafast alone would turn them off.
            options["profile"] = "high" if bframes else "baseline"
            options["x264-params"] = f"bframes={bframes}:keyint={fps}:min-keyint={fps}"
        added = out.add_stream(video, rate=fps, options=options)
        assert isinstance(added, av.VideoStream)
        vs = added
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
    if audio is not None:
        added_audio = out.add_stream(audio, rate=48000)
        assert isinstance(added_audio, av.AudioStream)
        aus = added_audio
    if vs is not None:
        for i in range(int(seconds * fps)):
            img = np.full((size[1], size[0], 3), 40, np.uint8)
            x = (i * 7) % (size[0] - 10)
            img[:, x : x + 10] = (250, 200, 40)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    if aus is not None:
        ctx = aus.codec_context
        fs = ctx.frame_size or 960
        fmt_name = ctx.format.name
        for t0 in range(0, int(seconds * 48000), fs):
            wave = 0.2 * np.sin(2 * np.pi * 440 * (np.arange(fs) + t0) / 48000)
            if fmt_name.startswith("s16"):
                af = av.AudioFrame.from_ndarray(
                    (wave * 32767).astype(np.int16)[None, :], format=fmt_name, layout="mono"
                )
            else:
                af = av.AudioFrame.from_ndarray(
                    wave.astype(np.float32)[None, :], format=fmt_name, layout="mono"
                )
            af.sample_rate, af.pts = 48000, t0
            out.mux(aus.encode(af))
        out.mux(aus.encode(None))
    out.close()
    return path


@pytest.fixture
def mp4_file(tmp_path: Path) -> Path:
    """1 s of constrained-baseline H.264 (160x96, 10 fps, GOP 1 s) and AAC, in MP4."""
    return write_media(tmp_path / "hearing.mp4", audio="aac")


def decode(codec: str, frames: list[MediaFrame]) -> list[av.VideoFrame]:
    """Decode video packets as a viewer would: from their bytes alone, with a fresh decoder."""
    ctx = av.CodecContext.create(codec, "r")
    assert isinstance(ctx, av.VideoCodecContext)
    out: list[av.VideoFrame] = []
    for f in frames:
        out.extend(ctx.decode(av.Packet(bytes(f.packet))))
    out.extend(ctx.decode(None))
    return out


class LiveReader:
    """An `on_state` callback that subscribes the moment the source goes live, so the
    reader sees every packet (they are pushed after the state change, on the same loop)."""

    def __init__(self, registry: StreamRegistry, path: str) -> None:
        self.registry, self.path = registry, path
        self.reader: Reader | None = None
        self.states: list[str] = []

    def __call__(self, state: str, error: str | None) -> None:
        self.states.append(state)
        if state == "live" and self.reader is None:
            self.reader = self.registry.subscribe(self.path, max_frames=10_000)


async def wait_state(source: object, *states: SourceState, timeout: float = 5.0) -> None:
    """Wait (bounded) until `source.state` is one of `states`."""
    deadline = time.monotonic() + timeout
    while getattr(source, "state") not in states:
        if time.monotonic() > deadline:
            raise AssertionError(f"state {getattr(source, 'state')} never became {states}")
        await asyncio.sleep(0.01)


async def collect(
    reader: Reader, until: Callable[[list[MediaFrame]], bool], timeout: float = 5.0
) -> list[MediaFrame]:
    """Frames from `reader` until `until(frames)` holds (bounded by `timeout`)."""
    frames: list[MediaFrame] = []
    async with asyncio.timeout(timeout):
        while not until(frames):
            frames.append(await reader.get())
    return frames


def video_of(frames: list[MediaFrame], track: int = 0) -> list[MediaFrame]:
    return [f for f in frames if f.track_index == track]
