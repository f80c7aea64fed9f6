"""Named live streams (paths): tracks, the current GOP, one publisher and many readers.

Encoded packets flow publisher -> Stream -> readers unchanged; nothing here decodes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import av

from .reader import MediaFrame, Reader, ReaderClosed

logger = logging.getLogger(__name__)

__all__ = [
    "MediaFrame",
    "PathBusy",
    "Publisher",
    "PublisherInfo",
    "Reader",
    "ReaderClosed",
    "Stream",
    "StreamEvent",
    "StreamNotFound",
    "StreamRegistry",
    "TrackInfo",
]

StreamEventKind = Literal["up", "down", "viewer_joined", "viewer_left"]

# Bounds of the GOP cache: past them the cache stops growing (replay is then skipped).
GOP_MAX_FRAMES = 1000
GOP_MAX_BYTES = 32 * 1024 * 1024
KEYFRAME_REQUEST_INTERVAL_S = 0.5


@dataclass(frozen=True)
class TrackInfo:
    """One track of a stream: kind, codec ("H264" | "VP8" | "opus"), clock rate, fmtp params."""

    kind: Literal["video", "audio"]
    codec: str
    clock_rate: int
    params: Mapping[str, str] = field(default_factory=dict)

    def compatible(self, other: TrackInfo) -> bool:
        """True when a reader bound to `self` can keep reading `other` (same codec and clock)."""
        return (
            self.kind == other.kind
            and self.codec.lower() == other.codec.lower()
            and self.clock_rate == other.clock_rate
        )


@dataclass(frozen=True)
class StreamEvent:
    """A change of a stream's state, forwarded by the control plane to its event bus."""

    kind: StreamEventKind
    path: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PublisherInfo:
    """Who publishes a stream and since when (wall-clock seconds)."""

    label: str
    started: float
    tracks: tuple[TrackInfo, ...]


class PathBusy(Exception):
    """A live publisher already holds the path and takeover was not asked for."""


class StreamNotFound(LookupError):
    """No stream is known under that path."""


class Publisher:
    """The one writer of a stream; `push()` is the ingest hot path."""

    def __init__(
        self,
        stream: Stream,
        label: str,
        on_keyframe_request: Callable[[], None] | None,
        on_displaced: Callable[[], None] | None,
    ) -> None:
        self.stream: Stream | None = stream
        self.label = label
        self.on_keyframe_request = on_keyframe_request
        self.on_displaced = on_displaced
        self.packets = 0
        self.last_push = time.monotonic()

    @property
    def closed(self) -> bool:
        return self.stream is None

    def push(self, track_index: int, packet: av.Packet) -> None:
        """Forward one encoded packet (pts in the track's clock, is_keyframe set)."""
        stream = self.stream
        if stream is None:
            return
        self.packets += 1
        self.last_push = time.monotonic()
        stream._push(track_index, packet)

    def close(self) -> None:
        """Stop publishing; the stream goes down but keeps its readers. Idempotent."""
        stream = self.stream
        if stream is None:
            return
        self.stream = None
        stream._detach_publisher(self)


class Stream:
    """A named path with its tracks, readers, current GOP and (at most) one live publisher."""

    def __init__(self, registry: StreamRegistry, path: str, tracks: Sequence[TrackInfo]) -> None:
        self.registry = registry
        self.path = path
        self.tracks: tuple[TrackInfo, ...] = ()
        self.video_index: int | None = None
        self.readers: tuple[Reader, ...] = ()
        # Readers split by what they are offered: every frame, or the video keyframes alone
        # (filtered here once per frame, not once per reader).
        self._frame_readers: tuple[Reader, ...] = ()
        self._key_readers: tuple[Reader, ...] = ()
        self.gop: list[MediaFrame] = []
        self.publisher: PublisherInfo | None = None
        self.frames_in = 0
        self.bytes_in = 0
        self._publisher: Publisher | None = None
        self._gop_bytes = 0
        self._gop_full = False
        self._await_key = True
        self._last_keyframe_request = 0.0
        self._set_tracks(tracks)

    def _set_tracks(self, tracks: Sequence[TrackInfo]) -> None:
        self.tracks = tuple(tracks)
        self.video_index = next(
            (i for i, t in enumerate(self.tracks) if t.kind == "video"), None
        )
        self._time_bases = [Fraction(1, t.clock_rate) for t in self.tracks]
        self._is_video = [t.kind == "video" for t in self.tracks]
        self._offset = [0] * len(self.tracks)
        self._last_pts: list[int | None] = [None] * len(self.tracks)
        self._last_time = [0.0] * len(self.tracks)
        self._rebase = [True] * len(self.tracks)

    @property
    def is_live(self) -> bool:
        return self._publisher is not None

    @property
    def viewers(self) -> int:
        return len(self.readers)

    def latest_keyframe(self) -> av.Packet | None:
        """The keyframe that opens the current GOP (for thumbnails), or None."""
        return self.gop[0].packet if self.gop else None

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per KEYFRAME_REQUEST_INTERVAL_S."""
        pub = self._publisher
        now = time.monotonic()
        if pub is None or pub.on_keyframe_request is None:
            return
        if now - self._last_keyframe_request < KEYFRAME_REQUEST_INTERVAL_S:
            return
        self._last_keyframe_request = now
        try:
            pub.on_keyframe_request()
        except Exception:
            logger.exception("keyframe request failed on %s", self.path)

    def _push(self, index: int, packet: av.Packet) -> None:
        pts = packet.pts
        if pts is None or index >= len(self.tracks):
            return
        now = time.monotonic()
        is_video = self._is_video[index]
        keyframe = bool(packet.is_keyframe) if is_video else True
        if index == self.video_index and self._await_key:
            if not keyframe:
                self.request_keyframe()
                return
            self._await_key = False
        if self._rebase[index]:
            # First packet of a (new) publisher: continue the stream's timeline where it
            # stopped, plus the wall-clock gap, so readers see one continuous stream.
            self._rebase[index] = False
            last = self._last_pts[index]
            if last is None:
                self._offset[index] = 0
            else:
                gap = max(1, int((now - self._last_time[index]) * self.tracks[index].clock_rate))
                self._offset[index] = last + gap - pts
        offset = self._offset[index]
        if offset:
            pts += offset
            packet.pts = pts
            if packet.dts is not None:
                packet.dts = packet.dts + offset
        packet.time_base = self._time_bases[index]
        self._last_pts[index] = pts
        self._last_time[index] = now
        frame = MediaFrame(index, packet, pts, keyframe)
        size = packet.size
        self.frames_in += 1
        self.bytes_in += size
        if keyframe and index == self.video_index:
            self.gop = [frame]
            self._gop_bytes = size
            self._gop_full = False
        elif self.gop and not self._gop_full:
            self.gop.append(frame)
            self._gop_bytes += size
            if len(self.gop) >= GOP_MAX_FRAMES or self._gop_bytes >= GOP_MAX_BYTES:
                self._gop_full = True
        for reader in self._frame_readers:
            reader._offer(frame)
        if keyframe and index == self.video_index:
            for reader in self._key_readers:
                reader._offer(frame)

    def _attach_publisher(self, pub: Publisher, tracks: Sequence[TrackInfo]) -> None:
        same = len(tracks) == len(self.tracks) and all(
            a.compatible(b) for a, b in zip(self.tracks, tracks, strict=True)
        )
        self._publisher = pub  # first, so closing readers below does not drop the stream
        if not same:
            # Readers are bound to the old codecs and cannot follow: end them.
            for reader in self.readers:
                reader.close()
            self._set_tracks(tracks)
        else:
            self.tracks = tuple(tracks)  # keep new fmtp params, timeline continues
            self._rebase = [True] * len(self.tracks)
        self.publisher = PublisherInfo(pub.label, time.time(), self.tracks)
        self.gop = []
        self._gop_full = False
        self._await_key = True

    def _detach_publisher(self, pub: Publisher) -> None:
        if self._publisher is not pub:
            return
        self._publisher = None
        self.publisher = None
        self.gop = []
        self.registry._stream_down(self, pub.label)

    def _attach_reader(self, reader: Reader, from_keyframe: bool) -> None:
        if reader.keyframes_only:
            if from_keyframe and self.gop:
                reader._replay(self.gop[:1])  # the GOP's keyframe is all such a reader wants
            self._key_readers = (*self._key_readers, reader)
        else:
            if from_keyframe and self.gop and not self._gop_full:
                reader._replay(self.gop)
            self._frame_readers = (*self._frame_readers, reader)
        self.readers = (*self.readers, reader)

    def _detach_reader(self, reader: Reader) -> None:
        if reader in self.readers:
            self.readers = tuple(r for r in self.readers if r is not reader)
            self._frame_readers = tuple(r for r in self._frame_readers if r is not reader)
            self._key_readers = tuple(r for r in self._key_readers if r is not reader)
            self.registry._reader_left(self, reader)


class StreamRegistry:
    """All streams by path; the one place publishers and readers attach."""

    def __init__(self, on_event: Callable[[StreamEvent], None] | None = None) -> None:
        self.on_event = on_event
        self._streams: dict[str, Stream] = {}

    def get(self, path: str) -> Stream | None:
        return self._streams.get(path)

    def paths(self) -> list[str]:
        return sorted(self._streams)

    def publish(
        self,
        path: str,
        tracks: Sequence[TrackInfo],
        *,
        on_keyframe_request: Callable[[], None] | None = None,
        takeover: bool = False,
        label: str = "",
        on_displaced: Callable[[], None] | None = None,
    ) -> Publisher:
        """Become the publisher of `path`; raises PathBusy if it is live and takeover is False.

        A returning publisher resumes the existing stream: its readers stay attached.
        `on_displaced` is called if another publisher later takes the path over.
        """
        if not tracks:
            raise ValueError("a stream needs at least one track")
        stream = self._streams.get(path)
        if stream is not None and stream._publisher is not None:
            if not takeover:
                raise PathBusy(path)
            old = stream._publisher
            old.close()
            if old.on_displaced is not None:
                old.on_displaced()
            stream = self._streams.get(path)  # closing may have dropped an idle stream
        if stream is None:
            stream = Stream(self, path, tracks)
            self._streams[path] = stream
        pub = Publisher(stream, label, on_keyframe_request, on_displaced)
        stream._attach_publisher(pub, tracks)
        self._emit(
            StreamEvent("up", path, {"publisher": label, "codecs": [t.codec for t in tracks]})
        )
        return pub

    def subscribe(
        self,
        path: str,
        *,
        tracks: Sequence[int] | None = None,
        from_keyframe: bool = True,
        max_frames: int = 1024,
        label: str = "",
        keyframes_only: bool = False,
    ) -> Reader:
        """Attach a reader to `path` (raises StreamNotFound); it starts at the cached GOP.

        With `keyframes_only` it gets the video keyframes alone, starting at the cached one.
        """
        stream = self._streams.get(path)
        if stream is None:
            raise StreamNotFound(path)
        wanted = frozenset(tracks) if tracks is not None else None
        if keyframes_only:
            video = stream.video_index
            wanted = frozenset(() if video is None else (video,))
        reader = Reader(stream, wanted, max_frames, label, keyframes_only)
        stream._attach_reader(reader, from_keyframe)
        self._emit(
            StreamEvent("viewer_joined", path, {"reader": label, "readers": len(stream.readers)})
        )
        return reader

    def latest_keyframe(self, path: str) -> av.Packet | None:
        """The keyframe opening the current GOP of `path`, for thumbnails."""
        stream = self._streams.get(path)
        return stream.latest_keyframe() if stream is not None else None

    def close(self) -> None:
        """End every publisher and reader (server shutdown)."""
        for stream in list(self._streams.values()):
            for reader in stream.readers:
                reader.close()
            if stream._publisher is not None:
                stream._publisher.close()
        self._streams.clear()

    def _stream_down(self, stream: Stream, label: str) -> None:
        self._emit(StreamEvent("down", stream.path, {"publisher": label}))
        self._forget_if_idle(stream)

    def _reader_left(self, stream: Stream, reader: Reader) -> None:
        self._emit(
            StreamEvent(
                "viewer_left",
                stream.path,
                {"reader": reader.label, "readers": len(stream.readers), "dropped": reader.dropped},
            )
        )
        self._forget_if_idle(stream)

    def _forget_if_idle(self, stream: Stream) -> None:
        # A stream with neither publisher nor readers has nobody to keep continuity for.
        if stream._publisher is None and not stream.readers:
            if self._streams.get(stream.path) is stream:
                del self._streams[stream.path]

    def _emit(self, event: StreamEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            logger.exception("stream event handler failed for %s", event)
