"""H.264 bitstream pieces an MP4 writer needs: NAL units, length prefixes, the SPS picture size."""

from __future__ import annotations

from dataclasses import dataclass

NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
START = b"\x00\x00\x01"
# Profiles whose SPS carries chroma format and bit depths (ITU-T H.264 7.3.2.1.1).
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def nal_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each NAL unit of an Annex-B access unit, start codes and the zeros of
    4-byte start codes excluded; slicing is left to the caller (a memoryview copies nothing)."""
    spans: list[tuple[int, int]] = []
    n = len(data)
    start = data.find(START)
    if start < 0:
        return [(0, n)] if n else []
    start += 3
    while start < n:  # each pass moves past one start code, so at most n/3 passes
        nxt = data.find(START, start)
        end = n if nxt < 0 else nxt
        if nxt >= 0:
            while end > start and data[end - 1] == 0:  # the leading zero of 00 00 00 01
                end -= 1
        if end > start:
            spans.append((start, end))
        if nxt < 0:
            break
        start = nxt + 3
    return spans


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B access unit (start codes and trailing zeros removed)."""
    return [data[s:e] for s, e in nal_spans(data)]


def to_avcc(nals: list[bytes]) -> bytes:
    """Length-prefixed (4-byte) NAL units, as MP4 samples carry them."""
    return b"".join([len(nal).to_bytes(4, "big") + nal for nal in nals])


def avcc_parts(data: bytes, parts: list[bytes | memoryview]) -> int:
    """Append an Annex-B access unit to `parts` as MP4 sample pieces (4-byte length, NAL
    bytes as memoryviews of `data`) without copying the payload; returns the sample size."""
    view = memoryview(data)
    size = 0
    for start, end in nal_spans(data):
        parts.append((end - start).to_bytes(4, "big"))
        parts.append(view[start:end])
        size += 4 + end - start
    return size


def leading_parameter_sets(data: bytes,
                           max_nals: int = 16) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """SPS and PPS before the first slice of an Annex-B access unit, without scanning the
    (large) slice data itself: encoders put parameter sets first."""
    sps: list[bytes] = []
    pps: list[bytes] = []
    pos = data.find(START)
    for _ in range(max_nals):
        if pos < 0 or pos + 3 >= len(data):
            break
        start = pos + 3
        kind = data[start] & 0x1F
        if 1 <= kind <= 5:  # a coded slice: no parameter sets follow it
            break
        pos = data.find(START, start)
        if kind in (NAL_SPS, NAL_PPS):
            nal = data[start:pos if pos >= 0 else len(data)].rstrip(b"\x00")
            (sps if kind == NAL_SPS else pps).append(nal)
    return tuple(sps), tuple(pps)


def parameter_sets(nals: list[bytes]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The SPS and PPS NAL units among `nals`."""
    sps = tuple(n for n in nals if n[0] & 0x1F == NAL_SPS)
    pps = tuple(n for n in nals if n[0] & 0x1F == NAL_PPS)
    return sps, pps


@dataclass(frozen=True)
class SpsInfo:
    """What the sample entry needs from a sequence parameter set."""

    profile_idc: int
    compatibility: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int


class _Bits:
    """MSB-first bit reader over an RBSP; reading past the end raises ValueError."""

    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def u(self, n: int) -> int:
        if n > self.left:
            raise ValueError("SPS truncated")
        self.left -= n
        return (self.value >> self.left) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:  # bounded: u() raises at the end of the data
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code in SPS")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def unescape(nal: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00") if b"\x00\x00\x03" in nal else nal


def parse_sps(nal: bytes) -> SpsInfo:
    """Profile, level, chroma format, bit depths and the cropped picture size of an SPS."""
    if len(nal) < 4 or nal[0] & 0x1F != NAL_SPS:
        raise ValueError("not an SPS NAL unit")
    bits = _Bits(unescape(nal[1:]))
    profile, compat, level = bits.u(8), bits.u(8), bits.u(8)
    bits.ue()  # seq_parameter_set_id
    chroma, depth_luma, depth_chroma, separate = 1, 8, 8, 0
    if profile in HIGH_PROFILES:
        chroma = bits.ue()
        if chroma == 3:
            separate = bits.u(1)
        depth_luma, depth_chroma = bits.ue() + 8, bits.ue() + 8
        bits.u(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1)
        bits.se()
        bits.se()
        for _ in range(min(bits.ue(), 255)):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
    frame_mbs_only = bits.u(1)
    if not frame_mbs_only:
        bits.u(1)  # mb_adaptive_frame_field_flag
    bits.u(1)  # direct_8x8_inference_flag
    crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.u(1) else (0, 0, 0, 0)
    array_type = 0 if separate else chroma
    if array_type == 0:
        unit_x, unit_y = 1, 2 - frame_mbs_only
    else:
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0:
        raise ValueError("SPS gives an empty picture")
    return SpsInfo(profile, compat, level, chroma, depth_luma, depth_chroma, width, height)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last, nxt = 8, 8
    for _ in range(size):
        if nxt:
            nxt = (last + bits.se() + 256) % 256
        last = nxt or last


def avcc_record(sps: tuple[bytes, ...], pps: tuple[bytes, ...]) -> bytes:
    """The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) for these parameter sets."""
    if not sps or not pps:
        raise ValueError("an avcC needs at least one SPS and one PPS")
    info = parse_sps(sps[0])
    out = bytearray([1, info.profile_idc, info.compatibility, info.level_idc, 0xFF,
                     0xE0 | len(sps)])
    for nal in sps:
        out += len(nal).to_bytes(2, "big") + nal
    out.append(len(pps))
    for nal in pps:
        out += len(nal).to_bytes(2, "big") + nal
    if info.profile_idc in (100, 110, 122, 144):
        out += bytes([0xFC | info.chroma_format_idc, 0xF8 | (info.bit_depth_luma - 8),
                      0xF8 | (info.bit_depth_chroma - 8), 0])
    return bytes(out)


def codec_string(sps: bytes) -> str:
    """RFC 6381 codec name, e.g. `avc1.42c01e`."""
    return f"avc1.{sps[1:4].hex()}"
