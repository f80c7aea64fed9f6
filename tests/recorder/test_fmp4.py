"""H.264 bitstream helpers and the fMP4 writer/reader, against PyAV's encoder and demuxer."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from media.sources import Clip
from recorder import fmp4
from recorder.h264 import (
    avcc_record,
    codec_string,
    parameter_sets,
    parse_sps,
    split_annexb,
    to_avcc,
)


def encode_h264(width: int, height: int, profile: str, frames: int = 3) -> list[bytes]:
    cc = av.CodecContext.create("libx264", "w")
    assert isinstance(cc, av.VideoCodecContext)
    cc.width, cc.height, cc.pix_fmt = width, height, "yuv420p"
    cc.time_base = Fraction(1, 25)
    cc.options = {"profile": profile, "preset": "ultrafast", "x264-params": "bframes=0"}
    out: list[bytes] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(
            np.full((height * 3 // 2, width), i * 40, np.uint8), format="yuv420p")
        frame.pts = i
        out.extend(bytes(p) for p in cc.encode(frame))
    out.extend(bytes(p) for p in cc.encode(None))
    return out


def test_split_annexb_handles_3_and_4_byte_start_codes() -> None:
    data = b"\x00\x00\x00\x01\x67\xaa\x00\x00\x01\x68\xbb\x00\x00\x00\x01\x65\xcc\xdd"
    assert split_annexb(data) == [b"\x67\xaa", b"\x68\xbb", b"\x65\xcc\xdd"]
    assert split_annexb(b"") == []
    assert to_avcc([b"\x65\xcc"]) == b"\x00\x00\x00\x02\x65\xcc"


@pytest.mark.parametrize(("width", "height", "profile"), [
    (640, 360, "baseline"), (1280, 720, "high"), (1920, 1080, "main"), (354, 242, "high"),
])
def test_sps_gives_the_cropped_picture_size(width: int, height: int, profile: str) -> None:
    packets = encode_h264(width, height, profile)
    sps, pps = parameter_sets(split_annexb(packets[0]))
    info = parse_sps(sps[0])
    assert (info.width, info.height) == (width, height)
    record = avcc_record(sps, pps)
    assert record[0] == 1 and record[1] == info.profile_idc
    assert codec_string(sps[0]).startswith("avc1.")


def test_parse_sps_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_sps(b"\x67\x42")
    with pytest.raises(ValueError):
        parse_sps(b"\x65\x00\x00\x00")


def test_clip_remuxed_by_hand_decodes_with_pyav(clip: Clip) -> None:
    video = [p for p in clip.packets if p.track == 0]
    audio = [p for p in clip.packets if p.track == 1]
    sps, pps = parameter_sets(split_annexb(video[0].data))
    info = parse_sps(sps[0])
    init = fmp4.init_segment([fmp4.VideoTrack(1, avcc_record(sps, pps), info.width,
                                              info.height), fmp4.OpusTrack(2)])
    vrun = fmp4.TrackRun(1, 0)
    for p in video:
        vrun.durations.append(p.duration)
        sample = to_avcc(split_annexb(p.data))
        vrun.sizes.append(len(sample))
        vrun.flags.append(fmp4.FLAGS_SYNC if p.keyframe else fmp4.FLAGS_NON_SYNC)
        vrun.offsets.append(0)
        vrun.data.append(sample)
    arun = fmp4.TrackRun(2, 0, [p.duration for p in audio], [len(p.data) for p in audio],
                         [fmp4.FLAGS_SYNC] * len(audio), [0] * len(audio),
                         [p.data for p in audio])
    segment = b"".join(fmp4.fragment(1, [vrun, arun]))
    assert fmp4.read_init(init) == {1: ("vide", 90_000), 2: ("soun", 48_000)}
    frags = fmp4.read_fragments(segment)
    assert len(frags) == 1 and frags[0].end == len(segment)
    assert frags[0].tracks[1] == (0, 2 * 90_000, 50, True)
    assert frags[0].tracks[2][2] == len(audio)
    # A torn tail (a crash mid-write) is ignored, whole fragments are kept.
    assert fmp4.read_fragments(segment + segment[:100]) == frags
    assert len(fmp4.read_fragments(segment + segment)) == 2
    with av.open(io.BytesIO(init + segment), "r") as c:
        vs, aus = c.streams.video[0], c.streams.audio[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (640, 360)
        frames = list(c.decode(vs))
        assert len(frames) == 50 and frames[-1].time == pytest.approx(1.96)
    with av.open(io.BytesIO(init + segment), "r") as c:
        samples = sum(int(f.samples) for f in c.decode(c.streams.audio[0]))
        assert samples == len(audio) * 960
    assert aus.codec_context.name == "opus"
