"""The test-pattern clip: decodable, right size and count, keyframes on the GOP grid."""

from __future__ import annotations

import av
import pytest

from media.sources import PatternSpec, render_clip
from media.sources.clip import OPUS_FRAME, VIDEO_CLOCK
from media.sources.source import ascii_label, profile_level_id


@pytest.mark.parametrize("codec", ["H264", "VP8"])
def test_clip_decodes_to_frames_of_the_right_size_and_count(codec):
    spec = PatternSpec("Daoli Court Room 3", codec=codec)
    clip = render_clip(spec)
    video = [p for p in clip.packets if p.track == 0]
    ctx = av.CodecContext.create("h264" if codec == "H264" else "vp8", "r")
    frames = [f for p in video for f in ctx.decode(av.Packet(p.data))] + list(ctx.decode(None))
    assert len(video) == len(frames) == spec.fps * spec.duration_s
    assert {(f.width, f.height) for f in frames} == {(640, 360)}
    # Keyframes exactly every gop_s seconds, starting the clip.
    keys = [p.pts for p in video if p.keyframe]
    assert keys == [i * spec.gop_s * VIDEO_CLOCK for i in range(spec.duration_s // spec.gop_s)]
    assert clip.tracks[0].codec == codec and clip.tracks[0].clock_rate == VIDEO_CLOCK
    assert clip.encode_s < 2.0  # "well under a second" on an idle machine; slack for CI


def test_audio_is_opus_at_48k_one_packet_per_20ms():
    clip = render_clip(PatternSpec("Room"))
    audio = [p for p in clip.packets if p.track == 1]
    assert clip.tracks[1].codec == "opus" and clip.tracks[1].clock_rate == 48000
    assert [p.pts for p in audio] == [i * OPUS_FRAME for i in range(200)]
    ctx = av.CodecContext.create("opus", "r")
    samples = sum(f.samples for p in audio for f in ctx.decode(av.Packet(p.data)))
    assert samples == 4 * 48000


def test_h264_is_constrained_baseline_with_sps_before_every_idr():
    clip = render_clip(PatternSpec("Room", gop_s=1))
    params = clip.tracks[0].params
    assert params["packetization-mode"] == "1"
    profile = int(params["profile-level-id"][:2], 16)
    constraints = int(params["profile-level-id"][2:4], 16)
    assert profile == 66 and constraints & 0x40  # baseline with constraint_set1: constrained
    for key in (p for p in clip.packets if p.track == 0 and p.keyframe):
        assert key.data.startswith(b"\x00\x00\x00\x01") or key.data.startswith(b"\x00\x00\x01")
        # A late joiner decodes from this keyframe alone: SPS/PPS travel in-band.
        fresh = av.CodecContext.create("h264", "r")
        assert fresh.decode(av.Packet(key.data)) or fresh.decode(None)
    # No B-frames: decode order is presentation order.
    pts = [p.pts for p in clip.packets if p.track == 0]
    assert pts == sorted(pts)


def test_packets_are_in_send_order_and_a_keyframe_opens_the_clip():
    clip = render_clip(PatternSpec("Room", width=320, height=180, fps=10, duration_s=2))
    dues = [p.due for p in clip.packets]
    assert dues == sorted(dues)
    assert clip.packets[0].track == 0 and clip.packets[0].keyframe
    assert clip.loop_ticks == (2 * VIDEO_CLOCK, 2 * 48000)


def test_spec_is_validated():
    with pytest.raises(ValueError, match="GOP"):
        PatternSpec("Room", duration_s=3, gop_s=2)
    with pytest.raises(ValueError, match="even"):
        PatternSpec("Room", width=641)
    with pytest.raises(ValueError, match="codec"):
        PatternSpec("Room", codec="HEVC")  # type: ignore[arg-type]


def test_names_cv2_cannot_draw_fall_back_to_ascii():
    assert ascii_label("道里区法院 Room 3", "x") == "Room 3"
    assert ascii_label("道里区法院", "HL0102-03") == "HL0102-03"
    render_clip(PatternSpec("第三法庭", width=160, height=96, duration_s=1, gop_s=1))


def test_profile_level_id_reads_avcc_and_annex_b():
    assert profile_level_id(bytes.fromhex("0142c01effe1")) == "42c01e"
    assert profile_level_id(bytes.fromhex("000000016764001f") + b"\x00" * 8) == "64001f"
    assert profile_level_id(b"\x00\x00\x01\x65\x88") is None
