"""Fragmented MP4 (ISO/IEC 14496-12) for HLS: an init segment, moof+mdat fragments, a reader.

Written by hand rather than through a muxer so that a segment's bytes, boundaries and
timestamps are exactly what the recorder decides: nothing is buffered or interleaved out of
sight, and a crashed recorder's partial file can be cut back to its last whole fragment.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

VIDEO_TIMESCALE = 90_000
OPUS_TIMESCALE = 48_000
FLAGS_SYNC = 0x02000000  # sample_depends_on = 2: depends on no other sample
FLAGS_NON_SYNC = 0x01010000  # depends on others; sample_is_non_sync_sample
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_TRUN_DATA_OFFSET, _TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS, _TRUN_CTO = (
    0x1, 0x100, 0x200, 0x400, 0x800)
MAX_BOX_DEPTH = 8


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


@dataclass(frozen=True)
class VideoTrack:
    """An H.264 track: its avcC record and picture size."""

    track_id: int
    avcc: bytes
    width: int
    height: int
    timescale: int = VIDEO_TIMESCALE


@dataclass(frozen=True)
class OpusTrack:
    """An Opus track (RFC 7845 / Opus-in-ISOBMFF): channel count and pre-skip."""

    track_id: int
    channels: int = 2
    pre_skip: int = 0
    timescale: int = OPUS_TIMESCALE


Track = VideoTrack | OpusTrack


def _sample_entry_video(t: VideoTrack) -> bytes:
    return box(
        b"avc1",
        bytes(6), struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(16),  # pre_defined, reserved, pre_defined[3]
        struct.pack(">HHIIIH", t.width, t.height, 0x00480000, 0x00480000, 0, 1),
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x18, -1),
        box(b"avcC", t.avcc),
    )


def _sample_entry_opus(t: OpusTrack) -> bytes:
    dops = box(b"dOps", struct.pack(">BBHIhB", 0, t.channels, t.pre_skip, 48_000, 0, 0))
    return box(
        b"Opus",
        bytes(6), struct.pack(">H", 1),
        bytes(8), struct.pack(">HHHHI", t.channels, 16, 0, 0, 48_000 << 16),
        dops,
    )


def _trak(t: Track) -> bytes:
    video = isinstance(t, VideoTrack)
    width, height = (t.width, t.height) if isinstance(t, VideoTrack) else (0, 0)
    tkhd = full_box(
        b"tkhd", 0, 0x3,
        struct.pack(">IIIII", 0, 0, t.track_id, 0, 0), bytes(8),
        struct.pack(">hhhH", 0, 0, 0 if video else 0x0100, 0), _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, t.timescale, 0, 0x55C4, 0))
    handler, name = (b"vide", b"VideoHandler\0") if video else (b"soun", b"SoundHandler\0")
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name)
    media_header = (full_box(b"vmhd", 0, 1, bytes(8)) if video
                    else full_box(b"smhd", 0, 0, bytes(4)))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    entry = _sample_entry_video(t) if isinstance(t, VideoTrack) else _sample_entry_opus(t)
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", media_header, dinf, stbl)))


def init_segment(tracks: Sequence[Track]) -> bytes:
    """ftyp + moov with one trak per track and a trex each (fragments carry all samples)."""
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6mp41")
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x00010000, 0x0100), bytes(10), _MATRIX,
        bytes(24), struct.pack(">I", max(t.track_id for t in tracks) + 1),
    )
    trex = [full_box(b"trex", 0, 0, struct.pack(">IIIII", t.track_id, 1, 0, 0, 0))
            for t in tracks]
    return ftyp + box(b"moov", mvhd, *[_trak(t) for t in tracks], box(b"mvex", *trex))


Buffer = bytes | memoryview


@dataclass
class TrackRun:
    """The samples of one track in one fragment."""

    track_id: int
    base_time: int  # decode time of the first sample, in the track's timescale
    durations: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)  # composition offsets (pts - dts)
    data: list[Buffer] = field(default_factory=list)  # the samples' bytes, in any pieces


def _trun_cto_flag(run: TrackRun) -> int:
    """Composition offsets are written only when some sample has one (B-frames)."""
    return _TRUN_CTO if any(run.offsets) else 0


def fragment(sequence: int, runs: Sequence[TrackRun]) -> list[Buffer]:
    """One moof + mdat holding `runs` (empty runs are left out), as pieces to write in order:
    the sample data is never joined into one copy."""
    runs = [r for r in runs if r.sizes]
    traf_sizes = [8 + 16 + 20 + 20 + len(r.sizes) * (16 if _trun_cto_flag(r) else 12)
                  for r in runs]
    moof_size = 8 + 16 + sum(traf_sizes)
    data_offset = moof_size + 8
    trafs = []
    for run in runs:
        cto_flag = _trun_cto_flag(run)
        n = len(run.sizes)
        if cto_flag:
            values = [v for i in range(n) for v in (run.durations[i], run.sizes[i],
                                                     run.flags[i], run.offsets[i])]
            table = struct.pack(">" + "IIIi" * n, *values)
        else:
            values = [v for i in range(n) for v in (run.durations[i], run.sizes[i],
                                                     run.flags[i])]
            table = struct.pack(f">{3 * n}I", *values)
        trun_flags = _TRUN_DATA_OFFSET | _TRUN_DURATION | _TRUN_SIZE | _TRUN_FLAGS | cto_flag
        trafs.append(box(
            b"traf",
            full_box(b"tfhd", 0, 0x020000, struct.pack(">I", run.track_id)),
            full_box(b"tfdt", 1, 0, struct.pack(">Q", run.base_time)),
            full_box(b"trun", 1 if cto_flag else 0, trun_flags,
                     struct.pack(">Ii", n, data_offset), table),
        ))
        data_offset += sum(run.sizes)
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), *trafs)
    assert len(moof) == moof_size, "fragment size arithmetic is off"
    payload = sum(sum(r.sizes) for r in runs)
    parts: list[Buffer] = [moof, struct.pack(">I4s", 8 + payload, b"mdat")]
    for run in runs:
        parts.extend(run.data)
    return parts


# ---- reading back (reconcile, verify and tests) ----


def iter_boxes(data: bytes | memoryview, start: int = 0,
               end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each whole box in data[start:end]; stops at a torn one."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:  # each pass advances by at least 8 bytes
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        if size < header or pos + size > end:
            return
        yield bytes(kind), pos + header, pos + size
        pos += size


@dataclass(frozen=True)
class FragmentInfo:
    """A whole moof+mdat pair found in a file: where it ends and what each track holds."""

    end: int
    # track_id -> (base decode time, total duration, sample count, first sample is sync)
    tracks: dict[int, tuple[int, int, int, bool]]


def _parse_traf(data: bytes, start: int, end: int) -> tuple[int, tuple[int, int, int, bool]]:
    track_id, base, duration, count, sync = 0, 0, 0, 0, True
    for kind, p, e in iter_boxes(data, start, end):
        version = data[p]
        flags = int.from_bytes(data[p + 1:p + 4], "big")
        if kind == b"tfhd":
            track_id = struct.unpack_from(">I", data, p + 4)[0]
        elif kind == b"tfdt":
            base = struct.unpack_from(">Q" if version else ">I", data, p + 4)[0]
        elif kind == b"trun":
            count = struct.unpack_from(">I", data, p + 4)[0]
            q = p + 8 + (4 if flags & _TRUN_DATA_OFFSET else 0) + (4 if flags & 0x4 else 0)
            fields = [f for f in (_TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS, _TRUN_CTO)
                      if flags & f]
            if count * 4 * len(fields) > e - q or _TRUN_DURATION not in fields:
                raise ValueError("trun table does not fit its box")
            values = struct.unpack_from(f">{count * len(fields)}I", data, q)
            step = len(fields)
            duration = sum(values[0::step])
            if flags & _TRUN_FLAGS and count:
                sync = not values[fields.index(_TRUN_FLAGS)] & 0x00010000
    return track_id, (base, duration, count, sync)


def read_fragments(data: bytes) -> list[FragmentInfo]:
    """The whole moof+mdat pairs at the start of `data`, in order; a torn tail is ignored."""
    out: list[FragmentInfo] = []
    pending: dict[int, tuple[int, int, int, bool]] | None = None
    for kind, start, end in iter_boxes(data):
        if kind == b"moof":
            pending = dict(
                _parse_traf(data, p, e) for k, p, e in iter_boxes(data, start, end)
                if k == b"traf"
            )
        elif kind == b"mdat" and pending is not None:
            out.append(FragmentInfo(end, pending))
            pending = None
    return out


def read_init(data: bytes) -> dict[int, tuple[str, int]]:
    """track_id -> (handler 'vide'|'soun', timescale) from an init segment's moov."""
    tracks: dict[int, tuple[str, int]] = {}
    moov = next(((p, e) for k, p, e in iter_boxes(data) if k == b"moov"), None)
    if moov is None:
        raise ValueError("no moov box")
    for kind, p, e in iter_boxes(data, *moov):
        if kind != b"trak":
            continue
        track_id, handler, timescale = 0, "", 0
        stack = [(p, e, 0)]
        while stack:  # depth-bounded walk of trak > mdia > (mdhd, hdlr)
            s, t, depth = stack.pop()
            for k, q, f in iter_boxes(data, s, t):
                if k == b"tkhd":
                    track_id = struct.unpack_from(">I", data, q + (20 if data[q] else 12))[0]
                elif k == b"mdhd":
                    timescale = struct.unpack_from(">I", data, q + (20 if data[q] else 12))[0]
                elif k == b"hdlr":
                    handler = bytes(data[q + 8:q + 12]).decode("latin-1")
                elif k == b"mdia" and depth < MAX_BOX_DEPTH:
                    stack.append((q, f, depth + 1))
        tracks[track_id] = (handler, timescale)
    return tracks
