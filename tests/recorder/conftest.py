"""Recorder fixtures: a synthetic H.264 + Opus clip, a fast feed, the app with the recorder."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from control.app import create_app
from control.config import Settings
from control.core import Core
from control.live import LIVE
from media import Publisher, StreamRegistry
from media.sources import Clip, PatternSpec, render_clip
from recorder.service import RECORDER, RecorderService

ROOM = "HL0102-01"  # Daoli district court (HL0102), under Harbin (HL01), under HL
OTHER_ROOM = "HL0103-01"  # a sibling district court
SEGMENT_S = 1.0


@pytest.fixture(scope="session")
def clip() -> Clip:
    """Two seconds of 640x360 H.264 (keyframe every second) and mono Opus, encoded once."""
    return render_clip(PatternSpec("Recorder test", gop_s=1, duration_s=2))


class FastFeed:
    """Publishes a looped clip into a stream as fast as asked, timestamps continuous."""

    def __init__(self, streams: StreamRegistry, path: str, clip: Clip) -> None:
        self.clip = clip
        self.publisher: Publisher = streams.publish(path, clip.tracks, label="test")
        self._bases = [Fraction(1, t.clock_rate) for t in clip.tracks]
        self.loops = 0
        self.shift = 0.0  # seconds added to every timestamp (a stall of the source)

    def push(self, seconds: float) -> None:
        """Push whole clip loops covering `seconds` of media."""
        loops = max(1, round(seconds / self.clip.spec.duration_s))
        for _ in range(loops):
            for cp in self.clip.packets:
                packet = av.Packet(cp.data)
                clock = self.clip.tracks[cp.track].clock_rate
                packet.pts = packet.dts = (cp.pts + self.loops * self.clip.loop_ticks[cp.track]
                                           + round(self.shift * clock))
                packet.duration = cp.duration
                packet.time_base = self._bases[cp.track]
                packet.is_keyframe = cp.keyframe
                self.publisher.push(cp.track, packet)
            self.loops += 1

    def close(self) -> None:
        self.publisher.close()


def with_recorder(app: web.Application, segment_s: float = SEGMENT_S) -> RecorderService:
    """The recorder create_app mounted, with segments short enough for a test."""
    app[RECORDER].segment_s = segment_s
    return app[RECORDER]


@pytest.fixture
async def rclient(aiohttp_client: Any, settings: Settings, services: Core) -> TestClient:
    """The full app with the recorder mounted, on aiohttp's loopback test server."""
    app = create_app(settings, services)
    with_recorder(app)
    return await aiohttp_client(app)


def streams_of(client: TestClient) -> StreamRegistry:
    return client.app[LIVE].streams


def decode(init: bytes, segment: bytes) -> dict[str, Any]:
    """Decode init + segment with PyAV: frame counts, audio samples, first/last times."""
    out: dict[str, Any] = {"video": 0, "samples": 0, "times": [], "size": None}
    with av.open(io.BytesIO(init + segment), "r") as container:
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                out["video"] += 1
                out["times"].append(frame.time)
                out["size"] = (frame.width, frame.height)
            elif isinstance(frame, av.AudioFrame):
                out["samples"] += frame.samples
    return out


def segment_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.m4s"))
