"""WHIP ingest (RFC 9725): one publishing peer connection whose encoded frames feed a Stream."""

from __future__ import annotations

from collections.abc import Callable

import av
from aiortc import RTCSessionDescription
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from .aiortc_hooks import receive_encoded, send_pli
from .session import MediaError, PeerSession, capability_for, parse_offer, track_info
from .stream import PathBusy, Publisher, StreamRegistry, TrackInfo

VIDEO_CODECS = ("H264", "VP8")
AUDIO_CODECS = ("opus",)
_START_CODE = b"\x00\x00\x01"


def h264_is_keyframe(data: bytes) -> bool:
    """True if an Annex-B access unit holds an IDR slice (NAL type 5)."""
    i = data.find(_START_CODE)
    for _ in range(32):  # parameter sets and SEI come first; a slice decides
        if i < 0 or i + 3 >= len(data):
            return False
        nal_type = data[i + 3] & 0x1F
        if nal_type == 5:
            return True
        if nal_type == 1:
            return False
        i = data.find(_START_CODE, i + 3)
    return False


def vp8_is_keyframe(data: bytes) -> bool:
    """True for a VP8 key frame (inverse key frame flag in the first byte, RFC 6386 9.1)."""
    return bool(data) and data[0] & 1 == 0


class WhipSession(PeerSession):
    """A remote encoder publishing to one stream path through WebRTC."""

    role = "publish"

    def __init__(
        self,
        registry: StreamRegistry,
        path: str,
        subject: str,
        remote: str | None,
        on_end: Callable[[PeerSession], None],
    ) -> None:
        super().__init__(path, subject, remote, on_end)
        self.registry = registry
        self.publisher: Publisher | None = None
        self.tracks: list[TrackInfo] = []
        self._video_receivers: list[RTCRtpReceiver] = []

    async def negotiate(self, offer_sdp: str, takeover: bool) -> str:
        """Answer the offer with exactly one codec per section and claim the path."""
        offer = parse_offer(offer_sdp)
        for media in offer.media:
            if media.kind not in ("audio", "video"):
                raise MediaError(400, "unsupported_media", f"{media.kind} sections are refused")
            picked = capability_for(media, VIDEO_CODECS if media.kind == "video" else AUDIO_CODECS)
            if picked is None:
                # Answer this section inactive; the publisher keeps its other tracks.
                self.pc.addTransceiver(media.kind, direction="inactive")
                continue
            cap, remote_codec = picked
            transceiver = self.pc.addTransceiver(media.kind, direction="recvonly")
            transceiver.setCodecPreferences([cap])
            info = track_info(media.kind, remote_codec)
            receive_encoded(
                transceiver.receiver,
                self._frame_handler(len(self.tracks), info),
                lambda: self.close_soon("publisher ended its track"),
            )
            if info.kind == "video":
                self._video_receivers.append(transceiver.receiver)
            self.tracks.append(info)
        if not self.tracks:
            raise MediaError(400, "no_common_codec", "offer H264, VP8 or opus")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:
            raise MediaError(400, "negotiation_failed", str(exc) or type(exc).__name__) from None
        try:
            self.publisher = self.registry.publish(
                self.path,
                self.tracks,
                on_keyframe_request=self.request_keyframe,
                takeover=takeover,
                label=self.subject,
                on_displaced=lambda: self.close_soon("taken over"),
            )
        except PathBusy:
            raise MediaError(409, "path_busy", "the path already has a live publisher") from None
        return self.pc.localDescription.sdp

    def request_keyframe(self) -> None:
        """Forward a keyframe request to the remote encoder (RTCP PLI)."""
        for receiver in self._video_receivers:
            send_pli(receiver)

    def last_activity(self) -> float:
        """Monotonic time of the last packet (or of the session's start)."""
        pub = self.publisher
        return pub.last_push if pub is not None else self.created_monotonic

    def _frame_handler(self, index: int, info: TrackInfo) -> Callable[[bytes, int], None]:
        codec = info.codec.upper()
        keyframe_of = {"H264": h264_is_keyframe, "VP8": vp8_is_keyframe}.get(codec)

        def on_frame(data: bytes, timestamp: int) -> None:
            pub = self.publisher
            if pub is None or not data:
                return
            packet = av.Packet(data)
            packet.pts = timestamp
            packet.dts = timestamp
            packet.is_keyframe = keyframe_of(data) if keyframe_of is not None else True
            pub.push(index, packet)

        return on_frame

    def _detach(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
