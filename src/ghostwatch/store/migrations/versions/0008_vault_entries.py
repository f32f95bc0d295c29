"""The token vault in the database, for replicas on a shared PostgreSQL.

One row per vault entry: its name and the very Fernet token its file held (encrypted
with the vault's key, bound to its name: vault/tokens.py). Replicas then need only the
database URL and the key, never a shared volume; `ghostwatch db import-vault` copies
the files in. A SQLite install keeps its files and never writes this table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_entries",
        sa.Column("name", sa.String(), primary_key=True, nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vault_entries")
