"""evaluation and supervision

Evaluation runs and their per-subject results (history kept); inspection plans and their draws.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("versions", JSON, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("grade_counts", JSON, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_runs_model"), ["model"], unique=False)

    op.create_table(
        "evaluation_results",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("contributions", JSON, nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_results_run_id_evaluation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_results_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_results")),
    )
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_results_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_evaluation_results_subject_run", ["subject_id", "run_id"], unique=False)

    op.create_table(
        "inspection_plans",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", JSON, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("ratios", JSON, nullable=False),
        sa.Column("inspectors", JSON, nullable=False),
        sa.Column("evaluation_run_id", ID, nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("eligible", JSON, nullable=True),
        sa.Column("drawn_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_inspection_plans_evaluation_run_id_evaluation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
    )
    op.create_table(
        "inspection_draws",
        sa.Column("plan_id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("inspector", sa.String(length=100), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_draws_plan_id_inspection_plans")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_inspection_draws_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
        sa.UniqueConstraint("plan_id", "subject_id", name=op.f("uq_inspection_draws_plan_id_subject_id")),
    )
    with op.batch_alter_table("inspection_draws", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_draws_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inspection_draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_draws_plan_id"))
    op.drop_table("inspection_draws")
    op.drop_table("inspection_plans")
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_results_subject_run")
        batch_op.drop_index(batch_op.f("ix_evaluation_results_run_id"))
    op.drop_table("evaluation_results")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_runs_model"))
    op.drop_table("evaluation_runs")
