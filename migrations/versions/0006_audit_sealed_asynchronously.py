"""audit sealed asynchronously

Audit events are inserted unchained in the writer's transaction (no lock on the request path) and chained later
by `xinyong.core.audit.seal`, so seq, prev_hash and hash are empty until an event is sealed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column("seq", existing_type=sa.BIGINT(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.VARCHAR(length=64), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.BIGINT(), nullable=False)
        batch_op.drop_column("sealed_at")
