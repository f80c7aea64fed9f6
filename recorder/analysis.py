"""Low-rate looks at recorded media: one audio level and one motion score per segment.

Only half a second of audio and one keyframe per segment are decoded, on a worker thread. For
720p that is a few milliseconds per segment, more than the remux itself (see
benchmarks/record.py), which is why a recorder can be run with `analyze=False`.
"""

from __future__ import annotations

import logging
import math

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

MOTION_SIZE = (64, 36)  # keyframes are compared as tiny grey thumbnails
SILENCE_DBFS = -120.0
# 8-bit planar formats whose first plane is luma.
LUMA_FIRST = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                        "nv12", "nv21"})


class SegmentAnalyzer:
    """Audio level (dBFS) and motion (0..1 vs the previous segment's keyframe) of segments.

    Holds its decoders; use from one thread at a time (the recorder's writes are sequential).
    """

    def __init__(self) -> None:
        self._video: av.VideoCodecContext | None = None
        self._audio: av.AudioCodecContext | None = None
        self._last_thumb: np.ndarray | None = None

    def audio_dbfs(self, packets: list[bytes]) -> float | None:
        """RMS level of the decoded Opus packets, in dBFS; None when nothing decodes."""
        if not packets:
            return None
        if self._audio is None:
            cc = av.CodecContext.create("opus", "r")
            assert isinstance(cc, av.AudioCodecContext)
            cc.sample_rate = 48_000
            self._audio = cc
        total, count = 0.0, 0
        for data in packets:
            try:
                frames = self._audio.decode(av.Packet(data))
            except av.FFmpegError:
                continue
            for frame in frames:
                pcm = frame.to_ndarray().ravel()
                if pcm.dtype == np.int16:
                    pcm = pcm.astype(np.float32) * (1 / 32768)
                total += float(np.dot(pcm, pcm))  # the sum of squares, no temporaries
                count += pcm.size
        if count == 0:
            return None
        rms = math.sqrt(total / count)
        return round(max(SILENCE_DBFS, 20 * math.log10(rms)) if rms > 0 else SILENCE_DBFS, 1)

    def motion(self, keyframe: bytes | None) -> float | None:
        """Mean absolute difference (0..1) between this keyframe and the previous one."""
        if keyframe is None:
            return None
        if self._video is None:
            cc = av.CodecContext.create("h264", "r")
            assert isinstance(cc, av.VideoCodecContext)
            cc.thread_count = 1
            # One keyframe in, its picture out: no waiting for reordering that never comes.
            cc.flags |= av.codec.context.Flags.low_delay
            # A 64x36 thumbnail does not need the deblocking filter: ~30% of the decode.
            cc.options = {"skip_loop_filter": "all"}
            self._video = cc
        try:
            frames = self._video.decode(av.Packet(keyframe))
        except av.FFmpegError:
            log.debug("keyframe did not decode", exc_info=True)
            return None
        if not frames:
            return None
        frame = frames[-1]
        grey: np.ndarray
        if frame.format.name in LUMA_FIRST:
            # The luma plane is the grey picture: read it in place, no colour conversion.
            plane = frame.planes[0]
            grey = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
            grey = grey[:, :plane.width]
        else:
            grey = frame.to_ndarray(format="gray")
        thumb = cv2.resize(grey, MOTION_SIZE, interpolation=cv2.INTER_AREA)
        previous, self._last_thumb = self._last_thumb, thumb
        if previous is None:
            return 0.0
        diff = cv2.absdiff(thumb, previous)
        return round(float(diff.mean()) / 255.0, 4)
