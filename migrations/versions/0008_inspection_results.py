"""inspection results

The unit that carries out an inspection plan (`inspection_plans.department_id`): its results are stored as credit
records of class `inspection_result` that it provides. Plans made before this revision keep NULL and take no results.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inspection_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_id", ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_inspection_plans_department_id"), ["department_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_inspection_plans_department_id_departments"), "departments", ["department_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection_plans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_inspection_plans_department_id_departments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_inspection_plans_department_id"))
        batch_op.drop_column("department_id")
