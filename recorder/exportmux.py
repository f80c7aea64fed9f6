"""Remux a run of recorded fMP4 segments into one progressive MP4 file (no re-encoding).

Blocking: runs on an export worker thread. Each segment is demuxed with its init segment by
FFmpeg (through PyAV) and its packets are copied into one output file whose streams are
templated on the first segment's (so the avcC and the Opus header, `OpusHead`, carry over).
The file starts at the last keyframe at or before the asked start (a remux cannot start
between keyframes) and ends at the last packet, in decode order, before the asked end, so
every packet kept is decodable. Times keep their distance from the recording's start: a
segment left out (withheld, missing) leaves a gap rather than closing up the timeline.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import av

from recorder.storage import fsync_dir

MAX_SEGMENT_BYTES: Final = 256 * 1024 * 1024  # a bigger segment file is not read into memory


class ExportCancelled(Exception):
    """The server is stopping: the export is abandoned."""


class ExportError(Exception):
    """The segments cannot be exported (unreadable, nothing in the range)."""


@dataclass(frozen=True)
class ExportPart:
    """One segment to copy: its file, its init file and its place in recording time."""

    sequence: int
    path: Path
    init: Path
    start_s: float  # seconds from the recording's start
    end_s: float


@dataclass(frozen=True)
class MuxResult:
    """What was written: the covered range (seconds from the recording's start) and counts."""

    start_s: float
    end_s: float
    video_frames: int
    audio_packets: int
    bytes: int


def remux(parts: Sequence[ExportPart], start_s: float, end_s: float, dest: Path,
          progress: Callable[[float], None],
          cancelled: Callable[[], bool] = lambda: False) -> MuxResult:
    """Copy the packets of `parts` between `start_s` and `end_s` into the MP4 file `dest`.

    `progress(fraction)` is told after each segment. The file is written to `<dest>.part`,
    synced and renamed, so a `dest` that exists is whole.
    """
    if not parts:
        raise ExportError("no segments in the range")
    temp = dest.with_name(dest.name + ".part")
    out = av.open(str(temp), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        result = _copy(out, parts, start_s, end_s, progress, cancelled)
    except BaseException:
        out.close()
        temp.unlink(missing_ok=True)
        raise
    out.close()
    with open(temp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(temp, dest)
    fsync_dir(dest.parent)
    return MuxResult(result.start_s, result.end_s, result.video_frames, result.audio_packets,
                     dest.stat().st_size)


def _read(part: ExportPart) -> bytes:
    if part.path.stat().st_size > MAX_SEGMENT_BYTES:
        raise ExportError(f"segment {part.sequence} is too large to export")
    return part.init.read_bytes() + part.path.read_bytes()


def _seconds(packet: av.Packet) -> float:
    """A demuxed packet's decode time in seconds (packets without one are filtered out)."""
    return float((packet.dts or 0) * (packet.time_base or 0))


def _copy(out: av.container.OutputContainer, parts: Sequence[ExportPart], start_s: float,
          end_s: float, progress: Callable[[float], None],
          cancelled: Callable[[], bool]) -> MuxResult:
    streams: dict[str, av.stream.Stream] = {}
    cut: list[float] = []  # recording time of the file's time zero (a keyframe), once known
    counts = {"video": 0, "audio": 0, "last": 0}
    for index, part in enumerate(parts):
        if cancelled():
            raise ExportCancelled
        try:
            # Packets refer to their container: it stays open until they are written.
            with av.open(io.BytesIO(_read(part)), "r", format="mp4") as container:
                _copy_part(out, container, streams, cut, start_s, end_s, counts)
        except (OSError, av.FFmpegError) as exc:
            raise ExportError(f"segment {part.sequence} is unreadable: {exc}") from None
        progress((index + 1) / len(parts))
    if not cut or not counts["video"] + counts["audio"]:
        raise ExportError("no media in the range")
    return MuxResult(cut[0], min(counts["last"] / 1e6, end_s), counts["video"],
                     counts["audio"], 0)


def _copy_part(out: av.container.OutputContainer, container: av.container.InputContainer,
               streams: dict[str, av.stream.Stream], cut: list[float], start_s: float,
               end_s: float, counts: dict[str, int]) -> None:
    inputs = [s for s in container.streams if s.type in ("video", "audio")]
    if not cut:  # streams can be added until the first packet is written
        for stream in inputs:
            if stream.type not in streams:
                streams[stream.type] = out.add_stream_from_template(stream)
    packets = [p for p in container.demux(*inputs)
               if p.dts is not None and p.size and p.stream.type in streams]
    if not cut:
        origin = _cut_point(packets, start_s, end_s, "video" in streams)
        if origin is None:
            return  # no keyframe to start on in this segment
        cut.append(origin)
    origin = cut[0]
    for packet in packets:
        at = _seconds(packet)
        if at < origin - 1e-6 or at >= end_s:
            continue
        base = packet.time_base
        assert base is not None and packet.dts is not None
        shift = round(origin * base.denominator / base.numerator)
        pts = packet.pts if packet.pts is not None else packet.dts
        kind = packet.stream.type
        packet.dts -= shift
        packet.pts = pts - shift
        packet.stream = streams[kind]
        out.mux(packet)
        end_us = round((at + float((packet.duration or 0) * base)) * 1e6)
        counts["last"] = max(counts["last"], end_us)
        counts[kind] += 1


def _cut_point(packets: list[av.Packet], start_s: float, end_s: float,
               has_video: bool) -> float | None:
    """Recording time of the first packet to keep: the last keyframe (of the video, when
    there is one) at or before `start_s`, else the first keyframe after it."""
    keys = sorted(_seconds(p) for p in packets
                  if p.is_keyframe and (p.stream.type == "video" or not has_video))
    keys = [k for k in keys if k < end_s]
    if not keys:
        return None
    before = [k for k in keys if k <= start_s + 1e-6]
    return before[-1] if before else keys[0]
