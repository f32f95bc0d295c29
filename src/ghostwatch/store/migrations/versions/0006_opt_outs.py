"""Opt-outs, per address: "please remove me" outlives the mail that said it.

docs/rules.md "Said stop, or said later": a person who asked not to be contacted is
never drafted to again, in any conversation, whatever the age of the message, until the
user lifts it (`ghostwatch unmute ADDRESS`). Kept here because the message may leave the
mailbox (deleted, archived past a look-back) while the wish stands.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("address", sa.String(), primary_key=True, nullable=False),
        sa.Column("asked_at", UTC_TIME, nullable=False),
        sa.Column("lifted_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
