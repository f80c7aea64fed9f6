"""What WHIP and WHEP sessions share: the audit record, 4xx errors, SDP offer checks, codecs."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from aiortc import RTCConfiguration, RTCPeerConnection, sdp
from aiortc.codecs import CODECS
from aiortc.rtcpeerconnection import is_codec_compatible
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from .stream import TrackInfo

logger = logging.getLogger(__name__)

Role = Literal["publish", "read"]
MAX_MEDIA_SECTIONS = 4
PATH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9][A-Za-z0-9._~-]*)*")
MAX_PATH_LENGTH = 200


@dataclass(frozen=True)
class SessionEvent:
    """Audit record of one WHIP/WHEP session: sent once at start (ended=None) and once at end."""

    session_id: str
    subject: str
    path: str
    role: Role
    remote: str | None
    started: float
    ended: float | None = None
    reason: str = ""


class MediaError(Exception):
    """A request the media server refuses, with its HTTP status and JSON error body."""

    def __init__(self, status: int, error: str, detail: object = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail


def check_path(path: str) -> str:
    """Accept only plain stream paths like `rooms/HL01-03/main` (no dot segments, no escapes)."""
    if len(path) > MAX_PATH_LENGTH or not PATH_RE.fullmatch(path) or ".." in path:
        raise MediaError(400, "bad_path", "stream paths are /-separated [A-Za-z0-9._~-] words")
    return path


def parse_offer(text: str) -> sdp.SessionDescription:
    """Parse and sanity-check an SDP offer; any flaw becomes a 400 MediaError."""
    if not text.startswith("v=0"):
        raise MediaError(400, "bad_sdp", "an SDP offer starts with v=0")
    try:
        offer = sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises many types on hostile input
        raise MediaError(400, "bad_sdp", f"unparsable SDP: {type(exc).__name__}") from None
    media = [m for m in offer.media if m.kind in ("audio", "video")]
    if not media:
        raise MediaError(400, "no_media", "the offer has no audio or video section")
    if len(offer.media) > MAX_MEDIA_SECTIONS:
        raise MediaError(400, "too_many_media", f"at most {MAX_MEDIA_SECTIONS} media sections")
    for m in offer.media:
        if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
            raise MediaError(400, "bad_sdp", "ICE credentials are missing")
        if m.dtls is None or not m.dtls.fingerprints:
            raise MediaError(400, "bad_sdp", "DTLS fingerprint is missing")
        if m.kind in ("audio", "video") and not m.rtcp_mux:
            raise MediaError(400, "bad_sdp", "rtcp-mux is required")
    return offer


def capability_for(
    media: sdp.MediaDescription, codec_names: tuple[str, ...]
) -> tuple[RTCRtpCodecCapability, RTCRtpCodecParameters] | None:
    """The first codec of the offer's section (its order is the peer's preference) that
    aiortc can packetise and whose name is in `codec_names`: (our capability, their codec)."""
    wanted = {n.lower() for n in codec_names}
    for remote in media.rtp.codecs:
        if remote.name.lower() not in wanted:
            continue
        for local in CODECS.get(media.kind, []):
            if local.name.lower() == remote.name.lower() and is_codec_compatible(local, remote):
                cap = RTCRtpCodecCapability(
                    mimeType=local.mimeType,
                    clockRate=local.clockRate,
                    channels=local.channels,
                    parameters=local.parameters,
                )
                return cap, remote
    return None


def track_info(kind: str, remote: RTCRtpCodecParameters) -> TrackInfo:
    """TrackInfo for a codec offered by a publisher (its own fmtp parameters)."""
    params = {str(k): str(v) for k, v in remote.parameters.items()}
    name = "opus" if remote.name.lower() == "opus" else remote.name.upper()
    return TrackInfo("video" if kind == "video" else "audio", name, remote.clockRate, params)


class PeerSession:
    """Base of WHIP and WHEP sessions: one RTCPeerConnection, its audit record and its end."""

    role: Role = "read"

    def __init__(
        self,
        path: str,
        subject: str,
        remote: str | None,
        on_end: Callable[[PeerSession], None],
    ) -> None:
        self.id = secrets.token_urlsafe(16)
        self.path = path
        self.subject = subject
        self.remote = remote
        self.started = time.time()
        self.created_monotonic = time.monotonic()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.closed = False
        self.close_reason = ""
        self._on_end = on_end
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closing: asyncio.Future[None] | None = None
        self.pc.on("connectionstatechange", self._connection_state_changed)

    @property
    def connected(self) -> bool:
        return self.pc.connectionState == "connected"

    def event(self) -> SessionEvent:
        """The audit record of this session as it stands."""
        return SessionEvent(
            self.id,
            self.subject,
            self.path,
            self.role,
            self.remote,
            self.started,
            time.time() if self.closed else None,
            self.close_reason,
        )

    def _connection_state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.close_soon(f"connection {self.pc.connectionState}")

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close_soon(self, reason: str) -> None:
        """Close from synchronous code (hot paths, callbacks)."""
        if not self.closed and self._closing is None:
            self.spawn(self.close(reason))

    async def close(self, reason: str = "closed") -> None:
        """End the session: detach from the stream, close the peer connection. Idempotent."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        try:
            self.closed = True
            self.close_reason = reason
            self._detach()
            try:
                await self.pc.close()
            except Exception:
                logger.exception("closing peer connection of session %s", self.id)
            self._on_end(self)
        finally:
            self._closing.set_result(None)

    def _detach(self) -> None:
        """Release the stream-side resources (publisher or reader)."""
