"""Notices (站内消息) to a user, a department's users, a subject's users or the credit office: what a workflow
step means for them, and deadline reminders. `dedup_key` makes a scheduled reminder idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class Notice(IdMixin, CreatedMixin, Base):
    """Exactly one of `subject_id`, `department_id` is set, or neither for the credit office."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_subject", "subject_id"),
        Index("ix_notices_department", "department_id"),
    )

    audience: Mapped[str] = mapped_column(String(12))  # subject | department | office
    subject_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
