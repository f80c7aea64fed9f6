"""The shared stream directory: which node holds each live stream.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_streams",
        sa.Column("path", sa.String(length=256), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )
    op.create_index(op.f("ix_live_streams_node_id"), "live_streams", ["node_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_live_streams_node_id"), table_name="live_streams")
    op.drop_table("live_streams")
