"""The schema of commit 8c4bd28, the last one made by `create_all` before versions.

The tables are written out here (not taken from the models, which move on) so this revision
stays what it was. It also adopts a database that `create_all` made before versions: the tables
it lacks are created and the nullable columns it lacks are added (a database made before commit
7eb33aa has no `hearings.remote_site`), with their indexes; what it has is left as it is.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("control.migrate")

SCHEMA = sa.MetaData()

sa.Table(
    "alerts",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("court", sa.String(length=16), nullable=False),
    sa.Column("room", sa.String(length=24), nullable=False),
    sa.Column("feed", sa.String(length=16), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("severity", sa.String(length=16), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("detail", sa.String(length=256), nullable=False),
    sa.Column("escalated", sa.Boolean(), nullable=False),
    sa.Column("reopened", sa.Integer(), nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acked_by", sa.String(length=64), nullable=True),
    sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ack_comment", sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_alerts_court_raised", "court", "raised_at"),
    sa.Index("ix_alerts_kind", "kind"),
    sa.Index("ix_alerts_state", "state"),
    sa.Index(
        "uq_alerts_open",
        "room",
        "feed",
        "kind",
        unique=True,
        sqlite_where=sa.text("cleared_at IS NULL"),
        postgresql_where=sa.text("cleared_at IS NULL"),
    ),
)

sa.Table(
    "audit_events",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(length=64), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("court", sa.String(length=16), nullable=True),
    sa.Column("action", sa.String(length=48), nullable=False),
    sa.Column("target", sa.String(length=160), nullable=False),
    sa.Column("address", sa.String(length=64), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.Column("prev_hash", sa.String(length=64), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_audit_court_at", "court", "at"),
    sa.Index("ix_audit_events_action", "action"),
    sa.Index("ix_audit_events_at", "at"),
)

sa.Table(
    "courts",
    SCHEMA,
    sa.Column("code", sa.String(length=16), nullable=False),
    sa.Column("parent_code", sa.String(length=16), nullable=True),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("case_prefix", sa.String(length=16), nullable=False),
    sa.Column("name_zh", sa.String(length=128), nullable=False),
    sa.Column("name_en", sa.String(length=160), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["parent_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("code"),
    sa.Index("ix_courts_parent_code", "parent_code"),
)

sa.Table(
    "recordings",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("room", sa.String(length=24), nullable=False),
    sa.Column("feed", sa.String(length=16), nullable=False),
    sa.Column("court", sa.String(length=16), nullable=False),
    sa.Column("stream_path", sa.String(length=80), nullable=False),
    sa.Column("hearing_ref", sa.String(length=64), nullable=True),
    sa.Column("directory", sa.String(length=200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("state", sa.String(length=12), nullable=False),
    sa.Column("legal_hold", sa.Boolean(), nullable=False),
    sa.Column("started_by", sa.String(length=64), nullable=False),
    sa.Column("detail", sa.String(length=256), nullable=False),
    sa.Column("segment_count", sa.Integer(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("head_sha256", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_recordings_court_started", "court", "started_at"),
    sa.Index("ix_recordings_hearing_ref", "hearing_ref"),
    sa.Index("ix_recordings_room_started", "room", "started_at"),
    sa.Index("ix_recordings_started", "started_at"),
)

sa.Table(
    "courtrooms",
    SCHEMA,
    sa.Column("code", sa.String(length=24), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("name_zh", sa.String(length=64), nullable=False),
    sa.Column("name_en", sa.String(length=96), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("code"),
    sa.Index("ix_courtrooms_court_code", "court_code"),
)

sa.Table(
    "petitions",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("ticket_hash", sa.String(length=64), nullable=False),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("phone", sa.String(length=20), nullable=False),
    sa.Column("id_number", sa.String(length=18), nullable=False),
    sa.Column("subject", sa.String(length=500), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("address", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("accepted_by", sa.String(length=64), nullable=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_by", sa.String(length=64), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("outcome", sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ticket_hash"),
    sa.Index("ix_petitions_accepted_by", "accepted_by"),
    sa.Index("ix_petitions_court_state", "court_code", "state", "id"),
    sa.Index("ix_petitions_phone", "phone"),
)

sa.Table(
    "recording_exports",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("recording_id", sa.Integer(), nullable=False),
    sa.Column("requested_by", sa.String(length=64), nullable=False),
    sa.Column("reason", sa.String(length=500), nullable=False),
    sa.Column("from_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("to_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("state", sa.String(length=12), nullable=False),
    sa.Column("percent", sa.Integer(), nullable=False),
    sa.Column("segments", sa.Integer(), nullable=False),
    sa.Column("omitted", sa.JSON(), nullable=False),
    sa.Column("file_name", sa.String(length=64), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=True),
    sa.Column("detail", sa.String(length=256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_exports_recording", "recording_id", "id"),
)

sa.Table(
    "recording_markers",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("recording_id", sa.Integer(), nullable=True),
    sa.Column("hearing_ref", sa.String(length=64), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("text", sa.String(length=500), nullable=False),
    sa.Column("author", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_markers_kind_at", "kind", "at"),
    sa.Index("ix_markers_recording_at", "recording_id", "at"),
    sa.Index("ix_recording_markers_hearing_ref", "hearing_ref"),
)

sa.Table(
    "recording_portions",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("recording_id", sa.Integer(), nullable=False),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("level", sa.String(length=16), nullable=False),
    sa.Column("reason", sa.String(length=500), nullable=False),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_portions_recording_start", "recording_id", "start_at"),
)

sa.Table(
    "recording_retention_flags",
    SCHEMA,
    sa.Column("recording_id", sa.Integer(), nullable=False),
    sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("problem", sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("recording_id"),
)

sa.Table(
    "recording_segments",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("recording_id", sa.Integer(), nullable=False),
    sa.Column("sequence", sa.Integer(), nullable=False),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration", sa.Float(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("prev_sha256", sa.String(length=64), nullable=False),
    sa.Column("path", sa.String(length=240), nullable=False),
    sa.Column("init_name", sa.String(length=32), nullable=False),
    sa.Column("init_sha256", sa.String(length=64), nullable=True),
    sa.Column("audio_dbfs", sa.Float(), nullable=True),
    sa.Column("motion", sa.Float(), nullable=True),
    sa.Column("missing", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("recording_id", "sequence", name="uq_segment_sequence"),
    sa.Index("ix_segments_recording_start", "recording_id", "start_at"),
)

sa.Table(
    "remote_sites",
    SCHEMA,
    sa.Column("code", sa.String(length=24), nullable=False),
    sa.Column("name", sa.String(length=128), nullable=False),
    sa.Column("kind", sa.String(length=24), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("credential_sha256", sa.String(length=64), nullable=False),
    sa.Column("credential_issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("code"),
    sa.UniqueConstraint("credential_sha256"),
)

sa.Table(
    "users",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=True),
    sa.Column("display_name", sa.String(length=128), nullable=False),
    sa.Column("password_hash", sa.String(length=256), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("username"),
)

sa.Table(
    "walls",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("court", sa.String(length=16), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("tiles", sa.JSON(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["court"], ["courts.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_walls_court", "court"),
)

sa.Table(
    "auth_tokens",
    SCHEMA,
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("address", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("token_hash"),
    sa.Index("ix_auth_tokens_expires_at", "expires_at"),
    sa.Index("ix_auth_tokens_user_id", "user_id"),
)

sa.Table(
    "cases",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("number", sa.String(length=40), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("type_code", sa.String(length=8), nullable=False),
    sa.Column("case_type", sa.String(length=16), nullable=False),
    sa.Column("cause", sa.String(length=256), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("presiding_judge", sa.String(length=64), nullable=True),
    sa.Column("clerk", sa.String(length=64), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("restriction", sa.String(length=16), nullable=True),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["clerk"], ["users.username"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["presiding_judge"], ["users.username"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("number"),
    sa.Index("ix_cases_clerk", "clerk"),
    sa.Index("ix_cases_court_status", "court_code", "status"),
    sa.Index("ix_cases_presiding_judge", "presiding_judge"),
)

sa.Table(
    "feeds",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("room_code", sa.String(length=24), nullable=False),
    sa.Column("name", sa.String(length=16), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["room_code"], ["courtrooms.code"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("room_code", "name"),
)

sa.Table(
    "wall_layouts",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("tiles", sa.JSON(), nullable=False),
    sa.Column("tour", sa.JSON(), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("user_id", "name"),
    sa.Index("ix_wall_layouts_user_id", "user_id"),
)

sa.Table(
    "hearings",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("case_id", sa.Integer(), nullable=False),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("room_code", sa.String(length=24), nullable=False),
    sa.Column("title", sa.String(length=256), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("public", sa.Boolean(), nullable=False),
    sa.Column("broadcast_approved", sa.Boolean(), nullable=False),
    sa.Column("broadcast_approved_by", sa.String(length=64), nullable=True),
    sa.Column("broadcast_approved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("remote_site", sa.String(length=24), nullable=True),
    sa.Column("created_by", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["court_code"], ["courts.code"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["remote_site"], ["remote_sites.code"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["room_code"], ["courtrooms.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_hearings_case_id", "case_id"),
    sa.Index("ix_hearings_court_window", "court_code", "starts_at"),
    sa.Index("ix_hearings_remote_site", "remote_site"),
    sa.Index("ix_hearings_room_window", "room_code", "starts_at", "ends_at"),
    sa.Index("ix_hearings_state", "state"),
)

sa.Table(
    "parties",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("case_id", sa.Integer(), nullable=False),
    sa.Column("role", sa.String(length=24), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("name", sa.String(length=128), nullable=False),
    sa.Column("id_number", sa.String(length=32), nullable=True),
    sa.Column("phone", sa.String(length=32), nullable=True),
    sa.Column("address", sa.String(length=256), nullable=True),
    sa.Column("minor", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_parties_case_id", "case_id"),
    sa.Index("ix_parties_name", "name"),
)

sa.Table(
    "consultation_codes",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("party_id", sa.Integer(), nullable=False),
    sa.Column("code_sha256", sa.String(length=64), nullable=False),
    sa.Column("issued_by", sa.String(length=64), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["party_id"], ["parties.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code_sha256"),
    sa.Index("ix_consultation_codes_hearing_id", "hearing_id"),
)

sa.Table(
    "consultations",
    SCHEMA,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("party_id", sa.Integer(), nullable=False),
    sa.Column("site_code", sa.String(length=24), nullable=False),
    sa.Column("lawyer_key_sha256", sa.String(length=64), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_by", sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["party_id"], ["parties.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["site_code"], ["remote_sites.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_consultations_hearing_id", "hearing_id"),
    sa.Index("ix_consultations_site_code", "site_code"),
)

sa.Table(
    "hearing_events",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("from_state", sa.String(length=16), nullable=True),
    sa.Column("to_state", sa.String(length=16), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_hearing_events_hearing_id", "hearing_id"),
)

sa.Table(
    "hearing_seats",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("seat", sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("hearing_id", "username"),
    sa.Index("ix_hearing_seats_username", "username"),
)

sa.Table(
    "hearing_signatures",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("party_id", sa.Integer(), nullable=False),
    sa.Column("site_code", sa.String(length=24), nullable=False),
    sa.Column("record_sha256", sa.String(length=64), nullable=False),
    sa.Column("record_text", sa.Text(), nullable=False),
    sa.Column("png", sa.LargeBinary(), nullable=False),
    sa.Column("png_sha256", sa.String(length=64), nullable=False),
    sa.Column("width", sa.Integer(), nullable=False),
    sa.Column("height", sa.Integer(), nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("address", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["party_id"], ["parties.id"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["site_code"], ["remote_sites.code"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("hearing_id", "party_id"),
    sa.Index("ix_hearing_signatures_hearing_id", "hearing_id"),
)

sa.Table(
    "publications",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("case_id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=True),
    sa.Column("recording_id", sa.Integer(), nullable=True),
    sa.Column("court_code", sa.String(length=16), nullable=False),
    sa.Column("title", sa.String(length=256), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("approved_by", sa.String(length=64), nullable=False),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_publications_case_id", "case_id"),
    sa.Index("ix_publications_kind_at", "kind", "approved_at"),
    sa.Index("ix_publications_recording_id", "recording_id"),
)

sa.Table(
    "recording_gaps",
    SCHEMA,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("hearing_id", sa.Integer(), nullable=False),
    sa.Column("feed", sa.String(length=16), nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("cause", sa.String(length=128), nullable=False),
    sa.Column("explanation", sa.Text(), nullable=True),
    sa.Column("explained_by", sa.String(length=64), nullable=True),
    sa.Column("explained_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("signature", sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(["hearing_id"], ["hearings.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_recording_gaps_hearing_id", "hearing_id"),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in SCHEMA.sorted_tables:
        if table.name not in existing:
            table.create(bind)
            if existing & set(SCHEMA.tables):
                log.info("created the missing table %s", table.name)
            continue
        _add_missing_columns(inspector, table)


def _add_missing_columns(inspector: sa.Inspector, table: sa.Table) -> None:
    """Adopting a database made before versions: add what an older `create_all` lacked."""
    have = {c["name"] for c in inspector.get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in have]
    if not missing:
        return
    for column in missing:
        if not column.nullable:
            raise RuntimeError(
                f"cannot add the required column {table.name}.{column.name} to an existing table"
            )
    indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
    names = {c.name for c in missing}
    with op.batch_alter_table(table.name) as batch:
        for column in missing:
            batch.add_column(column._copy())
            log.info("added the missing column %s.%s", table.name, column.name)
            for fk in column.foreign_keys:  # not added with the column; SQLite wants a name
                batch.create_foreign_key(f"fk_{table.name}_{column.name}",
                                         fk.column.table.name, [column.name], [fk.column.name],
                                         ondelete=fk.ondelete)
    for index in table.indexes:
        if index.name not in indexes and names & {c.name for c in index.columns}:
            index.create(op.get_bind())
            log.info("created the missing index %s", index.name)


def downgrade() -> None:
    SCHEMA.drop_all(op.get_bind())
