"""What every source shares: its states, its errors and the stream it publishes to.

A source publishes encoded packets into a named stream of a `media.stream.StreamRegistry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

logger = logging.getLogger(__name__)

SourceState = Literal["idle", "connecting", "live", "retrying", "failed", "ended", "stopped"]
"""idle: not started; connecting: opening (or rendering); live: packets flowing;
retrying: waiting to reconnect after an error; failed: gave up (see last_error);
ended: a file played to its end; stopped: stopped by its owner or displaced."""

StateCallback = Callable[[SourceState, str | None], None]
"""Called on the event loop with the new state and the last error (or None)."""

# Fallback when an H.264 input carries no readable SPS: constrained baseline, level 3.1.
DEFAULT_PROFILE_LEVEL_ID = "42e01f"


class SourceError(Exception):
    """An input the server refuses as it is (B-frames, no WebRTC-compatible track, ...).

    Retrying cannot help: the sender's configuration must change.
    """




def h264_params(profile_level_id: str | None) -> dict[str, str]:
    """SDP fmtp of an H.264 track as sent by WebRTC (non-interleaved, so mode 1)."""
    return {
        "packetization-mode": "1",
        "profile-level-id": profile_level_id or DEFAULT_PROFILE_LEVEL_ID,
    }


def profile_level_id(data: bytes) -> str | None:
    """The `profile-level-id` (6 hex digits) of H.264 data: avcC extradata or Annex-B with SPS."""
    if len(data) >= 4 and data[0] == 1:  # avcC: version, profile, constraints, level
        return data[1:4].hex()
    # Annex-B: find a NAL unit of type 7 (SPS); its first three bytes are the same fields.
    start = 0
    while True:
        start = data.find(b"\x00\x00\x01", start)
        if start < 0 or start + 7 > len(data):
            return None
        header = data[start + 3]
        if header & 0x1F == 7:
            return data[start + 4 : start + 7].hex()
        start += 3


def ascii_label(text: str, fallback: str) -> str:
    """Text that cv2's Hershey fonts can draw (ASCII only); `fallback` if nothing is left."""
    kept = "".join(c for c in text if " " <= c <= "~").strip()
    return kept or fallback


class StateHolder:
    """State, last error and the `on_state` callback, shared by the source classes."""

    def __init__(self, name: str, on_state: StateCallback | None) -> None:
        self.name = name
        self.on_state = on_state
        self.state: SourceState = "idle"
        self.last_error: str | None = None

    def _set_state(self, state: SourceState, error: str | None = None) -> None:
        if error is not None:
            self.last_error = error
        if state == self.state and error is None:
            return
        self.state = state
        logger.info("source %s: %s%s", self.name, state, f" ({error})" if error else "")
        if self.on_state is not None:
            try:
                self.on_state(state, self.last_error)
            except Exception:
                logger.exception("on_state callback of source %s failed", self.name)
