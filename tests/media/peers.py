"""Client side of the tests: aiortc WHIP publishers and WHEP viewers, synthetic media."""

from __future__ import annotations

import asyncio
import fractions
import time
from typing import Any

import av
import numpy as np
from aiohttp.test_utils import TestClient
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


class SyntheticVideo(MediaStreamTrack):
    """Moving colour bars at `fps`, generated with numpy (the client encodes, not the server)."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 240, fps: int = 25) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._n = 0
        self._start: float | None = None
        bars = np.linspace(0, 255, width, dtype=np.uint8)
        self._base = np.stack([np.tile(bars, (height, 1))] * 3, axis=-1)

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._n / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        image = np.roll(self._base, self._n * 4, axis=1)
        image[:, :, 1] = (self._n * 7) % 256
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._n * 90000 // self.fps
        frame.time_base = VIDEO_TIME_BASE
        self._n += 1
        return frame


class ToneAudio(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._n * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(960) + self._n * 960) / 48000
        samples = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._n * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._n += 1
        return frame


def new_peer() -> RTCPeerConnection:
    """A client peer connection that contacts no STUN server."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def prefer(pc: RTCPeerConnection, kind: str, codec: str) -> None:
    """Restrict the transceiver of `kind` to `codec` (as a browser's setCodecPreferences)."""
    caps = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in caps if c.name.lower() == codec.lower()]
    for t in pc.getTransceivers():
        if t.kind == kind:
            t.setCodecPreferences(chosen)


def auth(token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/sdp"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


class WhipPublisher:
    """An aiortc client publishing synthetic video (and audio) by WHIP."""

    def __init__(self, client: TestClient[Any, Any], path: str, token: str = "tok-alice") -> None:
        self.client, self.path, self.token = client, path, token
        self.pc = new_peer()
        self.location: str | None = None
        self.status = 0

    async def start(
        self, codec: str = "H264", audio: bool = True, size: tuple[int, int] = (320, 240)
    ) -> WhipPublisher:
        self.pc.addTransceiver(SyntheticVideo(*size), direction="sendonly")
        prefer(self.pc, "video", codec)
        if audio:
            self.pc.addTransceiver(ToneAudio(), direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        resp = await self.client.post(
            f"/whip/{self.path}", data=self.pc.localDescription.sdp, headers=auth(self.token)
        )
        self.status = resp.status
        body = await resp.text()
        assert resp.status == 201, body
        self.location = resp.headers["Location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        return self

    async def delete(self) -> int:
        assert self.location is not None
        resp = await self.client.delete(self.location, headers=auth(self.token))
        return resp.status

    async def close(self) -> None:
        await self.pc.close()


class WhepViewer:
    """An aiortc client viewing by WHEP; decodes what it receives and records it."""

    def __init__(self, client: TestClient[Any, Any], path: str, token: str = "tok-bob") -> None:
        self.client, self.path, self.token = client, path, token
        self.pc = new_peer()
        self.location: str | None = None
        self.posted_at = 0.0
        self.first_frame_at: float | None = None
        self.video_sizes: list[tuple[int, int]] = []
        self.video_pts: list[int] = []
        self.audio_frames = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    async def start(self, audio: bool = True) -> WhepViewer:
        self.pc.addTransceiver("video", direction="recvonly")
        if audio:
            self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.posted_at = time.monotonic()
        resp = await self.client.post(
            f"/whep/{self.path}", data=self.pc.localDescription.sdp, headers=auth(self.token)
        )
        body = await resp.text()
        assert resp.status == 201, body
        self.location = resp.headers["Location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        return self

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    if self.first_frame_at is None:
                        self.first_frame_at = time.monotonic()
                    self.video_sizes.append((frame.width, frame.height))
                    self.video_pts.append(frame.pts or 0)
                else:
                    self.audio_frames += 1
        except Exception:
            return

    @property
    def first_frame_delay(self) -> float | None:
        return None if self.first_frame_at is None else self.first_frame_at - self.posted_at

    async def wait_video(self, count: int, timeout: float = 5.0) -> None:
        await wait_until(lambda: len(self.video_sizes) >= count, timeout)
        assert len(self.video_sizes) >= count, f"{len(self.video_sizes)} of {count} frames"

    async def wait_audio(self, count: int, timeout: float = 5.0) -> None:
        await wait_until(lambda: self.audio_frames >= count, timeout)
        assert self.audio_frames >= count, f"{self.audio_frames} of {count} audio frames"

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll `predicate()` every 20 ms until true or `timeout`; bounded."""
    for _ in range(max(1, int(timeout / 0.02))):
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return bool(predicate())


def encode_h264(
    frames: int, width: int = 320, height: int = 240, fps: int = 25, gop: int = 50
) -> list[av.Packet]:
    """Pre-encode synthetic H.264 (Annex-B, baseline, SPS/PPS at every IDR) for Publisher.push."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps, 1)
    codec.gop_size = gop
    codec.bit_rate = 500_000
    codec.profile = "Baseline"
    codec.options = {
        "tune": "zerolatency",
        "preset": "ultrafast",
        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1",
    }
    video = SyntheticVideo(width, height, fps)
    packets: list[av.Packet] = []
    for n in range(frames):
        image = np.roll(video._base, n * 4, axis=1)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        for packet in codec.encode(frame):
            packets.append(packet)
    for packet in codec.encode(None):
        packets.append(packet)
    for packet in packets:
        packet.pts = (packet.pts or 0) * 90000 // fps
    return packets
