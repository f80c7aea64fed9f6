"""Tables owned by the control plane: courts, courtrooms, feeds, users, tokens, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
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
