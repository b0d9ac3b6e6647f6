"""Data quality (数据质量) per department × info class × month, its score, and the monthly notice (通报).

The month is the month a batch was *submitted* (Asia/Shanghai). Metrics, over the committed batches of that
month (counting rule of `collection.service`: rows = accepted + duplicates + rejected):

- 合规率 compliance_rate = (rows − rejected) / rows;
- 及时率 timeliness_rate = accepted records submitted within the class's `deadline_working_days` working days
  after their decision date (国办发〔2015〕51号: 7 for 双公示) / accepted records with a decision date;
  None (不适用) for a class without a deadline;
- 完整性 completeness = filled expected fields / (accepted records × the class's expected fields);
- 重错码率 bad_code_rate = (rows rejected for an identifier error + duplicate rows) / rows;
- 关联率 linkage_rate = accepted records linked to a subject / accepted records.

Everything is computed with a few GROUP BY queries whatever the volume: one over batches, one over the
identifier rejections, one over the rejection reasons, and one over the records grouped by batch and decision
date (expected fields counted in SQL with portable JSON extraction); the working-day rule runs in Python once
per distinct (decision date, submission date) pair. Thresholds and weights: `data/quality_rules.yaml`.

This domain reads `collection` and `archive` tables directly (read-only, set-based), as reports do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal

import yaml
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive.models import CreditRecord
from xinyong.catalog.schemas import InfoClass
from xinyong.catalog.service import Catalog, get_catalog
from xinyong.collection.models import Batch, BatchState, Rejection
from xinyong.collection.validate import ERROR_CODES
from xinyong.core import clock
from xinyong.quality import workdays

RULES_FILE = Path(__file__).parent / "data" / "quality_rules.yaml"
METRICS = ("compliance_rate", "timeliness_rate", "completeness", "bad_code_rate", "linkage_rate")
_EPS = 1e-9

# --------------------------------------------------------------------------------------------------- rules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricRule(_Strict):
    label: str
    weight: float = Field(ge=0)
    threshold: float = Field(ge=0, le=1)
    lower_is_better: bool = False
    confirmed: bool = True
    basis: str

    def below(self, value: float | None) -> bool:
        """Whether `value` misses the threshold (a notice highlights it)."""
        if value is None:
            return False
        return value > self.threshold + _EPS if self.lower_is_better else value < self.threshold - _EPS

    def fraction(self, value: float) -> float:
        """Share of the weight earned: 1 at or beyond the threshold, else proportional to it."""
        achieved, target = (1 - value, 1 - self.threshold) if self.lower_is_better else (value, self.threshold)
        if achieved >= target - _EPS or target <= 0:
            return 1.0
        return max(achieved, 0.0) / target


class BadCodeRule(_Strict):
    error_code_prefixes: dict[str, str] = Field(min_length=1)
    include_duplicates: bool = True


class NoticeRule(_Strict):
    title: str
    top_reasons: int = Field(ge=1)


class QualityRules(_Strict):
    version: int
    effective_from: date
    basis: tuple[dict[str, Any], ...]
    scoring: Literal["proportional_to_threshold"]
    metrics: dict[str, MetricRule]
    bad_code: BadCodeRule
    notice: NoticeRule

    @model_validator(mode="after")
    def _complete(self) -> QualityRules:
        if set(self.metrics) != set(METRICS):
            raise ValueError(f"metrics 须恰好为 {list(METRICS)}，现为 {sorted(self.metrics)}")
        total = sum(m.weight for m in self.metrics.values())
        if abs(total - 100) > _EPS:
            raise ValueError(f"各指标权重之和须为 100，现为 {total:g}")
        return self

    def bad_code_label(self, error_code: str) -> str | None:
        return next((v for p, v in self.bad_code.error_code_prefixes.items() if error_code.startswith(p)), None)


@cache
def load_rules(path: Path = RULES_FILE) -> QualityRules:
    with path.open(encoding="utf-8") as fh:
        return QualityRules.model_validate(yaml.safe_load(fh))


def score(rates: dict[str, float | None], rules: QualityRules) -> float | None:
    """0–100: each metric earns its weight in full at the threshold (DOMAIN §12: ≥ 95 %), else in proportion;
    metrics that do not apply are left out and the rest scaled to 100. None when nothing applies."""
    earned = applicable = 0.0
    for name, rule in rules.metrics.items():
        value = rates.get(name)
        if value is None:
            continue
        earned += rule.weight * rule.fraction(value)
        applicable += rule.weight
    return round(earned / applicable * 100, 1) if applicable else None


# ---------------------------------------------------------------------------------------------------- months


parse_month = clock.parse_month


def month_label(month: str) -> str:
    year, mon = parse_month(month)
    return f"{year}年{mon}月"


month_range = clock.month_range


def current_month() -> str:
    return clock.today().strftime("%Y-%m")


def latest_month(session: Session, department_id: int | None = None) -> str | None:
    """The latest month (local time) with a committed batch, or None."""
    stmt = select(Batch.submitted_at).where(Batch.state == BatchState.COMMITTED)
    if department_id is not None:
        stmt = stmt.where(Batch.department_id == department_id)
    last = session.scalar(stmt.order_by(Batch.submitted_at.desc()).limit(1))
    return clock.to_local(last).strftime("%Y-%m") if last else None


# ------------------------------------------------------------------------------------------------- metrics


@dataclass
class RejectionReason:
    error_code: str
    label: str
    count: int
    sample_row: int | None = None
    sample_column: str | None = None
    sample_value: str | None = None
    sample_message: str = ""


@dataclass
class QualityRow:
    month: str
    department_id: int
    department_code: str
    department_name: str
    info_class: str
    info_class_name: str
    batches: int = 0
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    bad_code_rows: int = 0
    records: int = 0
    linked: int = 0
    timely: int = 0
    timeliness_base: int = 0
    filled: int = 0
    expected_slots: int = 0
    deadline_working_days: int | None = None
    compliance_rate: float | None = None
    timeliness_rate: float | None = None
    completeness: float | None = None
    bad_code_rate: float | None = None
    linkage_rate: float | None = None
    score: float | None = None
    notes: list[str] = field(default_factory=list)
    workday_fallback_years: list[int] = field(default_factory=list)
    reasons: list[RejectionReason] = field(default_factory=list)

    def rate(self, metric: str) -> float | None:
        if metric not in METRICS:
            raise KeyError(metric)
        value: float | None = getattr(self, metric)
        return value

    @property
    def rates(self) -> dict[str, float | None]:
        return {m: self.rate(m) for m in METRICS}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute_metrics(
    session: Session,
    month: str,
    department_id: int | None = None,
    *,
    rules: QualityRules | None = None,
    catalog: Catalog | None = None,
) -> list[QualityRow]:
    """Quality rows of `month` ("YYYY-MM"), one per department × info class with a committed batch submitted
    that month, ordered by department and class."""
    rules = rules or load_rules()
    catalog = catalog or get_catalog()
    month = month.strip()
    start, end = month_range(month)
    in_month = [Batch.submitted_at >= start, Batch.submitted_at < end, Batch.state == BatchState.COMMITTED]
    if department_id is not None:
        in_month.append(Batch.department_id == department_id)

    totals = session.execute(
        select(
            Batch.department_id,
            Batch.info_class,
            func.count(),
            func.coalesce(func.sum(Batch.rows), 0),
            func.coalesce(func.sum(Batch.accepted), 0),
            func.coalesce(func.sum(Batch.rejected), 0),
            func.coalesce(func.sum(Batch.duplicates), 0),
        )
        .where(*in_month)
        .group_by(Batch.department_id, Batch.info_class)
    ).all()
    if not totals:
        return []
    departments = {
        d.id: d for d in session.scalars(select(Department).where(Department.id.in_({t[0] for t in totals})))
    }
    classes = {code: catalog.classes.get(code) for code in {t[1] for t in totals}}
    rows: dict[tuple[int, str], QualityRow] = {}
    for dept_id, cls_code, n_batches, n_rows, accepted, rejected, duplicates in totals:
        dept, cls = departments[dept_id], classes[cls_code]
        rows[(dept_id, cls_code)] = QualityRow(
            month=month,
            department_id=dept_id,
            department_code=dept.code,
            department_name=dept.name,
            info_class=cls_code,
            info_class_name=cls.name if cls else cls_code,
            batches=n_batches,
            rows=int(n_rows),
            accepted=int(accepted),
            rejected=int(rejected),
            duplicates=int(duplicates),
            deadline_working_days=cls.deadline_working_days if cls else None,
        )

    _count_bad_codes(session, in_month, rules, rows)
    _count_records(session, in_month, classes, rows)
    _attach_reasons(session, in_month, rules, catalog, rows)
    for key, row in rows.items():
        _finish(row, classes[key[1]], rules)
    return sorted(rows.values(), key=lambda r: (r.department_code, r.info_class))


def _count_bad_codes(
    session: Session, in_month: list[Any], rules: QualityRules, rows: dict[tuple[int, str], QualityRow]
) -> None:
    """Rows (not errors: a row may have several) rejected for at least one identifier error."""
    is_bad = or_(*(Rejection.error_code.startswith(p, autoescape=True) for p in rules.bad_code.error_code_prefixes))
    bad_rows = (
        select(Rejection.batch_id, Rejection.row_number)
        .join(Batch, Batch.id == Rejection.batch_id)
        .where(is_bad, *in_month)
        .distinct()
        .subquery()
    )
    stmt = (
        select(Batch.department_id, Batch.info_class, func.count())
        .select_from(bad_rows)
        .join(Batch, Batch.id == bad_rows.c.batch_id)
        .group_by(Batch.department_id, Batch.info_class)
    )
    for dept_id, cls_code, n in session.execute(stmt):
        rows[(dept_id, cls_code)].bad_code_rows = n


def _count_records(
    session: Session,
    in_month: list[Any],
    classes: dict[str, InfoClass | None],
    rows: dict[tuple[int, str], QualityRow],
) -> None:
    """One pass over the records of the month's batches, grouped by batch and decision date."""
    fields = sorted({name for cls in classes.values() if cls for name in cls.expected_fields})
    filled_cols = [func.count(CreditRecord.payload[name].as_string()) for name in fields]
    stmt = (
        select(
            Batch.department_id,
            Batch.info_class,
            Batch.submitted_at,
            CreditRecord.decision_date,
            func.count(),
            func.count(CreditRecord.subject_id),
            *filled_cols,
        )
        .join(Batch, Batch.id == CreditRecord.batch_id)
        .where(*in_month)
        .group_by(Batch.department_id, Batch.info_class, Batch.id, Batch.submitted_at, CreditRecord.decision_date)
    )
    elapsed: dict[tuple[date, date], int] = {}
    fallback: dict[tuple[int, str], set[int]] = defaultdict(set)
    for dept_id, cls_code, submitted_at, decided, n, linked, *filled in session.execute(stmt):
        row, cls = rows[(dept_id, cls_code)], classes[cls_code]
        row.records += n
        row.linked += linked
        if cls is not None:
            expected = set(cls.expected_fields)
            row.filled += sum(count for name, count in zip(fields, filled, strict=True) if name in expected)
            row.expected_slots += n * len(expected)
        if row.deadline_working_days is None or decided is None:
            continue
        submitted = clock.to_local(submitted_at).date()
        pair = (decided, submitted)
        if pair not in elapsed:
            elapsed[pair] = workdays.working_days_between(decided, submitted)
        fallback[(dept_id, cls_code)].update(workdays.unknown_years(decided, submitted))
        row.timeliness_base += n
        if elapsed[pair] <= row.deadline_working_days:
            row.timely += n
    for key, years in fallback.items():
        rows[key].workday_fallback_years = sorted(years)


def _attach_reasons(
    session: Session,
    in_month: list[Any],
    rules: QualityRules,
    catalog: Catalog,
    rows: dict[tuple[int, str], QualityRow],
) -> None:
    """The most frequent rejection codes of each department × class, each with one sample row."""
    stmt = (
        select(Batch.department_id, Batch.info_class, Rejection.error_code, func.count(), func.min(Rejection.id))
        .join(Batch, Batch.id == Rejection.batch_id)
        .where(*in_month)
        .group_by(Batch.department_id, Batch.info_class, Rejection.error_code)
    )
    grouped: dict[tuple[int, str], list[tuple[str, int, int]]] = defaultdict(list)
    for dept_id, cls_code, code, n, sample_id in session.execute(stmt):
        grouped[(dept_id, cls_code)].append((code, n, sample_id))
    top = {
        key: sorted(items, key=lambda i: (-i[1], i[0]))[: rules.notice.top_reasons] for key, items in grouped.items()
    }
    sample_ids = [i[2] for items in top.values() for i in items]
    samples = {r.id: r for r in session.scalars(select(Rejection).where(Rejection.id.in_(sample_ids)))}
    for key, items in top.items():
        for code, n, sample_id in items:
            sample = samples[sample_id]
            rows[key].reasons.append(
                RejectionReason(
                    error_code=code,
                    label=ERROR_CODES.get(code) or rules.bad_code_label(code) or code,
                    count=n,
                    sample_row=sample.row_number,
                    sample_column=sample.column,
                    sample_value=_raw_value(catalog, key[1], sample),
                    sample_message=sample.message,
                )
            )


def _raw_value(catalog: Catalog, info_class: str, rejection: Rejection) -> str | None:
    """The cell as the department wrote it; `raw` is keyed by the file's header, `column` is the field label."""
    raw = rejection.raw or {}
    if rejection.column is None:
        return None
    if rejection.column in raw:
        return str(raw[rejection.column])
    cls = catalog.classes.get(info_class)
    if cls is None:
        return None
    wanted = next((f.name for f in cls.fields if f.label == rejection.column), None)
    for header, value in raw.items():
        if wanted and catalog.field_for_header(info_class, header) == wanted:
            return str(value)
    return None


def _finish(row: QualityRow, cls: InfoClass | None, rules: QualityRules) -> None:
    row.compliance_rate = _ratio(row.rows - row.rejected, row.rows)
    duplicates = row.duplicates if rules.bad_code.include_duplicates else 0
    row.bad_code_rate = _ratio(row.bad_code_rows + duplicates, row.rows)
    row.linkage_rate = _ratio(row.linked, row.records)
    row.completeness = _ratio(row.filled, row.expected_slots)
    row.timeliness_rate = _ratio(row.timely, row.timeliness_base) if row.deadline_working_days else None
    if row.rows == 0:
        row.notes.append("本月批次均无数据行")
    if cls is None:
        row.notes.append("目录中已无该信息类，完整性和及时率不适用")
    elif not cls.expected_fields:
        row.notes.append("该信息类未设应填字段，完整性不适用")
    if cls is not None and row.deadline_working_days is None:
        row.notes.append("该信息类无报送时限，及时率不适用")
    elif row.deadline_working_days and row.records:
        row.notes.append(f"及时率按决定之日起 {row.deadline_working_days} 个工作日内报送计算")
        missing = row.records - row.timeliness_base
        if missing:
            row.notes.append(f"{missing} 条记录无决定日期，未计入及时率")
    row.notes.extend(fallback_note(y) for y in row.workday_fallback_years)
    row.score = score(row.rates, rules)


def fallback_note(year: int) -> str:
    return f"{year}年节假日安排未知，按周一至周五计算"


def fallback_years(rows: list[QualityRow]) -> list[int]:
    return sorted({y for r in rows for y in r.workday_fallback_years})


# -------------------------------------------------------------------------------------------------- notice

SUMMARY_COLUMNS = (
    ("序号", 6),
    ("信息提供单位", 30),
    ("单位代码", 10),
    ("信息类", 16),
    ("批次数", 8),
    ("报送条数", 10),
    ("入库条数", 10),
    ("重复条数", 10),
    ("退回条数", 10),
    ("合规率", 10),
    ("及时率", 10),
    ("完整性", 10),
    ("重错码率", 10),
    ("关联率", 10),
    ("得分", 8),
    ("说明", 50),
)
REASON_COLUMNS = (
    ("信息提供单位", 30),
    ("信息类", 16),
    ("错误代码", 20),
    ("问题", 24),
    ("出现次数", 10),
    ("示例行号", 10),
    ("示例列", 24),
    ("示例值", 30),
    ("示例说明", 60),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MISSED = PatternFill("solid", fgColor="FFC7CE")
_MISSED_FONT = Font(color="9C0006")
_BOLD = Font(bold=True)


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write one cell; text that a spreadsheet would read as a formula (= + - @) stays text."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        if value.startswith(_FORMULA_START):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _header(ws: Worksheet, row: int, columns: tuple[tuple[str, int], ...]) -> None:
    for i, (name, width) in enumerate(columns, start=1):
        _put(ws, row, i, name).font = _BOLD
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def _title(ws: Worksheet, text: str, width: int) -> None:
    cell = _put(ws, 1, 1, text)
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)


def write_notice(rows: list[QualityRow], out: Path | IO[bytes], month: str, rules: QualityRules | None = None) -> None:
    """The monthly notice (通报) as XLSX: sheet 汇总 (one line per department × class, rates as percentages,
    rates that miss their threshold highlighted) and sheet 问题说明 (each department's main rejection reasons)."""
    rules = rules or load_rules()
    year, mon = parse_month(month)
    title = rules.notice.title.format(year=year, month=mon)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    _title(ws, title, len(SUMMARY_COLUMNS))
    thresholds = "；".join(
        f"{m.label}{'不高于' if m.lower_is_better else '不低于'}{m.threshold:.0%}" for m in rules.metrics.values()
    )
    intro = f"统计范围：{month_label(month)}提交的报送批次（北京时间）。达标线：{thresholds}；未达标的指标以红色标出。"
    years = fallback_years(rows)
    if years:
        intro += "".join(f"{fallback_note(y)}。" for y in years)
    _put(ws, 2, 1, intro)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(SUMMARY_COLUMNS))
    _header(ws, 3, SUMMARY_COLUMNS)
    first_rate = 10
    for n, r in enumerate(rows, start=1):
        line = 3 + n
        values = [n, r.department_name, r.department_code, r.info_class_name, r.batches, r.rows, r.accepted]
        values += [r.duplicates, r.rejected]
        for i, value in enumerate(values, start=1):
            _put(ws, line, i, value)
        for i, metric in enumerate(METRICS, start=first_rate):
            value = r.rate(metric)
            cell = _put(ws, line, i, "不适用" if value is None else value)
            if value is not None:
                cell.number_format = "0.0%"
            if rules.metrics[metric].below(value):
                cell.fill, cell.font = _MISSED, _MISSED_FONT
        _put(ws, line, first_rate + len(METRICS), r.score if r.score is not None else "—")
        _put(ws, line, first_rate + len(METRICS) + 1, "；".join(r.notes))
    if not rows:
        _put(ws, 4, 2, "本月无报送批次")

    reasons = wb.create_sheet("问题说明")
    _title(reasons, f"{title} — 问题说明", len(REASON_COLUMNS))
    _header(reasons, 2, REASON_COLUMNS)
    line = 2
    for r in rows:
        for reason in r.reasons:
            line += 1
            values = [
                r.department_name,
                r.info_class_name,
                reason.error_code,
                reason.label,
                reason.count,
                reason.sample_row,
                reason.sample_column,
                reason.sample_value,
                reason.sample_message,
            ]
            for i, value in enumerate(values, start=1):
                _put(reasons, line, i, value)
    if line == 2:
        _put(reasons, 3, 1, "本月无退回记录")
    wb.save(out)
