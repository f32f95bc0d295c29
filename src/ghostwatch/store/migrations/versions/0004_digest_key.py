"""A random part, per account, in the digest's Message-ID, so nobody can plant today's.

The digest's Message-ID is how a cycle finds a digest whose delivery answer was lost.
Made only of the account's row id, its domain and the day, anyone could write a message
carrying tomorrow's id and have it counted as delivered. The key is made the first time
it is asked for (`Tx.digest_key`), never shown, and kept for as long as the account.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("digest_key", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("digest_key")
