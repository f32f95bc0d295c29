"""Leases: which replica polls which account, on a shared PostgreSQL (docs/scaling.md).

`leases` holds one row per account name: the replica holding it, until when, and a
generation that grows with every change of hands (the fencing token every action's
transaction checks, store/leases.py). `lease_holders` holds one row per live replica,
renewed with its leases: how many share the accounts, so each takes its fair share.
A SQLite database has one process and never writes these tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("account", sa.String(), primary_key=True, nullable=False),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("generation", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("expires_at", UTC_TIME, nullable=True),
    )
    op.create_table(
        "lease_holders",
        sa.Column("holder", sa.String(), primary_key=True, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lease_holders")
    op.drop_table("leases")
