"""The ledger keeps a digest of what each draft said when ghostwatch wrote it.

A ghostwatch draft whose conversation stops needing it (a reply, a bounce, a mute, a
snooze) is withdrawn — but only when it is exactly as written: the digest
(`mail/fingerprint.py`) of the draft in the mailbox must equal the one kept here. A draft
written before this column has none, so it is never deleted, only listed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_ledger") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_ledger") as batch:
        batch.drop_column("fingerprint")
