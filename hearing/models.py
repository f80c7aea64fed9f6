"""Tables owned by `hearing/`: cases, parties, hearings, their bench, log and recording gaps;
remote sites, signatures, consultations, petitions and publications."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from control.db import Base, UTCDateTime, utcnow

CASE_STATUSES: Final = ("filed", "in_trial", "suspended", "concluded")
# Grounds on which a hearing is held in private (刑诉法 188, 民诉法 137); never broadcast.
RESTRICTIONS: Final = ("state_secret", "privacy", "minors")
PARTY_ROLES: Final = (
    "plaintiff", "defendant", "appellant", "appellee", "third_party", "defendant_in_custody",
    "victim", "defence_lawyer",
)
PARTY_KINDS: Final = ("natural", "organisation")
SEATS: Final = ("presiding", "panel", "clerk")
SITE_KINDS: Final = ("detention_centre", "prison")


class Case(Base):
    """A case as filed (立案): its number, type, cause, court and the judge and clerk on it."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_court_status", "court_code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    type_code: Mapped[str] = mapped_column(String(8))
    case_type: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(256), default="")
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"))
    presiding_judge: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="RESTRICT"), index=True
    )
    clerk: Mapped[str | None] = mapped_column(
        ForeignKey("users.username", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="filed")
    restriction: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parties: Mapped[list[Party]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Party.id"
    )
    hearings: Mapped[list[Hearing]] = relationship(back_populates="case", order_by="Hearing.id")


class Party(Base):
    """A party to a case. `id_number`, `phone` and `address` are personal data."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), index=True)
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(256))
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="parties")


class Hearing(Base):
    """One sitting of a case in a courtroom for a time window, and where it is in its life."""

    __tablename__ = "hearings"
    __table_args__ = (
        Index("ix_hearings_room_window", "room_code", "starts_at", "ends_at"),
        Index("ix_hearings_court_window", "court_code", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"))
    room_code: Mapped[str] = mapped_column(ForeignKey("courtrooms.code", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(256), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_approved_by: Mapped[str | None] = mapped_column(String(64))
    broadcast_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An arraignment: the remote site (detention centre, prison) linked to the courtroom.
    remote_site: Mapped[str | None] = mapped_column(
        ForeignKey("remote_sites.code", ondelete="RESTRICT"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="hearings")
    seats: Mapped[list[HearingSeat]] = relationship(
        back_populates="hearing", cascade="all, delete-orphan", order_by="HearingSeat.id"
    )

    def seated(self, seat: str) -> list[str]:
        return [s.username for s in self.seats if s.seat == seat]

    @property
    def presiding_judge(self) -> str:
        return self.seated("presiding")[0]

    @property
    def clerk(self) -> str:
        return self.seated("clerk")[0]

    @property
    def panel(self) -> list[str]:
        return self.seated("panel")

    @property
    def staff(self) -> frozenset[str]:
        return frozenset(s.username for s in self.seats)


class RemoteSite(Base):
    """A detention centre or prison that joins hearings by video; it holds one credential.

    Only the SHA-256 of the credential is kept: it is shown once, when issued."""

    __tablename__ = "remote_sites"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))  # detention_centre | prison
    # The court it serves; that court's hearings and those of the courts below may link it.
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"))
    credential_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    credential_issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HearingSeat(Base):
    """A person on the bench of a hearing; one row each so double-booking is one query."""

    __tablename__ = "hearing_seats"
    __table_args__ = (UniqueConstraint("hearing_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="RESTRICT"), index=True
    )
    seat: Mapped[str] = mapped_column(String(16))  # presiding | panel | clerk

    hearing: Mapped[Hearing] = relationship(back_populates="seats")


class HearingEvent(Base):
    """The hearing's own log: scheduling, every transition, explanations, alerts."""

    __tablename__ = "hearing_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # scheduled | rescheduled | transition | ...
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecordingGap(Base):
    """An interruption of recording while a hearing was live; written by the recorder.

    The hearing cannot end until the presiding judge has signed an explanation of each gap.
    """

    __tablename__ = "recording_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    feed: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(String(128), default="")
    explanation: Mapped[str | None] = mapped_column(Text)
    explained_by: Mapped[str | None] = mapped_column(String(64))
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 over the gap and the explanation as signed; the audit chain holds it too.
    signature: Mapped[str | None] = mapped_column(String(64))


PETITION_STATES: Final = ("waiting", "in_session", "ended", "left", "expired")


class Petition(Base):
    """A citizen's remote petition (远程信访/立案咨询): a place in a court's reception queue.

    The ticket is a bearer secret held only by the petitioner; only its SHA-256 is kept.
    `name`, `phone` and `id_number` are personal data, shown to the court's reception only.
    """

    __tablename__ = "petitions"
    __table_args__ = (Index("ix_petitions_court_state", "court_code", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    court_code: Mapped[str] = mapped_column(ForeignKey("courts.code", ondelete="RESTRICT"))
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    id_number: Mapped[str] = mapped_column(String(18))
    subject: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(64), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)


PUBLICATION_KINDS: Final = ("document", "recording")


class Publication(Base):
    """A document or a hearing recording approved for the public; redacted whenever shown.

    `body` holds a document as the judge wrote it: redaction runs on every public read, so
    a change of the rules applies to everything already published.
    """

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_kind_at", "kind", "approved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    hearing_id: Mapped[int | None] = mapped_column(ForeignKey("hearings.id", ondelete="RESTRICT"))
    recording_id: Mapped[int | None] = mapped_column(Integer, index=True)
    court_code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HearingSignature(Base):
    """A defendant's signature of the hearing record, drawn at the remote site."""

    __tablename__ = "hearing_signatures"
    __table_args__ = (UniqueConstraint("hearing_id", "party_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="RESTRICT"))
    site_code: Mapped[str] = mapped_column(ForeignKey("remote_sites.code", ondelete="RESTRICT"))
    record_sha256: Mapped[str] = mapped_column(String(64))
    record_text: Mapped[str] = mapped_column(Text)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    png_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")


class ConsultationCode(Base):
    """A one-time code issued to a defence lawyer; only its SHA-256 is kept."""

    __tablename__ = "consultation_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Consultation(Base):
    """One private consultation; `id` is the random part of its stream paths."""

    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    site_code: Mapped[str] = mapped_column(ForeignKey("remote_sites.code", ondelete="RESTRICT"),
                                           index=True)
    lawyer_key_sha256: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))

    def is_open(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at
