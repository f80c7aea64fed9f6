"""Recordings carry their retention class (the case type that sets how long they are kept).

The class (e.g. "criminal") is stored when recording starts instead of looked up at every
retention run. Existing recordings of a hearing (`hearing_ref` "hearing:<id>") take the type
of that hearing's case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("retention_class", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE recordings SET retention_class = ("
        " SELECT c.case_type FROM hearings h JOIN cases c ON c.id = h.case_id"
        " WHERE recordings.hearing_ref = 'hearing:' || CAST(h.id AS TEXT))"
        " WHERE hearing_ref LIKE 'hearing:%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("retention_class")
