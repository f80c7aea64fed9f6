"""Events too large for a NOTIFY cross nodes by reference: a table of their encoded bodies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bus_payloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bus_payloads_created_at", "bus_payloads", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_bus_payloads_created_at", table_name="bus_payloads")
    op.drop_table("bus_payloads")
