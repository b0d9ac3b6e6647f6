"""foundation schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.core.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("short_name", sa.String(length=50), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column(
            "covers", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "submits", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
        sa.UniqueConstraint("uscc", name=op.f("uq_departments_uscc")),
    )
    op.create_table(
        "subjects",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("name_initials", sa.String(length=100), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("industry", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("updated_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("uscc", name=op.f("uq_subjects_uscc")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_district_code"), ["district_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_subjects_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_subjects_name_key"), ["name_key"], unique=False)

    op.create_table(
        "api_clients",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "permissions", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_used_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_api_clients_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_prefix", name=op.f("uq_api_clients_token_prefix")),
    )
    op.create_table(
        "batches",
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("info_class", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("file_format", sa.String(length=12), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_batches_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_file_sha256"), ["file_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_info_class"), ["info_class"], unique=False)

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_users_department_id_departments")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_users_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)

    op.create_table(
        "credit_records",
        sa.Column("info_class", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("link_method", sa.String(length=24), nullable=False),
        sa.Column("link_confidence", sa.Float(), nullable=False),
        sa.Column("source_department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("natural_key", sa.String(length=300), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("superseded_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("decision_no", sa.String(length=200), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("publicity_rule", sa.String(length=40), nullable=True),
        sa.Column("publicity_start", sa.Date(), nullable=True),
        sa.Column("publicity_min_end", sa.Date(), nullable=True),
        sa.Column("publicity_end", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_credit_records_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["source_department_id"],
            ["departments.id"],
            name=op.f("fk_credit_records_source_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_credit_records_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_records")),
        sa.UniqueConstraint("key_hash", "version", name=op.f("uq_credit_records_key_hash_version")),
    )
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_records_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_credit_records_class_decision", ["info_class", "decision_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_records_source_department_id"), ["source_department_id"], unique=False
        )
        batch_op.create_index("ix_credit_records_subject_current", ["subject_id", "is_current"], unique=False)
        batch_op.create_index(
            "uq_credit_records_current_key",
            ["key_hash"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "rejections",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=100), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_rejections_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejections")),
    )
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejections_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rejections_error_code"), ["error_code"], unique=False)

    op.create_table(
        "subject_facts",
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("property", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("source_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("first_seen_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_batch_id"], ["batches.id"], name=op.f("fk_subject_facts_source_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["source_department_id"], ["departments.id"], name=op.f("fk_subject_facts_source_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_subject_facts_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_facts")),
    )
    with op.batch_alter_table("subject_facts", schema=None) as batch_op:
        batch_op.create_index("ix_subject_facts_subject_property", ["subject_id", "property"], unique=False)

    op.create_table(
        "subject_identifiers",
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_batch_id"], ["batches.id"], name=op.f("fk_subject_identifiers_source_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_identifiers_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identifiers")),
        sa.UniqueConstraint("scheme", "value", name=op.f("uq_subject_identifiers_scheme_value")),
    )
    with op.batch_alter_table("subject_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_identifiers_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "link_reviews",
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column(
            "candidates", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", xinyong.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_link_reviews_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_link_reviews_record_id_credit_records")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_subject_id"], ["subjects.id"], name=op.f("fk_link_reviews_resolved_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_reviews")),
    )
    with op.batch_alter_table("link_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_reviews_record_id"), ["record_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("link_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_reviews_record_id"))

    op.drop_table("link_reviews")
    with op.batch_alter_table("subject_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_identifiers_subject_id"))

    op.drop_table("subject_identifiers")
    with op.batch_alter_table("subject_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_facts_subject_property")

    op.drop_table("subject_facts")
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejections_error_code"))
        batch_op.drop_index(batch_op.f("ix_rejections_batch_id"))

    op.drop_table("rejections")
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_credit_records_current_key", sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current")
        )
        batch_op.drop_index("ix_credit_records_subject_current")
        batch_op.drop_index(batch_op.f("ix_credit_records_source_department_id"))
        batch_op.drop_index("ix_credit_records_class_decision")
        batch_op.drop_index(batch_op.f("ix_credit_records_batch_id"))

    op.drop_table("credit_records")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))

    op.drop_table("users")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_info_class"))
        batch_op.drop_index(batch_op.f("ix_batches_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_batches_department_id"))

    op.drop_table("batches")
    op.drop_table("api_clients")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subjects_name_key"))
        batch_op.drop_index(batch_op.f("ix_subjects_kind"))
        batch_op.drop_index(batch_op.f("ix_subjects_district_code"))

    op.drop_table("subjects")
    op.drop_table("departments")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
