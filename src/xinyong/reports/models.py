"""The register of issued credit reports: what was issued, to whom, from which view, and its fingerprint."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import IdMixin


class ReportKind(StrEnum):
    PUBLIC = "public"
    SELF = "self"
    REVIEW = "review"


REPORT_KIND_LABELS = {
    ReportKind.PUBLIC: "公共信用信息报告",
    ReportKind.SELF: "公共信用信息报告（本主体查询版）",
    ReportKind.REVIEW: "信用审查报告",
}


class CreditReport(IdMixin, Base):
    """One issued report. The PDF itself is not kept: `content_digest` (SM3 of the canonical JSON content, which
    the PDF also carries as an attachment) identifies what it held, `summary` is what a verifier may see."""

    __tablename__ = "credit_reports"

    serial: Mapped[str] = mapped_column(String(20), unique=True)  # XY + local date + 6-digit daily sequence
    kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"), index=True)
    view: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_by_name: Mapped[str] = mapped_column(String(100))
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)  # stored without the group dashes
    content_digest: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
