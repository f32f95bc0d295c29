"""Failed cycles since the last delivered digest, per account, for the digest's notice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py (see 0001).
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Server defaults, so rows written before this revision read as "no trouble".
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("trouble_since", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("trouble_last_at", UTC_TIME, nullable=True))
        batch.add_column(
            sa.Column("trouble_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("trouble_kind", sa.String(), nullable=True))
        batch.add_column(sa.Column("trouble_message", sa.String(), nullable=True))
        batch.add_column(
            sa.Column("trouble_needs_you", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        for name in (
            "trouble_needs_you",
            "trouble_message",
            "trouble_kind",
            "trouble_failures",
            "trouble_last_at",
            "trouble_since",
        ):
            batch.drop_column(name)
