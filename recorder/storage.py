"""Segment files on disk: names, folders, write-to-temp + fsync + rename, SHA-256 while writing.

Everything here blocks; the recorder calls it from worker threads, one segment's steps in order.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Final

TEMP_SUFFIX: Final = ".part"
SEGMENT_NAME: Final = re.compile(r"^(\d{6,10})\.m4s$")
INIT_NAME: Final = re.compile(r"^init-(\d{6,10})\.mp4$")
# Folder parts come from the registry (court and room codes) and our own ids; anything else
# in them would be a bug, so it is refused rather than escaped.
_SAFE_PART: Final = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
READ_CHUNK: Final = 1 << 20


def segment_name(sequence: int) -> str:
    return f"{sequence:06d}.m4s"


def init_name(first_sequence: int) -> str:
    """An init file is named after the first segment that uses it."""
    return f"init-{first_sequence:06d}.mp4"


def recording_folder(court: str, room: str, started_at: datetime, recording_id: int,
                     feed: str) -> str:
    """`<court>/<room>/<yyyy-mm-dd>/<recording-id>/<feed>`, relative to the recordings root."""
    parts = [court, room, started_at.strftime("%Y-%m-%d"), str(recording_id), feed]
    for part in parts:
        if not _SAFE_PART.match(part):
            raise ValueError(f"unsafe folder name part {part!r}")
    return "/".join(parts)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (the directory entry is data too)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> str:
    """Write `data` to `path` through a synced temp file; returns its SHA-256 hex digest."""
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in bounded chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class SegmentFile:
    """One segment being written: appended to `<name>.part`, hashed as it goes, then renamed."""

    def __init__(self, folder: Path, sequence: int) -> None:
        self.final = folder / segment_name(sequence)
        self.temp = folder / (self.final.name + TEMP_SUFFIX)
        self.sequence = sequence
        self.size = 0
        self._digest = hashlib.sha256()
        folder.mkdir(parents=True, exist_ok=True)
        # "xb": a leftover temp file of the same name is a reconcile bug, never overwritten.
        self._file = open(self.temp, "xb")  # closed in close() or abort()

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)


    def close(self) -> str:
        """Sync, rename to the final name, sync the folder; returns the SHA-256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.temp, self.final)
        fsync_dir(self.final.parent)
        return self._digest.hexdigest()

    def abort(self) -> None:
        """Give up on this segment: the temp file is kept for reconcile to salvage."""
        with contextlib.suppress(OSError):
            self._file.close()
