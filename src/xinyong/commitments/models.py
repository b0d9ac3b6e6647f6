"""Credit commitments (信用承诺): a subject signs a template's text online; fulfilment is tracked to the end."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class Commitment(IdMixin, CreatedMixin, Base):
    """The signed text is kept as signed (`text`, `text_sha256`), whatever later happens to the template.
    `context` holds what the commitment is for (e.g. the approval item); `department_id` verifies fulfilment;
    `breach_record_id` is the credit record a breach produced."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_subject_state", "subject_id", "state"),
        Index("ix_commitments_department_state", "department_id", "state"),
    )

    template: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[str] = mapped_column(String(20))
    scenario: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    state: Mapped[str] = mapped_column(String(24))
    signer: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    evidence_note: Mapped[str | None] = mapped_column(Text)
    verification_note: Mapped[str | None] = mapped_column(Text)
    breach_record_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
