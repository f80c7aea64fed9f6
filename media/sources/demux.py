"""Opening an input with PyAV's demuxer and choosing the tracks a stream can carry.

WebRTC carries H.264 (Annex-B, no B-frames), VP8 and Opus; anything else is skipped (video
codecs other than these, AAC audio) or refused (B-frames, nothing left) with a SourceError.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import unquote, urlparse

import av
import av.container

from media.sources.source import SourceError, h264_params, profile_level_id
from media.stream import TrackInfo

logger = logging.getLogger(__name__)

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "udp", "rtp", "srt", "tcp", "rtmp", "http", "https"})
VIDEO_CODECS = {"h264": "H264", "vp8": "VP8"}
VIDEO_CLOCK = 90_000
OPUS_CLOCK = 48_000


@dataclass
class TrackMap:
    """How one demuxed stream becomes one track of the published stream."""

    index: int
    clock_rate: int
    time_base: Fraction
    bsf: av.BitStreamFilterContext | None
    h264: bool


@dataclass
class DemuxInput:
    """An open input container and the tracks chosen from it."""

    container: av.container.InputContainer
    tracks: tuple[TrackInfo, ...]
    maps: dict[int, TrackMap]  # by demuxed stream index
    origin: float | None  # seconds: the input's earliest start time

    def close(self) -> None:
        self.container.close()


def input_target(url: str) -> tuple[str, bool]:
    """What to hand FFmpeg (file:// becomes a path) and whether the input is live."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return unquote(parsed.path), False
    if parsed.scheme.lower() in LIVE_SCHEMES:
        return url, True
    return url, False  # a path (a one-letter "scheme" is a Windows drive)


def _options(url: str, rtsp_transport: str) -> dict[str, str]:
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    # Probing a live input 5 s (FFmpeg's default) only delays the picture: nothing is decoded
    # here, the codec and its SPS are all that is needed, and B-frames are caught per packet.
    probing = {"analyzeduration": "1000000"}
    if scheme in ("rtsp", "rtsps"):
        return {**probing, "rtsp_transport": rtsp_transport}
    if scheme in ("udp", "rtp"):
        # A late reader must not kill the input; a reopened socket may rebind at once.
        options = {**probing, "overrun_nonfatal": "1", "reuse": "1"}
        if parsed.hostname in ("127.0.0.1", "localhost", "::1"):
            # FFmpeg binds unicast input to every interface unless told: keep loopback local.
            options["localaddr"] = parsed.hostname
        return options
    return {}


def b_frames_error(detail: str) -> SourceError:
    """The refusal of an H.264 input with B-frames, saying what to change."""
    return SourceError(
        f"H.264 input uses B-frames ({detail}): WebRTC viewers cannot play reordered frames "
        "and courtav does not transcode. Configure the encoder without B-frames "
        "(baseline or constrained-baseline profile, bframes=0, or x264 tune=zerolatency)."
    )


def open_input(
    url: str,
    *,
    rtsp_transport: str = "tcp",
    timeout: tuple[float, float] = (5.0, 5.0),
    note: Callable[[str], None] = logger.info,
) -> DemuxInput:
    """Open `url` and choose its tracks (blocking); raises SourceError for unusable inputs."""
    target, _live = input_target(url)
    container = av.open(target, options=_options(url, rtsp_transport), timeout=timeout)
    try:
        return _select(container, note)
    except BaseException:
        container.close()
        raise


def _select(container: av.container.InputContainer, note: Callable[[str], None]) -> DemuxInput:
    tracks: list[TrackInfo] = []
    maps: dict[int, TrackMap] = {}
    starts: list[float] = []
    have_video = have_audio = False
    for stream in container.streams:
        cc = stream.codec_context
        name = cc.name if cc is not None else "unknown"
        if stream.type == "video" and not have_video:
            codec = VIDEO_CODECS.get(name)
            if codec is None:
                note(f"video codec {name} is not WebRTC-compatible: video skipped")
                continue
            bsf = None
            params: dict[str, str] = {}
            if codec == "H264":
                reorder = int(getattr(cc, "has_b_frames", 0))
                if reorder:
                    raise b_frames_error(f"has_b_frames={reorder}")
                extradata = bytes(cc.extradata or b"")
                if extradata[:1] == b"\x01":  # avcC (MP4/MKV): length-prefixed NAL units
                    bsf = av.BitStreamFilterContext("h264_mp4toannexb", stream)
                params = h264_params(profile_level_id(extradata))
            have_video = True
            tracks.append(TrackInfo("video", codec, VIDEO_CLOCK, params))
        elif stream.type == "audio" and not have_audio:
            if name != "opus":
                note(f"audio codec {name} is not WebRTC-compatible: audio skipped")
                continue
            have_audio = True
            tracks.append(TrackInfo("audio", "opus", OPUS_CLOCK))
        else:
            continue
        track = tracks[-1]
        maps[stream.index] = TrackMap(
            len(tracks) - 1,
            track.clock_rate,
            Fraction(stream.time_base or Fraction(1, 90_000)),
            bsf,
            track.codec == "H264",
        )
        if stream.start_time is not None and stream.time_base is not None:
            starts.append(float(stream.start_time * stream.time_base))
    if not tracks:
        found = ", ".join(
            f"{s.type}/{s.codec_context.name if s.codec_context else '?'}"
            for s in container.streams
        )
        raise SourceError(f"no WebRTC-compatible track (H.264, VP8, Opus) in input: {found}")
    return DemuxInput(container, tuple(tracks), maps, min(starts) if starts else None)


async def probe(
    url: str, *, rtsp_transport: str = "tcp", open_timeout: float = 5.0
) -> tuple[TrackInfo, ...]:
    """The tracks a pull from `url` would publish; raises SourceError if it would be refused."""

    def run() -> tuple[TrackInfo, ...]:
        limits = (open_timeout, open_timeout)
        inp = open_input(url, rtsp_transport=rtsp_transport, timeout=limits)
        inp.close()
        return inp.tracks

    return await asyncio.to_thread(run)
