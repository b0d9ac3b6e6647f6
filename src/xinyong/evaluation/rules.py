"""Evaluation models as data, and the scoring function. No I/O but reading the packaged YAML once.

Scoring (the same for every indicator; the numbers are in `data/*_model.yaml`):

    points(value) = value × per_unit, limited to `cap` (cap has per_unit's sign)
    score         = base_score + Σ points
    grade         = the first band (best first) whose min_score ≤ score; the last band has no minimum
    cap_grade     = while an indicator's value > 0 the grade is at best that band (e.g. a subject on a
                    dishonesty list is never better than D)

An industry model (`kind: industry`) names the general model it `extends` and the industry codes it applies to
(Subject.industry holds a GB/T 4754 section letter or the catalogue's `industry_section` code); it may override
`per_unit`, `cap`, `cap_grade` of existing indicators and the grade bands, nothing that changes what is counted.
"""

from __future__ import annotations

import calendar
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xinyong.core.errors import NotFound


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(_Strict):
    standard: str
    title: str
    confirmed: bool
    note: str = ""


class Indicator(_Strict):
    label: str
    dimension: str
    source: Literal["records", "lists", "registration_age"]
    info_class: str | None = None
    severities: tuple[str, ...] | None = None
    within_months: int | None = Field(default=None, ge=1)
    list_kind: Literal["dishonesty", "incentive"] | None = None
    per_unit: float
    cap: float
    cap_grade: str | None = None
    confirmed: bool

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.source == "records" and not self.info_class:
            raise ValueError("a records indicator needs info_class")
        if self.source == "lists" and not self.list_kind:
            raise ValueError("a lists indicator needs list_kind")
        if self.source != "records" and (self.info_class or self.severities or self.within_months):
            raise ValueError("info_class, severities and within_months apply to records indicators only")
        if self.per_unit * self.cap < 0 or self.cap == 0:
            raise ValueError("cap must be non-zero and have per_unit's sign")
        return self

    def points(self, value: float) -> float:
        raw = value * self.per_unit
        return max(raw, self.cap) if self.cap < 0 else min(raw, self.cap)


class IndicatorOverride(_Strict):
    per_unit: float | None = None
    cap: float | None = None
    cap_grade: str | None = None
    confirmed: bool


class GradeBand(_Strict):
    grade: str
    label: str
    min_score: float | None
    confirmed: bool


def _check_bands(bands: list[GradeBand]) -> None:
    if len(bands) < 2 or bands[-1].min_score is not None:
        raise ValueError("grades: at least two bands, best first; only the last has min_score null")
    mins = [b.min_score for b in bands[:-1]]
    if any(m is None for m in mins) or mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        raise ValueError("grades: min_score strictly decreasing from the best band")
    if len({b.grade for b in bands}) != len(bands):
        raise ValueError("grades: duplicate grade")


class EvaluationModel(_Strict):
    code: str
    kind: Literal["general"]
    name: str
    version: str
    legal_basis: list[LegalBasis]
    subject_kinds: tuple[str, ...]
    subject_statuses: tuple[str, ...]
    base_score: float
    confirmed: bool
    indicators: dict[str, Indicator]
    grades: list[GradeBand]

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationModel:
        _check_bands(self.grades)
        names = {b.grade for b in self.grades}
        for code, ind in self.indicators.items():
            if ind.cap_grade and ind.cap_grade not in names:
                raise ValueError(f"{code}: cap_grade {ind.cap_grade} is not a grade of the model")
        return self

    def grade_for(self, score: float, cap_index: int = 0) -> GradeBand:
        """The band for `score`, no better than the band at `cap_index` (0 = no cap)."""
        for i, band in enumerate(self.grades):
            if i >= cap_index and (band.min_score is None or score >= band.min_score):
                return band
        return self.grades[-1]

    def grade_index(self, grade: str) -> int:
        return next(i for i, b in enumerate(self.grades) if b.grade == grade)

    def band(self, grade: str) -> GradeBand | None:
        return next((b for b in self.grades if b.grade == grade), None)


class IndustryModel(_Strict):
    code: str
    kind: Literal["industry"]
    extends: str
    name: str
    version: str
    industries: tuple[str, ...] = Field(min_length=1)
    legal_basis: list[LegalBasis]
    confirmed: bool
    indicators: dict[str, IndicatorOverride] = {}
    grades: list[GradeBand] | None = None

    @model_validator(mode="after")
    def _bands(self) -> IndustryModel:
        if self.grades is not None:
            _check_bands(self.grades)
        return self

    def apply_to(self, base: EvaluationModel) -> EvaluationModel:
        """The general model with this model's weights and cut-offs: what subjects of its industries are scored by."""
        unknown = set(self.indicators) - set(base.indicators)
        if unknown:
            raise ValueError(f"{self.code}: overrides unknown indicators {sorted(unknown)}")
        indicators = dict(base.indicators)
        for code, o in self.indicators.items():
            changes = o.model_dump(exclude_none=True, exclude={"confirmed"}) | {"confirmed": o.confirmed}
            indicators[code] = Indicator.model_validate(indicators[code].model_dump() | changes)
        merged = base.model_dump() | {
            "code": self.code,
            "name": self.name,
            "version": self.version,
            "confirmed": self.confirmed,
            "indicators": {k: v.model_dump() for k, v in indicators.items()},
        }
        if self.grades is not None:
            merged["grades"] = [g.model_dump() for g in self.grades]
        return EvaluationModel.model_validate(merged)


class ModelSet(_Strict):
    """The general models and their industry overlays."""

    general: dict[str, EvaluationModel]
    industry: dict[str, IndustryModel]

    def resolve(self, code: str) -> tuple[EvaluationModel, IndustryModel | None]:
        """(general model, industry model or None) for a model code."""
        if code in self.general:
            return self.general[code], None
        if code in self.industry:
            ind = self.industry[code]
            return self.general[ind.extends], ind
        known = "、".join([*self.general, *self.industry])
        raise NotFound(f"未知评价模型“{code}”。可用模型：{known}", code="unknown_model")

    def overlays(self, general_code: str) -> list[IndustryModel]:
        return [m for m in self.industry.values() if m.extends == general_code]

    def by_industry(self, general_code: str) -> dict[str, EvaluationModel]:
        """Industry code → the effective model for subjects of that industry (general + overlay)."""
        base = self.general[general_code]
        found: dict[str, EvaluationModel] = {}
        for overlay in self.overlays(general_code):
            effective = overlay.apply_to(base)
            for industry in overlay.industries:
                if industry in found:
                    raise ValueError(f"industry {industry} is claimed by two models")
                found[industry] = effective
        return found

    def effective(self, code: str) -> EvaluationModel:
        base, overlay = self.resolve(code)
        return overlay.apply_to(base) if overlay else base


def parse_models(documents: list[dict]) -> ModelSet:
    general: dict[str, EvaluationModel] = {}
    industry: dict[str, IndustryModel] = {}
    for doc in documents:
        if doc.get("kind") == "general":
            m = EvaluationModel.model_validate(doc)
            general[m.code] = m
        else:
            i = IndustryModel.model_validate(doc)
            industry[i.code] = i
    models = ModelSet(general=general, industry=industry)
    for i in industry.values():
        if i.extends not in general:
            raise ValueError(f"{i.code}: extends unknown model {i.extends}")
        i.apply_to(general[i.extends])
        for code, o in i.indicators.items():
            if o.cap_grade and general[i.extends].band(o.cap_grade) is None:
                raise ValueError(f"{i.code}.{code}: unknown cap_grade {o.cap_grade}")
    for g in general:
        models.by_industry(g)
    return models


@cache
def models() -> ModelSet:
    folder = resources.files("xinyong.evaluation") / "data"
    docs = [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith("_model.yaml")
    ]
    return parse_models(docs)


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the month's last day (2024-02-29 − 12 → 2023-02-28)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def full_years(start: date, end: date) -> int:
    """Completed years from `start` to `end` (0 if `end` is earlier)."""
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return max(years, 0)
