"""Scoring every subject in one pass: three grouped queries, Python arithmetic, one bulk insert.

`evaluate` reads (1) the subjects in the model's scope, (2) one row per subject from `credit_records` with a
filtered count (and up to 20 record ids) per records indicator, (3) the list entries in force on `as_of`; it then
combines them per subject with the model's scoring function (rules.py) and writes one `evaluation_results` row
per subject (COPY on PostgreSQL) under a new `evaluation_runs` row. The number of SQL statements does not depend
on the number of subjects. Earlier runs are kept.

What the evaluation sees: the archive as it stands (current versions, state `active`), restricted to decisions
on or before `as_of`; list entries in force on `as_of` (in publicity, publicity_from ≤ as_of < term_end).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ARRAY, BigInteger, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.bulk import insert_rows
from xinyong.core.db import is_postgres
from xinyong.evaluation import rules
from xinyong.evaluation.models import EvaluationResult, EvaluationRun
from xinyong.evaluation.rules import EvaluationModel, Indicator
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.lists.rules import EntryState

MAX_RECORD_IDS = 20
Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Facts:
    """What the grouped queries returned, keyed by subject id."""

    record_columns: dict[str, int]  # records indicator → its position in a records row (count; ids at +1)
    records: dict[int, tuple[Any, ...]]
    lists: dict[int, dict[str, list[int]]]  # subject → list kind → entry ids


def _record_condition(ind: Indicator, as_of: date) -> Any:
    cond = [CreditRecord.info_class == ind.info_class]
    if ind.severities:
        cond.append(CreditRecord.severity.in_(ind.severities))
    if ind.within_months:
        cond.append(CreditRecord.decision_date >= rules.add_months(as_of, -ind.within_months))
    return and_(*cond)


def _read_records(session: Session, model: EvaluationModel, as_of: date) -> tuple[dict[str, int], dict[int, tuple]]:
    indicators = {code: ind for code, ind in model.indicators.items() if ind.source == "records"}
    if not indicators:
        return {}, {}
    pg = is_postgres(session)
    columns: list[Any] = [CreditRecord.subject_id]
    positions: dict[str, int] = {}
    for code, ind in indicators.items():
        cond = _record_condition(ind, as_of)
        positions[code] = len(columns)
        columns.append(func.count().filter(cond))
        if pg:
            ids = type_coerce(func.array_agg(CreditRecord.id).filter(cond), ARRAY(BigInteger))
            columns.append(ids[1:MAX_RECORD_IDS])
        else:
            columns.append(func.group_concat(CreditRecord.id).filter(cond))
    stmt = (
        select(*columns)
        .where(
            CreditRecord.is_current.is_(True),
            CreditRecord.state == RecordState.ACTIVE.value,
            CreditRecord.subject_id.is_not(None),
            CreditRecord.info_class.in_(sorted({i.info_class for i in indicators.values()})),
            or_(CreditRecord.decision_date.is_(None), CreditRecord.decision_date <= as_of),
        )
        .group_by(CreditRecord.subject_id)
    )
    return positions, {row[0]: tuple(row) for row in session.execute(stmt)}


def _read_lists(session: Session, as_of: date) -> dict[int, dict[str, list[int]]]:
    kinds = {t.code: t.kind for t in lists.list_types()}
    stmt = select(ListEntry.subject_id, ListEntry.list_type, ListEntry.id).where(
        ListEntry.state == EntryState.IN_PUBLICITY.value,
        ListEntry.publicity_from <= as_of,
        or_(ListEntry.term_end.is_(None), ListEntry.term_end > as_of),
    )
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for subject_id, list_type, entry_id in session.execute(stmt):
        kind = kinds.get(list_type)
        if kind:
            found[subject_id][kind].append(entry_id)
    return found


def _record_ids(value: Any) -> list[int]:
    if not value:
        return []
    if isinstance(value, str):  # SQLite group_concat
        return sorted((int(v) for v in value.split(",")), reverse=True)[:MAX_RECORD_IDS]
    return sorted(value, reverse=True)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


def score_subject(
    model: EvaluationModel, facts: _Facts, subject_id: int, registered_on: date | None, as_of: date
) -> tuple[float, str, dict[str, Any]]:
    """(score, grade, contributions) of one subject from the facts read for all of them."""
    score = model.base_score
    cap_index = 0
    contributions: dict[str, Any] = {}
    row = facts.records.get(subject_id)
    entries = facts.lists.get(subject_id)
    for code, ind in model.indicators.items():
        ids: list[int] = []
        if ind.source == "records":
            if row is None:
                continue
            pos = facts.record_columns[code]
            value = row[pos]
            if value:
                ids = _record_ids(row[pos + 1])
        elif ind.source == "lists":
            if not entries:
                continue
            ids = entries.get(ind.list_kind or "", [])
            value = len(ids)
        else:
            value = rules.full_years(registered_on, as_of) if registered_on else 0
        if not value:
            continue
        points = ind.points(value)
        score += points
        if ind.cap_grade:
            cap_index = max(cap_index, model.grade_index(ind.cap_grade))
        contributions[code] = {"value": value, "points": _num(points), "records": ids[:MAX_RECORD_IDS]}
    return score, model.grade_for(score, cap_index).grade, contributions


def evaluate(
    session: Session,
    model: str = "general",
    as_of: date | None = None,
    progress: Progress | None = None,
    actor: Actor = audit.SYSTEM,
) -> EvaluationRun:
    """Score every subject in the model's scope on `as_of` (default today) and store the run; flushes, no commit.

    `model` is a general model (its industry overlays apply to their industries) or an industry model (only the
    subjects of its industries are scored). Writes an `evaluation.run` audit event.
    """
    say = progress or (lambda _msg: None)
    as_of = as_of or clock.today()
    catalogue = rules.models()
    base, overlay = catalogue.resolve(model)
    by_industry = catalogue.by_industry(base.code)
    scope = set(overlay.industries) if overlay else None

    say("读取主体")
    stmt = select(Subject.id, Subject.industry, Subject.registered_on).where(
        Subject.kind.in_(base.subject_kinds), Subject.status.in_(base.subject_statuses)
    )
    if scope is not None:
        stmt = stmt.where(Subject.industry.in_(sorted(scope)))
    subjects = session.execute(stmt).all()
    say(f"读取信用记录（{len(subjects):,} 个主体）")
    positions, records = _read_records(session, base, as_of)
    say("读取名单")
    facts = _Facts(positions, records, _read_lists(session, as_of))

    versions = {base.code: base.version} | {o.code: o.version for o in catalogue.overlays(base.code)}
    run = EvaluationRun(
        model=model,
        version=overlay.version if overlay else base.version,
        versions=versions,
        as_of=as_of,
        subjects=len(subjects),
        grade_counts={},
        actor=actor.id,
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()

    say("计算得分")
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for subject_id, industry, registered_on in subjects:
        effective = by_industry.get(industry, base) if industry else base
        score, grade, contributions = score_subject(effective, facts, subject_id, registered_on, as_of)
        counts[grade] += 1
        rows.append(
            {
                "run_id": run.id,
                "subject_id": subject_id,
                "model": effective.code,
                "score": float(score),
                "grade": grade,
                "contributions": contributions,
            }
        )
    say(f"写入 {len(rows):,} 条结果")
    insert_rows(session, EvaluationResult, rows)
    run.grade_counts = {g.grade: counts.get(g.grade, 0) for g in base.grades}
    audit.record(
        session,
        actor,
        "evaluation.run",
        "evaluation_run",
        run.id,
        {"model": model, "versions": versions, "as_of": as_of.isoformat(), "grade_counts": run.grade_counts},
    )
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> EvaluationRun | None:
    return session.get(EvaluationRun, run_id)


def latest_run(session: Session, model: str | None = None) -> EvaluationRun | None:
    stmt = select(EvaluationRun)
    if model:
        stmt = stmt.where(EvaluationRun.model == model)
    return session.scalar(stmt.order_by(EvaluationRun.id.desc()).limit(1))


def list_runs(session: Session, limit: int = 20) -> list[EvaluationRun]:
    return list(session.scalars(select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)))


def latest_result(session: Session, subject_id: int) -> tuple[EvaluationResult, EvaluationRun] | None:
    """The subject's result in the most recent run that scored it."""
    row = session.execute(
        select(EvaluationResult, EvaluationRun)
        .join(EvaluationRun, EvaluationRun.id == EvaluationResult.run_id)
        .where(EvaluationResult.subject_id == subject_id)
        .order_by(EvaluationResult.run_id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def results_of(session: Session, run_id: int, subject_ids: list[int] | None = None) -> dict[int, EvaluationResult]:
    stmt = select(EvaluationResult).where(EvaluationResult.run_id == run_id)
    if subject_ids is not None:
        stmt = stmt.where(EvaluationResult.subject_id.in_(subject_ids))
    return {r.subject_id: r for r in session.scalars(stmt)}


def distribution(session: Session, run_id: int) -> list[tuple[str | None, str | None, str, int]]:
    """(district_code, industry, grade, count) for one run, in one grouped query."""
    stmt = (
        select(Subject.district_code, Subject.industry, EvaluationResult.grade, func.count())
        .join(Subject, Subject.id == EvaluationResult.subject_id)
        .where(EvaluationResult.run_id == run_id)
        .group_by(Subject.district_code, Subject.industry, EvaluationResult.grade)
    )
    return [(d, i, g, n) for d, i, g, n in session.execute(stmt)]


def graded_subjects(
    session: Session,
    run_id: int,
    industries: list[str] | None = None,
    districts: list[str] | None = None,
    kinds: list[str] | None = None,
) -> dict[str, list[int]]:
    """{grade: subject ids ascending} of one run, restricted to a scope (None or empty = any), in one query."""
    stmt = (
        select(EvaluationResult.grade, EvaluationResult.subject_id)
        .join(Subject, Subject.id == EvaluationResult.subject_id)
        .where(EvaluationResult.run_id == run_id)
        .order_by(EvaluationResult.subject_id)
    )
    if industries:
        stmt = stmt.where(Subject.industry.in_(industries))
    if districts:
        stmt = stmt.where(Subject.district_code.in_(districts))
    if kinds:
        stmt = stmt.where(Subject.kind.in_(kinds))
    found: dict[str, list[int]] = defaultdict(list)
    for grade, subject_id in session.execute(stmt):
        found[grade].append(subject_id)
    return dict(found)
