"""Credit checks run by business systems (and officials), and the units' feedback on applying measures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import IdMixin


class Check(IdMixin, Base):
    """One subject checked in one scenario: the standing and the measures that applied then, with their basis.

    `client_id` is the API client (None for an official's manual check; `actor` says who); a batch's checks share
    one `request_id`."""

    __tablename__ = "checks"

    client_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("api_clients.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(40))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    standing: Mapped[str] = mapped_column(String(30))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    request_id: Mapped[str] = mapped_column(String(40), index=True)


class CheckFeedback(IdMixin, Base):
    """Whether the unit applied one measure of one check (执行反馈), and why not if it did not."""

    __tablename__ = "check_feedback"
    __table_args__ = (UniqueConstraint("check_id", "measure_code"),)

    check_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("checks.id"), index=True)
    measure_code: Mapped[str] = mapped_column(String(60))
    measure_type: Mapped[str] = mapped_column(String(12))
    scenario: Mapped[str] = mapped_column(String(40))
    applied: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reporting_unit: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("api_clients.id"))
