"""Batches (报送批次), their rejected rows, and name-only rows waiting for a linking decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class BatchState(StrEnum):
    COMMITTED = "committed"
    FAILED = "failed"


class Batch(IdMixin, CreatedMixin, Base):
    __tablename__ = "batches"

    department_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("departments.id"), index=True)
    info_class: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # upload | api | cli
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    file_format: Mapped[str] = mapped_column(String(12), default="")
    encoding: Mapped[str | None] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=BatchState.COMMITTED)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Rejection(IdMixin, Base):
    __tablename__ = "rejections"

    batch_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(100))
    error_code: Mapped[str] = mapped_column(String(40), index=True)
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class LinkReview(IdMixin, CreatedMixin, Base):
    """A record whose subject could not be decided from its codes: a person must choose."""

    __tablename__ = "link_reviews"

    record_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("credit_records.id"), index=True)
    batch_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("batches.id"))
    subject_name: Mapped[str] = mapped_column(String(200))
    candidates: Mapped[list[int]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")
    resolved_subject_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
