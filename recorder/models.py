"""The hearing index: recordings, their segments (a hash chain) and the markers along them;
sealed or confidential portions, export jobs and retention flags."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from control.db import Base, UTCDateTime, utcnow

RECORDING_STATES: Final = ("recording", "closed", "failed")
MARKER_KINDS: Final = (
    "opened", "recess", "resumed", "closed", "bookmark", "speaker", "alert", "gap",
)
PORTION_LEVELS: Final = ("confidential", "sealed")
EXPORT_STATES: Final = ("queued", "running", "done", "failed")
GENESIS: Final = "0" * 64
"""The `prev_sha256` of a recording's first segment."""


class Recording(Base):
    """One continuous recording of one feed of one courtroom."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_court_started", "court", "started_at"),
        Index("ix_recordings_room_started", "room", "started_at"),
        Index("ix_recordings_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(24))
    feed: Mapped[str] = mapped_column(String(16))
    court: Mapped[str] = mapped_column(String(16))
    stream_path: Mapped[str] = mapped_column(String(80))
    hearing_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # The case type (e.g. "criminal") that sets how long retention keeps the recording.
    retention_class: Mapped[str | None] = mapped_column(String(32))
    # Folder of the segments, relative to the recordings root (fixed at start).
    directory: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="recording")
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    started_by: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(256), default="")
    # Running totals and the newest link of the chain: a truncated chain shows up here.
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    head_sha256: Mapped[str] = mapped_column(String(64), default=GENESIS)


class Segment(Base):
    """One closed media segment file; `prev_sha256` links it to the one before."""

    __tablename__ = "recording_segments"
    __table_args__ = (
        UniqueConstraint("recording_id", "sequence", name="uq_segment_sequence"),
        Index("ix_segments_recording_start", "recording_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[float] = mapped_column(Float)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the recordings root, e.g. HL0102/HL0102-01/2024-05-01/7/main/000003.m4s
    path: Mapped[str] = mapped_column(String(240))
    init_name: Mapped[str] = mapped_column(String(32))
    # Set on the first segment that uses a new init file, so the init is chained too.
    init_sha256: Mapped[str | None] = mapped_column(String(64))
    audio_dbfs: Mapped[float | None] = mapped_column(Float)
    motion: Mapped[float | None] = mapped_column(Float)
    missing: Mapped[bool] = mapped_column(Boolean, default=False)


class Marker(Base):
    """Something that happened during a hearing, at a wall-clock time."""

    __tablename__ = "recording_markers"
    __table_args__ = (
        Index("ix_markers_recording_at", "recording_id", "at"),
        Index("ix_markers_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE")
    )
    hearing_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(500), default="")
    author: Mapped[str] = mapped_column(String(64), default="")


class Portion(Base):
    """A time range of a recording withheld from those not entitled to it (see portions.py)."""

    __tablename__ = "recording_portions"
    __table_args__ = (Index("ix_portions_recording_start", "recording_id", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(16))  # one of PORTION_LEVELS
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportJob(Base):
    """One export of a time range of a recording into a single MP4 file (see exports.py)."""

    __tablename__ = "recording_exports"
    __table_args__ = (Index("ix_exports_recording", "recording_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    # The range asked for, and the one the file covers (it starts on a keyframe).
    from_at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # one of EXPORT_STATES
    percent: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    # Sequences left out of the file (withheld portions, missing files).
    omitted: Mapped[list[int]] = mapped_column(JSON, default=list)
    file_name: Mapped[str] = mapped_column(String(64), default="")
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RetentionFlag(Base):
    """A recording past its retention that was kept because its hash chain did not verify."""

    __tablename__ = "recording_retention_flags"

    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    problem: Mapped[str] = mapped_column(String(256), default="")
