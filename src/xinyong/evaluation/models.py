"""Evaluation runs and their per-subject results. Kept as history: a run is never overwritten."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType
from xinyong.core.models import CreatedMixin, IdMixin


class EvaluationRun(IdMixin, CreatedMixin, Base):
    """One pass of one model over every subject in its scope on `as_of`.

    `versions` holds the version of the model and of each industry overlay used; `grade_counts` {grade: n}.
    """

    __tablename__ = "evaluation_runs"

    model: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[str] = mapped_column(String(40))
    versions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    as_of: Mapped[date] = mapped_column(Date)
    subjects: Mapped[int] = mapped_column(Integer, default=0)
    grade_counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(64))


class EvaluationResult(IdMixin, Base):
    """One subject's score and grade in one run. `model` is the effective model (general or industry overlay).

    `contributions` {indicator: {value, points, records: [record ids, at most 20]}} lists only indicators with a
    non-zero value; an absent indicator had value 0 and 0 points.
    """

    __tablename__ = "evaluation_results"
    __table_args__ = (Index("ix_evaluation_results_subject_run", "subject_id", "run_id"),)

    run_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("evaluation_runs.id"), index=True)
    subject_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    model: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(4))
    contributions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
