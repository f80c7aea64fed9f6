"""WHEP egress: one viewing peer connection fed a Stream's packets, never re-encoded.

RTP payloads are built once per stream frame and shared; a viewer only adds its own
sequence numbers, timestamps and SSRC. A new viewer starts with the cached GOP sent as one
burst whose timestamps are squeezed together, so it shows a picture at once and at live delay.

A keyframes-only viewer (a small wall tile) gets the video keyframes alone and no audio: each
keeps its real-time timestamp and the RTP sequence stays gapless, so the browser decodes every
keyframe as it arrives and paces them as they were captured.
"""

from __future__ import annotations

import logging
import random
import weakref
from collections.abc import Callable

from aiortc import RTCSessionDescription

from .aiortc_hooks import RtpOutput, packetize_h264, packetize_vp8, send_encoded
from .session import MediaError, PeerSession, capability_for, parse_offer
from .stream import MediaFrame, Reader, Stream, StreamNotFound, StreamRegistry

logger = logging.getLogger(__name__)

_MASK32 = 0xFFFFFFFF
# VP8 picture ids are per stream so that every viewer sees the same payloads.
_vp8_picture_ids: weakref.WeakKeyDictionary[Stream, int] = weakref.WeakKeyDictionary()


def packetize(stream: Stream, frame: MediaFrame) -> list[bytes]:
    """RTP payloads of a frame, built on first use and cached on the (shared) frame."""
    payloads = frame.payloads
    if payloads is not None:
        return payloads
    codec = stream.tracks[frame.track_index].codec.upper()
    data = bytes(frame.packet)
    if codec == "H264":
        payloads = packetize_h264(data)
    elif codec == "VP8":
        picture_id = _vp8_picture_ids.get(stream, random.randint(0, 0x7FFF))
        payloads = packetize_vp8(data, picture_id)
        _vp8_picture_ids[stream] = (picture_id + 1) & 0x7FFF
    else:  # opus: one packet per frame
        payloads = [data]
    frame.payloads = payloads
    return payloads


class WhepSession(PeerSession):
    """A viewer of one stream path."""

    role = "read"

    def __init__(
        self,
        registry: StreamRegistry,
        stream: Stream,
        subject: str,
        remote: str | None,
        on_end: Callable[[PeerSession], None],
        *,
        keyframes_only: bool = False,
    ) -> None:
        super().__init__(stream.path, subject, remote, on_end)
        self.registry = registry
        self.stream = stream
        self.keyframes_only = keyframes_only
        self.reader: Reader | None = None
        self.frames_sent = 0
        self.keyframe_requests_ignored = 0
        self._track_of_transceiver: list[int] = []
        self._outputs: list[RtpOutput | None] = [None] * len(stream.tracks)
        self._offsets: list[int | None] = [None] * len(stream.tracks)
        self._expected = 0

    async def negotiate(self, offer_sdp: str) -> str:
        """Bind each offered section to a stream track of its kind and that track's codec."""
        offer = parse_offer(offer_sdp)
        used: set[int] = set()
        for media in offer.media:
            index = next(
                (
                    i
                    for i, t in enumerate(self.stream.tracks)
                    if t.kind == media.kind and i not in used
                ),
                None,
            )
            picked = None
            if self.keyframes_only and media.kind == "audio":
                index = None  # keyframes-only viewers get no sound
            if index is not None:
                picked = capability_for(media, (self.stream.tracks[index].codec,))
            if index is None or picked is None:
                if media.kind in ("audio", "video"):
                    self.pc.addTransceiver(media.kind, direction="inactive")
                continue
            used.add(index)
            transceiver = self.pc.addTransceiver(media.kind, direction="sendonly")
            # aiortc sends any packet under the first negotiated codec: allow only ours.
            transceiver.setCodecPreferences([picked[0]])
            send_encoded(
                transceiver.sender,
                self._ready_handler(index),
                self._keyframe_wanted,
            )
            self._expected += 1
        if not used:
            codecs = ", ".join(t.codec for t in self.stream.tracks)
            raise MediaError(400, "no_common_codec", f"this stream is {codecs}")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:
            raise MediaError(400, "negotiation_failed", str(exc) or type(exc).__name__) from None
        return self.pc.localDescription.sdp

    def _keyframe_wanted(self) -> None:
        """PLI/FIR from the viewer. A keyframes-only viewer waits for the next GOP instead:
        browsers ask when no frame came for a few seconds, and asking the publisher would add
        keyframes (bits) for every viewer of the stream."""
        if self.keyframes_only:
            self.keyframe_requests_ignored += 1
            return
        self.stream.request_keyframe()

    def _ready_handler(self, index: int) -> Callable[[RtpOutput], None]:
        def ready(output: RtpOutput) -> None:
            self._outputs[index] = output
            self._expected -= 1
            if self._expected == 0 and not self.closed:
                self._start()

        return ready

    def _start(self) -> None:
        """All senders are connected: attach to the stream and burst the cached GOP."""
        stream = self.registry.get(self.path)
        if stream is not self.stream:
            self.close_soon("stream changed")
            return
        wanted = [i for i, out in enumerate(self._outputs) if out is not None]
        try:
            reader = self.registry.subscribe(
                self.path, tracks=wanted, label=self.subject, keyframes_only=self.keyframes_only
            )
        except StreamNotFound:
            self.close_soon("stream gone")
            return
        self.reader = reader
        self._burst(reader.take_replay())
        reader.listener = self._drain
        self._drain()

    def _burst(self, frames: list[MediaFrame]) -> None:
        """Send the cached GOP with squeezed timestamps ending at the newest frame's.

        Cached audio is dropped: it would only add delay. Video frames get timestamps one
        tick apart so the decoder shows the last one at once, then live frames follow.
        """
        video = self.stream.video_index
        if video is None or self._outputs[video] is None:
            return
        gop = [f for f in frames if f.track_index == video]
        if not gop:
            return
        output = self._outputs[video]
        assert output is not None
        base = random.getrandbits(32)
        self._offsets[video] = base - gop[-1].pts
        n = len(gop)
        for i, frame in enumerate(gop):
            output.send_frame(packetize(self.stream, frame), (base - (n - 1 - i)) & _MASK32)
        self.frames_sent += n

    def _drain(self) -> None:
        """Send every queued frame (hot path: called synchronously from Publisher.push)."""
        reader = self.reader
        if reader is None:
            return
        if reader.closed:
            self.close_soon("stream ended")
            return
        outputs = self._outputs
        offsets = self._offsets
        stream = self.stream
        try:
            while True:
                frame = reader.get_nowait()
                if frame is None:
                    return
                index = frame.track_index
                output = outputs[index]
                if output is None:
                    continue
                payloads = frame.payloads
                if payloads is None:
                    payloads = packetize(stream, frame)
                offset = offsets[index]
                if offset is None:
                    offset = offsets[index] = random.getrandbits(32) - frame.pts
                if not output.send_frame(payloads, (frame.pts + offset) & _MASK32):
                    self.close_soon("transport closed")
                    return
                self.frames_sent += 1
        except Exception:
            # Never let one viewer's failure reach the publisher's push().
            logger.exception("WHEP session %s failed while sending", self.id)
            self.close_soon("send failed")

    def _detach(self) -> None:
        if self.reader is not None:
            self.reader.listener = None
            self.reader.close()
