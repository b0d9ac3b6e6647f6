"""The credit archive: subjects, their identifiers and facts, and versioned credit records."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class SubjectKind(StrEnum):
    LEGAL_PERSON = "legal_person"
    ORGANIZATION = "organization"
    INDIVIDUAL_BUSINESS = "individual_business"
    NATURAL_PERSON = "natural_person"
    GOVERNMENT_BODY = "government_body"


SUBJECT_KIND_LABELS = {
    SubjectKind.LEGAL_PERSON: "法人",
    SubjectKind.ORGANIZATION: "非法人组织",
    SubjectKind.INDIVIDUAL_BUSINESS: "个体工商户",
    SubjectKind.NATURAL_PERSON: "自然人",
    SubjectKind.GOVERNMENT_BODY: "政府机构",
}


class IdentifierScheme(StrEnum):
    USCC = "uscc"
    LEGACY_REG_NO = "legacy_reg_no"
    ORG_CODE = "org_code"
    TAX_NO = "tax_no"
    RESIDENT_ID = "resident_id"


class RecordState(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    REPAIRED = "repaired"
    EXPIRED = "expired"


class LinkMethod(StrEnum):
    USCC = "uscc"
    LEGACY_CODE = "legacy_code"
    RESIDENT_ID = "resident_id"
    CREATED = "created_from_code"
    NAME_EXACT = "name_exact"
    REVIEW = "review"
    MANUAL = "manual"


class Subject(IdMixin, CreatedMixin, Base):
    __tablename__ = "subjects"

    kind: Mapped[str] = mapped_column(String(24), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # normalised for exact matching
    name_initials: Mapped[str] = mapped_column(String(100), default="")  # pinyin initials for search
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(12), index=True)
    industry: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    registered_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SubjectIdentifier(IdMixin, Base):
    """One subject, many codes: a USCC, pre-2015 codes still seen in data, a resident ID."""

    __tablename__ = "subject_identifiers"
    __table_args__ = (UniqueConstraint("scheme", "value"),)

    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(40))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source_batch_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("batches.id"))


class SubjectFact(IdMixin, Base):
    """A registration attribute as a statement with its source, so changes keep their history."""

    __tablename__ = "subject_facts"
    __table_args__ = (Index("ix_subject_facts_subject_property", "subject_id", "property"),)

    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    property: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    source_batch_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("batches.id"))
    source_department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditRecord(IdMixin, CreatedMixin, Base):
    """One version of one credit record. Never updated in place but for closing flags.

    A correction is a new version (the old one keeps `is_current = false`); a withdrawal is a state.
    """

    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("key_hash", "version"),
        Index(
            "uq_credit_records_current_key",
            "key_hash",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_credit_records_subject_current", "subject_id", "is_current"),
        Index("ix_credit_records_class_decision", "info_class", "decision_date"),
    )

    info_class: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    link_method: Mapped[str] = mapped_column(String(24))
    link_confidence: Mapped[float] = mapped_column(Float, default=1.0)
    source_department_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("departments.id"), index=True)
    natural_key: Mapped[str] = mapped_column(String(300))
    key_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))
    decision_no: Mapped[str | None] = mapped_column(String(200))
    decision_date: Mapped[date | None] = mapped_column(Date)
    severity: Mapped[str | None] = mapped_column(String(16))
    publicity_rule: Mapped[str | None] = mapped_column(String(40))
    publicity_start: Mapped[date | None] = mapped_column(Date)
    publicity_min_end: Mapped[date | None] = mapped_column(Date)
    publicity_end: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=RecordState.ACTIVE)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("batches.id"), index=True)
    source_row: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
