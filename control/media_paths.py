"""The one format of a courtroom's stream path, `rooms/<room>/<feed>`: built and parsed here.

Media paths outside `rooms/` (remote sites, petitions, consultations) belong to the package
that owns them; this module only answers whether a path is a courtroom feed and whose.
"""

from __future__ import annotations

import re
from typing import Final

ROOM_PATH: Final = re.compile(r"^rooms/([A-Z0-9]{2,10}-[A-Z0-9]{1,6})/([a-z][a-z0-9_]{0,15})$")


def room_path(room: str, feed: str) -> str:
    """The stream path of a courtroom's feed."""
    return f"rooms/{room}/{feed}"


def parse_room_path(path: str) -> tuple[str, str] | None:
    """(room, feed) of a courtroom feed's path; None for any other path."""
    m = ROOM_PATH.match(path)
    return (m.group(1), m.group(2)) if m else None


def room_of_path(path: str) -> str | None:
    """The room whose feed `path` is, or None."""
    parsed = parse_room_path(path)
    return parsed[0] if parsed else None
