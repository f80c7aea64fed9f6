"""Sources that publish into streams: a looped test pattern and pulled inputs (RTSP, file, UDP)."""

from media.sources.clip import Clip, PatternSpec, render_clip
from media.sources.demux import probe
from media.sources.pull import PullSource
from media.sources.source import SourceError, SourceState
from media.sources.testpattern import DEFAULT_CLIPS, ClipCache, TestPatternSource

__all__ = [
    "DEFAULT_CLIPS",
    "Clip",
    "ClipCache",
    "PatternSpec",
    "PullSource",
    "SourceError",
    "SourceState",
    "TestPatternSource",
    "probe",
    "render_clip",
]
