"""List entries (one subject on one list) and their step-by-step history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class ListEntry(IdMixin, CreatedMixin, Base):
    """One subject on one list. `documents` holds the procedure's papers: [{step, doc_no, date}] (告知书,
    陈述申辩答复, 决定书, 移出决定); `term_end` is the day the term ends (the entry is no longer in force on it)."""

    __tablename__ = "list_entries"
    __table_args__ = (
        Index("ix_list_entries_subject_state", "subject_id", "state"),
        Index("ix_list_entries_type_state", "list_type", "state"),
    )

    list_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    basis_record_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_records.id"))
    department_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    statement_deadline: Mapped[date | None] = mapped_column(Date)
    statement: Mapped[str | None] = mapped_column(Text)
    statement_reply: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_no: Mapped[str | None] = mapped_column(String(100))
    publicity_from: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date, index=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removal_reason: Mapped[str | None] = mapped_column(String(30))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ListEntryEvent(IdMixin, Base):
    """One step of one entry: who moved it from which state to which, with the step's details."""

    __tablename__ = "list_entry_events"

    entry_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("list_entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
