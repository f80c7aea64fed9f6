"""courtav media plane: named streams, WHIP ingest, WHEP egress, packets never re-encoded.

This package imports nothing else of courtav; `control` wires it (see MediaServer).
"""

from .server import Authorize, MediaServer, MediaSettings
from .session import SessionEvent
from .stream import (
    MediaFrame,
    PathBusy,
    Publisher,
    Reader,
    ReaderClosed,
    Stream,
    StreamEvent,
    StreamNotFound,
    StreamRegistry,
    TrackInfo,
)

__all__ = [
    "Authorize",
    "MediaFrame",
    "MediaServer",
    "MediaSettings",
    "PathBusy",
    "Publisher",
    "Reader",
    "ReaderClosed",
    "SessionEvent",
    "Stream",
    "StreamEvent",
    "StreamNotFound",
    "StreamRegistry",
    "TrackInfo",
]
