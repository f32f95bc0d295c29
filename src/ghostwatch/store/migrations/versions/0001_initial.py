"""The initial schema: accounts, sync cursors, snapshots, the action ledger, digests,
conversation settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py: a migration must keep describing the
# schema of its own day after the models move on.
UTC_TIME = sa.DateTime(timezone=True)


def _account_id(primary_key: bool = True) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_cycle_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "sync_cursors",
        _account_id(),
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "conversation_snapshots",
        _account_id(),
        sa.Column("conversation", sa.String(), primary_key=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=True),
        sa.Column("snoozed_until", UTC_TIME, nullable=True),
        sa.Column("reply_in_junk", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )
    op.create_index(
        "ix_conversation_snapshots_due",
        "conversation_snapshots",
        ["account_id", "state", "due_at"],
    )
    _ledger()
    op.create_table(
        "digests",
        _account_id(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("provider_ref", sa.String(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "conversation_settings",
        _account_id(),
        sa.Column("conversation", sa.String(), primary_key=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("high_value", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )


def _ledger() -> None:
    op.create_table(
        "action_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account_id(primary_key=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("conversation", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("provider_ref", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("intended_at", UTC_TIME, nullable=False),
        sa.Column("settled_at", UTC_TIME, nullable=True),
        # The idempotency guarantee: one row per key per account, whoever inserts it.
        sa.UniqueConstraint("account_id", "key", name="uq_action_ledger_key"),
    )
    op.create_index("ix_action_ledger_status", "action_ledger", ["account_id", "status"])
    op.create_index(
        "ix_action_ledger_conversation", "action_ledger", ["account_id", "conversation"]
    )


def downgrade() -> None:
    for table in (
        "conversation_settings",
        "digests",
        "action_ledger",
        "conversation_snapshots",
        "sync_cursors",
        "accounts",
    ):
        op.drop_table(table)
