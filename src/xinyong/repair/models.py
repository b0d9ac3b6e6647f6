"""Repair applications (信用修复申请): one per record or list entry, with the conditions as judged at submission."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class RepairApplication(IdMixin, CreatedMixin, Base):
    """`target` is `record` (then `record_key_hash` names the record across versions, `record_id` the version
    applied against) or `list_entry`. `rule` is the publicity rule code or list type that judged it, with its
    name and legal basis as they were at submission. Deadlines are working-day limits of the current step."""

    __tablename__ = "repair_applications"
    __table_args__ = (
        Index("ix_repair_applications_subject_state", "subject_id", "state"),
        Index("ix_repair_applications_department_state", "department_id", "state"),
        Index("ix_repair_applications_record", "record_key_hash"),
    )

    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    target: Mapped[str] = mapped_column(String(12))
    record_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    record_key_hash: Mapped[str | None] = mapped_column(String(64))
    list_entry_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("list_entries.id"), index=True)
    department_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    rule: Mapped[str] = mapped_column(String(40))
    rule_name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24))
    applicant: Mapped[str] = mapped_column(String(64))
    applicant_name: Mapped[str] = mapped_column(String(100))
    statement: Mapped[str] = mapped_column(Text)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    commitment_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("commitments.id"))
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    unit_opinion: Mapped[str | None] = mapped_column(Text)
    office_opinion: Mapped[str | None] = mapped_column(Text)
    repaired_record_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
