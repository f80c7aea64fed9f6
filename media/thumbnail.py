"""Decode one cached keyframe to a JPEG: the only picture decode the media plane does."""

from __future__ import annotations

from typing import cast

import av
import cv2
import numpy as np
from av.video.codeccontext import VideoCodecContext

from .stream import TrackInfo

_DECODERS = {"h264": "h264", "vp8": "vp8"}


def keyframe_to_jpeg(
    packet: av.Packet, track: TrackInfo, *, max_width: int = 640, quality: int = 80
) -> bytes | None:
    """JPEG bytes of a keyframe packet (H.264 Annex-B with in-band SPS/PPS, or VP8), scaled
    down to `max_width`; None if it does not decode. Callers cache the result."""
    name = _DECODERS.get(track.codec.lower())
    if name is None:
        return None
    codec = cast(VideoCodecContext, av.CodecContext.create(name, "r"))
    try:
        frames = list(codec.decode(av.Packet(bytes(packet))))
        frames += list(codec.decode(None))  # flush: a lone packet may be held back
    except av.FFmpegError:
        return None
    if not frames:
        return None
    frame = frames[0]
    width, height = frame.width, frame.height
    if width > max_width:
        height = max(2, round(height * max_width / width) // 2 * 2)
        width = max_width
    image: np.ndarray = frame.to_ndarray(format="bgr24", width=width, height=height)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return jpeg.tobytes() if ok else None
