"""courtav media plane: named streams, WHIP ingest, WHEP egress, packets never re-encoded.

This package imports nothing else of courtav; `control` wires it:

    registry = StreamRegistry(on_event=bus_forward)        # StreamEvent: up/down/viewer_*
    media = MediaServer(MediaSettings(...).with_env(), registry, authorize, on_session=audit)
    app.add_routes(media.routes())                         # /whip/{path}, /whep/{path}, ...
    app.cleanup_ctx.append(lambda app: lifecycle(media))   # await media.start() / media.stop()
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
