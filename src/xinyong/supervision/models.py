"""Inspection plans and their drawn targets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class InspectionPlan(IdMixin, CreatedMixin, Base):
    """One random-inspection plan. `seed_hash` = sha256(seed) is public from creation; `seed` stays unpublished
    until `revealed_at` (state `published`). `eligible` {grade: [subject ids, ascending]} is recorded at the draw.

    `scope` {industries, districts, subject_kinds} (empty = any); `ratios` {grade: share 0..1}; `items` the
    inspection items; `inspectors` the pool drawn from. `department_id` is the unit that inspects: its results
    are credit records it provides (NULL only for plans made before migration 0008, which take no results).
    """

    __tablename__ = "inspection_plans"

    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"), index=True)
    scope: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    items: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    ratios: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    inspectors: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    evaluation_run_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("evaluation_runs.id"))
    seed_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    eligible: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InspectionDraw(IdMixin, Base):
    """One drawn target: `rank` is its position in its grade's shuffled order (0 first)."""

    __tablename__ = "inspection_draws"
    __table_args__ = (UniqueConstraint("plan_id", "subject_id"),)

    plan_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("inspection_plans.id"), index=True)
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    grade: Mapped[str] = mapped_column(String(4))
    rank: Mapped[int] = mapped_column(Integer)
    inspector: Mapped[str] = mapped_column(String(100))
