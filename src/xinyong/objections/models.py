"""Objections (异议): a subject disputes one record; the source department verifies it within a deadline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class Objection(IdMixin, CreatedMixin, Base):
    """`record_key_hash` names the disputed record across versions; `record_id` is the version disputed.
    `requested` holds the corrections the subject asks for ({field: value}); `outcome_record_id` the version the
    outcome produced (a correction or a withdrawal)."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_subject_state", "subject_id", "state"),
        Index("ix_objections_department_state", "department_id", "state"),
        Index("ix_objections_record", "record_key_hash"),
    )

    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    record_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    record_key_hash: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    state: Mapped[str] = mapped_column(String(24))
    applicant: Mapped[str] = mapped_column(String(64))
    applicant_name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    requested: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    reply: Mapped[str | None] = mapped_column(Text)
    outcome_record_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
