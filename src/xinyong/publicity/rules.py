"""Publicity windows (公示期限) of credit records, from dated rule versions; the severity of a penalty.

Pure functions over two data files, each loaded and validated once:

- ``data/publicity_rules.yaml``: 发改办财金〔2019〕527号, NDRC Order 58 (2023-05-01 → 2026-03-31), NDRC Order 36
  (from 2026-04-01), SAMR Order 45 for market-supervision units, licence validity and the ``no_window``
  catch-all. Its header states how the rule of a record is chosen (scope, the rule in force on the decision
  date, ``priority``), and every figure carries its DOMAIN mark.
- ``data/severity.yaml``: minor / general / serious derived from the penalty categories and the fine amount
  when the department sent no severity (thresholds are our choice, ``confirmed: false``).

Dates: the period starts on the decision date (DOMAIN §6.2 common rules); ``end`` is the last day the record is
shown, ``min_end`` the earliest day repair (提前终止公示) may end it, both ``add_months`` of the start.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from itertools import combinations, pairwise
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SEVERITIES",
    "Judgement",
    "PublicityRules",
    "Rule",
    "SeverityTable",
    "add_months",
    "derive_severity",
    "judge",
    "publicity_rules",
    "severity_table",
]

SEVERITIES = ("minor", "general", "serious")  # code list `severity`: 轻微 / 一般 / 严重, least serious first
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
Severity = Literal["minor", "general", "serious"]
WILDCARD = "*"


@dataclass(frozen=True)
class Judgement:
    """The publicity window of one record under one rule.

    ``severity_source`` is ``submitted`` (the department's tag), ``derived`` (severity.yaml) or
    ``not_applicable`` (licences and classes without a window, whose ``severity`` is None). ``end`` None means
    no end date: public while the record is active (a long-term licence, a registration).
    """

    severity: str | None
    severity_source: str
    rule: str
    rule_name: str
    legal_basis: str
    start: date | None
    min_end: date | None
    end: date | None
    never_early: bool


# --------------------------------------------------------------------------------------------------- files


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    min_months: int = Field(ge=0)
    max_months: int = Field(ge=0)
    confirmed: bool

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.min_months > self.max_months:
            raise ValueError(f"min_months ({self.min_months}) 不得大于 max_months ({self.max_months})")
        return self


class Departments(_Strict):
    codes: tuple[str, ...] = ()
    code_suffixes: tuple[str, ...] = ()

    def matches(self, code: str) -> bool:
        return code in self.codes or any(code.endswith(s) for s in self.code_suffixes)


class Scope(_Strict):
    info_classes: tuple[str, ...] = Field(min_length=1)
    departments: Departments | None = None  # None: any department

    def matches(self, info_class: str, department_code: str) -> bool:
        in_class = WILDCARD in self.info_classes or info_class in self.info_classes
        return in_class and (self.departments is None or self.departments.matches(department_code))

    def overlaps(self, other: Scope) -> bool:
        """Whether both scopes may hold one record (department scopes are assumed to overlap)."""
        mine, theirs = set(self.info_classes), set(other.info_classes)
        return WILDCARD in mine or WILDCARD in theirs or bool(mine & theirs)


class ShortWhen(_Strict):
    """SAMR Order 45 art. 13: 仅受到通报批评或者较低数额罚款 → the short period."""

    only_categories: tuple[str, ...] = Field(min_length=1)
    low_fine_category: str
    low_fine_max_wan: Decimal = Field(ge=0)
    confirmed: bool

    def holds(self, categories: list[str], fine_amount: Decimal | None) -> bool:
        allowed = {*self.only_categories, self.low_fine_category}
        if not categories or not set(categories) <= allowed:
            return False
        if fine_amount is not None:
            return fine_amount <= self.low_fine_max_wan
        return self.low_fine_category not in categories


class LongRestriction(_Strict):
    """SAMR Order 45 art. 13 第三款: a restriction longer than the period runs its actual length."""

    categories: tuple[str, ...] = Field(min_length=1)
    until_field: str
    ignore_long_term_placeholder: bool


class Rule(_Strict):
    code: str
    kind: Literal["severity", "penalty_class", "validity", "none"]
    name: str
    document_no: str | None
    legal_basis: str
    effective_from: date | None
    effective_to: date | None
    retroactive: bool = False
    confirmed: bool
    priority: int
    applies_to: Scope
    periods: dict[str, Period] = Field(default_factory=dict)
    unlisted_severity_as: Severity | None = None
    not_published_when_only: tuple[str, ...] = ()
    short_when: ShortWhen | None = None
    never_early: tuple[str, ...] = ()
    long_restriction_runs_actual_length: LongRestriction | None = None
    until_field: str | None = None
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.effective_from and self.effective_to and self.effective_from > self.effective_to:
            raise ValueError(f"{self.code}: effective_from 晚于 effective_to")
        if self.retroactive and self.effective_from is None:
            raise ValueError(f"{self.code}: retroactive 须有 effective_from")
        sector_only = (self.short_when, self.never_early, self.long_restriction_runs_actual_length)
        if self.kind != "penalty_class" and any(sector_only):
            raise ValueError(f"{self.code}: short_when / never_early / long_restriction 仅用于 penalty_class")
        if self.kind == "severity":
            if not set(self.periods) <= set(SEVERITIES):
                raise ValueError(f"{self.code}: periods 只能按 {SEVERITIES} 划分")
            fallback = self.unlisted_severity_as
            if fallback is not None and fallback not in self.periods:
                raise ValueError(f"{self.code}: unlisted_severity_as {fallback} 没有期限")
            if fallback is None and set(self.periods) != set(SEVERITIES):
                raise ValueError(f"{self.code}: 缺少 {sorted(set(SEVERITIES) - set(self.periods))} 的期限")
        elif self.kind == "penalty_class":
            if set(self.periods) != {"short", "standard"} or self.short_when is None:
                raise ValueError(f"{self.code}: penalty_class 须有 short / standard 期限和 short_when")
        elif self.periods or self.unlisted_severity_as:
            raise ValueError(f"{self.code}: {self.kind} 规则没有期限")
        if (self.kind == "validity") != (self.until_field is not None):
            raise ValueError(f"{self.code}: until_field 仅且必须用于 validity 规则")
        return self

    @property
    def dated(self) -> bool:
        return self.effective_from is not None or self.effective_to is not None

    def in_force(self, day: date) -> bool:
        """In force on ``day``; a retroactive rule also covers the days before it."""
        if self.effective_to is not None and day > self.effective_to:
            return False
        return self.effective_from is None or day >= self.effective_from or self.retroactive

    def _span(self) -> tuple[date, date]:
        first = date.min if self.retroactive or self.effective_from is None else self.effective_from
        return first, self.effective_to or date.max


class PublicityRules(_Strict):
    version: int
    long_term_placeholder: date
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> PublicityRules:
        codes = [r.code for r in self.rules]
        if len(codes) != len(set(codes)):
            raise ValueError("规则代码重复")
        for a, b in combinations(self.rules, 2):
            (a0, a1), (b0, b1) = a._span(), b._span()
            if a.priority == b.priority and a.applies_to.overlaps(b.applies_to) and a0 <= b1 and b0 <= a1:
                raise ValueError(f"{a.code} 与 {b.code} 优先级相同，可能在同一天适用于同一记录")
        if not any(
            r.applies_to.info_classes == (WILDCARD,) and r.applies_to.departments is None and not r.dated
            for r in self.rules
        ):
            raise ValueError("须有一条适用于所有信息类别、不限日期的兜底规则（info_classes: ['*']）")
        chain = sorted((r for r in self.rules if r.kind == "severity"), key=lambda r: r._span())
        if chain:
            if not chain[0].retroactive or chain[-1].effective_to is not None:
                raise ValueError("按严重程度的规则须从 retroactive 的首条起，至最后一条不设 effective_to")
            for prev, nxt in pairwise(chain):
                if prev.effective_to is None or prev.effective_to + timedelta(days=1) != nxt.effective_from:
                    raise ValueError(f"{prev.code} 与 {nxt.code} 之间的生效日期不连续")
        return self

    def get(self, code: str) -> Rule:
        return next(r for r in self.rules if r.code == code)


class FineBand(_Strict):
    up_to: Decimal | None  # inclusive, 万元; None: no upper bound
    severity: Severity


class FineBands(_Strict):
    unit: Literal["万元"]
    confirmed: bool
    bands: tuple[FineBand, ...] = Field(min_length=1)
    fine_without_amount: Severity

    @model_validator(mode="after")
    def _ascending(self) -> FineBands:
        *inner, last = self.bands
        limits = [b.up_to for b in inner if b.up_to is not None]
        if last.up_to is not None or len(limits) != len(inner):
            raise ValueError("只有最后一档不设 up_to")
        if limits != sorted(set(limits)):
            raise ValueError("各档 up_to 须严格递增")
        return self

    def severity_of(self, amount: Decimal) -> str:
        return next(b.severity for b in self.bands if b.up_to is None or amount <= b.up_to)


class SeverityTable(_Strict):
    version: int
    confirmed: bool
    default: Severity
    categories: dict[str, Severity | Literal["by_amount"]]
    fine_bands: FineBands


def _load(name: str) -> Any:
    text = resources.files("xinyong.publicity").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def publicity_rules() -> PublicityRules:
    return PublicityRules.model_validate(_load("publicity_rules.yaml"))


@cache
def severity_table() -> SeverityTable:
    return SeverityTable.model_validate(_load("severity.yaml"))


# --------------------------------------------------------------------------------------------------- rules


def add_months(d: date, months: int) -> date:
    """The corresponding day ``months`` later; the month's last day when there is none (2026-01-31 + 1 →
    2026-02-28), as 《民法典》第二百零二条 counts periods in months (❓ from memory)."""
    year, index = divmod(d.month - 1 + months, 12)
    year += d.year
    return date(year, index + 1, min(d.day, calendar.monthrange(year, index + 1)[1]))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _categories(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def derive_severity(categories: list[str], fine_amount: Decimal | None) -> str:
    """Severity from the penalty categories and the fine (万元): the most serious of what each category and the
    amount give (severity.yaml); no category and no amount → the table's default."""
    table = severity_table()
    amount = _decimal(fine_amount)
    found: list[str] = []
    for category in categories:
        severity = table.categories.get(category, table.default)
        if severity == "by_amount":
            if amount is None:
                found.append(table.fine_bands.fine_without_amount)
            continue
        found.append(severity)
    if amount is not None:
        found.append(table.fine_bands.severity_of(amount))
    return max(found, key=_RANK.__getitem__) if found else table.default


def _select(
    rules: PublicityRules, info_class: str, department_code: str, day: date | None, categories: list[str]
) -> Rule:
    scoped = [r for r in rules.rules if r.applies_to.matches(info_class, department_code)]
    if day is None:
        needs_date = [r.code for r in scoped if r.kind in ("severity", "penalty_class")]
        if needs_date:
            raise ValueError(f"{info_class} 记录缺少决定日期，无法按 {needs_date} 计算公示期限")
        candidates = [r for r in scoped if not r.dated]
    else:
        candidates = [r for r in scoped if r.in_force(day)]
    if categories:
        candidates = [r for r in candidates if not set(categories) <= set(r.not_published_when_only)]
    return max(candidates, key=lambda r: r.priority)


def judge(info_class: str, values: Mapping[str, Any], department_code: str) -> Judgement:
    """The publicity window of a validated record (``values`` = field values: decision_date, penalty_category,
    fine_amount, severity, valid_to, penalty_valid_until, …) sent by ``department_code``.

    The rule is chosen as publicity_rules.yaml's header says. A submitted severity (minor / general / serious)
    wins over derivation. Raises ValueError for a penalty without a decision date (the catalogue requires one).
    """
    rules = publicity_rules()
    categories = _categories(values.get("penalty_category"))
    fine = _decimal(values.get("fine_amount"))
    start = values.get("decision_date") or values.get("established_on")
    rule = _select(rules, info_class, department_code, start, categories)

    if rule.kind in ("validity", "none"):
        end = None
        if rule.until_field is not None:
            until = values.get(rule.until_field)
            end = until if isinstance(until, date) and until != rules.long_term_placeholder else None
        return Judgement(None, "not_applicable", rule.code, rule.name, rule.legal_basis, start, None, end, False)

    submitted = values.get("severity")
    if submitted in _RANK:
        severity, source = submitted, "submitted"
    else:
        severity, source = derive_severity(categories, fine), "derived"

    never_early = False
    if rule.kind == "severity":
        period = rule.periods.get(severity) or rule.periods[rule.unlisted_severity_as or severity]
        end = add_months(start, period.max_months)
    else:
        assert rule.short_when is not None
        period = rule.periods["short" if rule.short_when.holds(categories, fine) else "standard"]
        end = add_months(start, period.max_months)
        long = rule.long_restriction_runs_actual_length
        if long is not None and set(categories) & set(long.categories):
            until = values.get(long.until_field)
            placeholder = long.ignore_long_term_placeholder and until == rules.long_term_placeholder
            if isinstance(until, date) and until > end and not placeholder:
                end = until
        never_early = bool(set(categories) & set(rule.never_early))
    min_end = end if never_early else min(add_months(start, period.min_months), end)
    return Judgement(severity, source, rule.code, rule.name, rule.legal_basis, start, min_end, end, never_early)
