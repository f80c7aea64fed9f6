"""Readers of a stream: a bounded queue of shared frames that resyncs at keyframes."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

import av

if TYPE_CHECKING:
    from .stream import Stream


class ReaderClosed(Exception):
    """The reader was closed (by its owner or because its stream went away)."""


class MediaFrame:
    """One encoded frame of one track, shared read-only by every reader of the stream."""

    __slots__ = ("keyframe", "packet", "payloads", "pts", "track_index")

    def __init__(self, track_index: int, packet: av.Packet, pts: int, keyframe: bool) -> None:
        self.track_index = track_index
        self.packet = packet
        self.pts = pts  # in the track's clock, continuous across publisher changes
        self.keyframe = keyframe
        # RTP payloads, built once per stream by the first WebRTC reader that needs them.
        self.payloads: list[bytes] | None = None


class Reader:
    """A bounded queue of a stream's frames; a reader that falls behind skips to the next keyframe.

    Use `async for frame in reader`, `await reader.get()` or `get_nowait()`; `close()` when done.
    A `keyframes_only` reader is offered the video keyframes alone (the stream filters them once
    for all such readers), for wall tiles that need a picture every GOP at a fraction of the bits.
    """

    def __init__(
        self,
        stream: Stream,
        tracks: frozenset[int] | None,
        max_frames: int,
        label: str,
        keyframes_only: bool = False,
    ) -> None:
        self.stream = stream
        self.label = label
        self.keyframes_only = keyframes_only
        self.closed = False
        self.dropped = 0
        # Called synchronously after each queued frame, for consumers that drain at once.
        self.listener: Callable[[], None] | None = None
        self._tracks = tracks
        self._max = max_frames
        self._queue: deque[MediaFrame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._need_key = True
        self._replay_left = 0
        vi = stream.video_index
        self._key_track = vi if vi is not None and (tracks is None or vi in tracks) else None

    def _offer(self, frame: MediaFrame) -> None:
        """Queue one frame (hot path, once per frame per reader)."""
        if self._tracks is not None and frame.track_index not in self._tracks:
            return
        if self._need_key:
            kt = self._key_track
            if not frame.keyframe or (kt is not None and frame.track_index != kt):
                self.dropped += 1
                return
            self._need_key = False
        queue = self._queue
        if len(queue) >= self._max:
            # Fell behind: drop everything and resume cleanly at the next keyframe.
            self.dropped += len(queue) + 1
            queue.clear()
            self._replay_left = 0
            self._need_key = True
            return
        queue.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.listener is not None:
            self.listener()

    def _replay(self, frames: Sequence[MediaFrame]) -> None:
        """Pre-fill with the cached GOP so the first frame can be decoded at once."""
        if not frames:
            return
        for frame in frames:
            if self._tracks is None or frame.track_index in self._tracks:
                self._queue.append(frame)
        self._replay_left = len(self._queue)
        self._need_key = False

    @property
    def replaying(self) -> bool:
        """True while frames pre-filled from the GOP cache remain queued."""
        return self._replay_left > 0

    def take_replay(self) -> list[MediaFrame]:
        """Remove and return the pre-filled GOP frames still queued (oldest first)."""
        out = [self._queue.popleft() for _ in range(min(self._replay_left, len(self._queue)))]
        self._replay_left = 0
        return out

    def get_nowait(self) -> MediaFrame | None:
        """The next frame, or None if none is queued."""
        if not self._queue:
            return None
        if self._replay_left:
            self._replay_left -= 1
        return self._queue.popleft()

    async def get(self) -> MediaFrame:
        """Wait for the next frame; raises ReaderClosed once closed and drained."""
        while not self._queue:
            if self.closed:
                raise ReaderClosed(self.stream.path)
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        frame = self.get_nowait()
        assert frame is not None
        return frame

    def __aiter__(self) -> AsyncIterator[MediaFrame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[MediaFrame]:
        while True:
            try:
                yield await self.get()
            except ReaderClosed:
                return

    def __len__(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        """Detach from the stream; pending get() calls end with ReaderClosed. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.stream._detach_reader(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.listener is not None:
            self.listener()
