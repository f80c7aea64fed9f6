"""Tables owned by the control plane: courts, courtrooms, feeds, users, tokens, audit,
alerts, walls and the province's nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from control.db import Base, UTCDateTime, utcnow


class Court(Base):
    """A people's court; the tree is held by `parent_code`."""

    __tablename__ = "courts"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("courts.code", ondelete="RESTRICT"), index=True
    )
    level: Mapped[str] = mapped_column(String(16))
    case_prefix: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(160))
    position: Mapped[int] = mapped_column(Integer, default=0)

    rooms: Mapped[list[Courtroom]] = relationship(back_populates="court")


class Courtroom(Base):
    """A tech courtroom with cameras and microphones."""

    __tablename__ = "courtrooms"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    court_code: Mapped[str] = mapped_column(
        ForeignKey("courts.code", ondelete="RESTRICT"), index=True
    )
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(96))
    position: Mapped[int] = mapped_column(Integer, default=0)

    court: Mapped[Court] = relationship(back_populates="rooms")
    feeds: Mapped[list[Feed]] = relationship(
        back_populates="room", cascade="all, delete-orphan", order_by="Feed.position"
    )


class Feed(Base):
    """One camera/microphone feed of a courtroom, e.g. `main` or `sub`."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("room_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("courtrooms.code", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)

    room: Mapped[Courtroom] = relationship(back_populates="feeds")


class User(Base):
    """A staff account; the password is stored as a scrypt hash only."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    court_code: Mapped[str | None] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthToken(Base):
    """A bearer token, kept only as its SHA-256 so a leaked table grants nothing."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")


class AuditEvent(Base):
    """Append-only record of who did what; each row carries its predecessor's hash."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_court_at", "court", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    court: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str] = mapped_column(String(160), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Alert(Base):
    """A health alert of a room (feed "" when it concerns the whole room)."""

    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per room, feed and kind, also across nodes.
        Index("uq_alerts_open", "room", "feed", "kind", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
        Index("ix_alerts_court_raised", "court", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    court: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(24))
    feed: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    source: Mapped[str] = mapped_column(String(16), default="probe")
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(256), default="")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(64))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_comment: Mapped[str] = mapped_column(String(500), default="")


class WallLayout(Base):
    """A personal wall layout, saved by name for one user."""

    __tablename__ = "wall_layouts"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    tiles: Mapped[list[Any]] = mapped_column(JSON)
    tour: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SharedWall(Base):
    """A wall of a court that several screens show and several operators feed."""

    __tablename__ = "walls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    court: Mapped[str] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    tiles: Mapped[list[Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Node(Base):
    """A `courtav serve` process of the province: its address, last heartbeat and load."""

    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16), default="alive")  # alive | dead | stopped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    load: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LiveStream(Base):
    """A stream live now on a node of the province: the shared stream directory (path -> node)."""

    __tablename__ = "live_streams"

    path: Mapped[str] = mapped_column(String(256), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BusPayload(Base):
    """An event too large for a NOTIFY, sent across nodes by reference; kept about a minute."""

    __tablename__ = "bus_payloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LimitHit(Base):
    """One counted attempt of a shared rate limit (`name`: login, petition address or phone),
    alive until `expires_at`; every node counts the same rows."""

    __tablename__ = "limit_hits"
    __table_args__ = (Index("ix_limit_hits_key", "name", "key", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Lease(Base):
    """A duty that one node at a time holds (e.g. the retention run) until `expires_at`."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
