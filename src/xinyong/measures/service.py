"""Credit checks (信用核查), feedback on applying measures, and the monthly statistics.

Checks are set-based: `check_batch` resolves up to 10,000 keys, gathers list entries and records and writes the
check rows with a constant number of statements. Auditing: a single check writes one `check.run` event; a
batch writes ONE `check.run` event carrying the count, the unknown keys' count, the smallest and largest check
id and the `request_id` that every check row of the batch carries — 10,000 events would serialise the audit
chain under its lock for no gain, since each check is itself a stored, immutable row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import ApiClient, Department
from xinyong.archive.identifiers import IdentifierError, normalize_code, validate_uscc
from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.bulk import insert_rows
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.lists import rules as list_rules
from xinyong.lists import service as lists
from xinyong.measures import rules
from xinyong.measures.models import Check, CheckFeedback
from xinyong.measures.rules import ListFact, RecordFact

MAX_BATCH = 10_000
MANUAL_UNIT = "人工核查（平台页面）"


class Unprocessable(DomainError):
    status_code = 422


@dataclass
class CheckResult:
    subject_id: int
    subject_name: str
    uscc: str | None
    scenario: str
    on: date
    standing_code: str
    standing: str
    measures: list[dict[str, Any]]
    check_id: int | None = None
    request_id: str = ""

    def body(self) -> dict[str, Any]:
        """What is stored in `checks.result` and returned to the client."""
        return {
            "subject": {"id": self.subject_id, "name": self.subject_name, "uscc": self.uscc},
            "scenario": self.scenario,
            "scenario_name": rules.catalogue().scenarios[self.scenario],
            "on": self.on.isoformat(),
            "standing_code": self.standing_code,
            "standing": self.standing,
            "measures": self.measures,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "request_id": self.request_id} | self.body()


@dataclass
class BatchResult:
    request_id: str
    scenario: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def found(self) -> int:
        return sum(1 for i in self.items if i["found"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "scenario": self.scenario,
            "total": len(self.items),
            "found": self.found,
            "unknown": len(self.items) - self.found,
            "items": self.items,
        }


def scenarios() -> dict[str, str]:
    return dict(rules.catalogue().scenarios)


def scenario_or_raise(code: str) -> str:
    if code not in rules.catalogue().scenarios:
        known = "、".join(f"{k}（{v}）" for k, v in rules.catalogue().scenarios.items())
        raise Unprocessable(f"未知应用场景“{code}”。可用场景：{known}", code="unknown_scenario")
    return code


def _actor(client: ApiClient | None, actor: Actor | None) -> Actor:
    if actor is not None:
        return actor
    if client is not None:
        return Actor(f"client:{client.id}", client.name)
    return audit.SYSTEM


# --- gathering facts, set-based ------------------------------------------------------------------------------


def _facts(
    session: Session, subject_ids: list[int], on: date
) -> tuple[dict[int, list[ListFact]], dict[int, list[RecordFact]]]:
    """Entries in force and records in their publicity window for all subjects: two queries in all."""
    kinds = {code: t.kind for code, t in list_rules.catalogue().types.items()}
    entries: dict[int, list[ListFact]] = defaultdict(list)
    for sid, found in lists.active_entries(session, subject_ids, on).items():
        entries[sid] = [
            ListFact(e.id, e.list_type, kinds.get(e.list_type, ""), e.decision_no, e.publicity_from, e.term_end)
            for e in found
        ]
    records: dict[int, list[RecordFact]] = defaultdict(list)
    if subject_ids:
        # Read-only join on the archive; moves to an archive service function (records_in_publicity) later.
        stmt = select(
            CreditRecord.id,
            CreditRecord.subject_id,
            CreditRecord.info_class,
            CreditRecord.severity,
            CreditRecord.decision_no,
            CreditRecord.publicity_end,
        ).where(
            CreditRecord.subject_id.in_(sorted(set(subject_ids))),
            CreditRecord.is_current.is_(True),
            CreditRecord.state == RecordState.ACTIVE.value,
            CreditRecord.info_class.in_(sorted(rules.catalogue().record_classes())),
            or_(CreditRecord.publicity_start.is_(None), CreditRecord.publicity_start <= on),
            or_(CreditRecord.publicity_end.is_(None), CreditRecord.publicity_end >= on),
        )
        for rid, sid, info_class, severity, decision_no, end in session.execute(stmt):
            records[sid].append(RecordFact(rid, info_class, severity, decision_no, end))
    return entries, records


def _result(subject: Subject | Any, scenario: str, on: date, entries: Any, records: Any) -> CheckResult:
    ev = rules.evaluate(scenario, on, entries.get(subject.id, []), records.get(subject.id, []))
    return CheckResult(subject.id, subject.name, subject.uscc, scenario, on, ev.standing_code, ev.standing, ev.measures)


# --- checks ---------------------------------------------------------------------------------------------------


def check(
    session: Session,
    subject: Subject,
    scenario: str,
    client: ApiClient | None = None,
    on: date | None = None,
    *,
    actor: Actor | None = None,
) -> CheckResult:
    """The standing of `subject` and the measures of `scenario` that apply on `on` (today), with legal basis."""
    scenario_or_raise(scenario)
    on = on or clock.today()
    entries, records = _facts(session, [subject.id], on)
    result = _result(subject, scenario, on, entries, records)
    who = _actor(client, actor)
    result.request_id = uuid.uuid4().hex
    row = Check(
        client_id=client.id if client else None,
        actor=who.id,
        subject_id=subject.id,
        scenario=scenario,
        checked_at=clock.now(),
        checked_on=on,
        standing=result.standing_code,
        result=result.body(),
        request_id=result.request_id,
    )
    session.add(row)
    session.flush()
    result.check_id = row.id
    audit.record(
        session,
        who,
        "check.run",
        "check",
        row.id,
        {
            "subject_id": subject.id,
            "scenario": scenario,
            "standing": result.standing_code,
            "measures": [m["code"] for m in result.measures],
        },
    )
    return result


def _resolve(session: Session, keys: list[str]) -> dict[str, Subject | Any]:
    """Keys (USCC or numeric id) → subject rows, in two queries whatever the number of keys."""
    by_id: dict[str, int] = {}
    by_code: dict[str, str] = {}
    for raw in keys:
        key = str(raw).strip()
        if not key:
            continue
        if key.isdigit() and len(key) < 18:
            by_id[key] = int(key)
        else:
            try:
                by_code[key] = validate_uscc(key)
            except IdentifierError:
                by_code[key] = normalize_code(key)
    cols = (Subject.id, Subject.name, Subject.uscc)
    found: dict[str, Any] = {}
    if by_id:
        rows = {r.id: r for r in session.execute(select(*cols).where(Subject.id.in_(sorted(set(by_id.values())))))}
        found |= {k: rows[i] for k, i in by_id.items() if i in rows}
    if by_code:
        stmt = select(*cols).where(Subject.uscc.in_(sorted(set(by_code.values()))))
        codes = {r.uscc: r for r in session.execute(stmt)}
        found |= {k: codes[c] for k, c in by_code.items() if c in codes}
    return found


def check_batch(
    session: Session,
    keys: list[str],
    scenario: str,
    client: ApiClient | None = None,
    on: date | None = None,
    *,
    actor: Actor | None = None,
) -> BatchResult:
    """Check up to 10,000 subjects at once; unknown keys are reported per item and do not fail the batch."""
    if len(keys) > MAX_BATCH:
        raise Unprocessable(
            f"单次批量核查最多 {MAX_BATCH} 个主体，本次提交了 {len(keys)} 个，请分批提交", code="batch_too_large"
        )
    if not keys:
        raise Unprocessable("请至少提交一个主体", code="batch_empty")
    scenario_or_raise(scenario)
    on = on or clock.today()
    who = _actor(client, actor)
    request_id = uuid.uuid4().hex
    subjects = _resolve(session, keys)
    entries, records = _facts(session, [s.id for s in subjects.values()], on)
    now = clock.now()
    results: list[CheckResult | None] = []
    rows: list[dict[str, Any]] = []
    for raw in keys:
        subject = subjects.get(str(raw).strip())
        if subject is None:
            results.append(None)
            continue
        res = _result(subject, scenario, on, entries, records)
        res.request_id = request_id
        results.append(res)
        rows.append(
            {
                "client_id": client.id if client else None,
                "actor": who.id,
                "subject_id": subject.id,
                "scenario": scenario,
                "checked_at": now,
                "checked_on": on,
                "standing": res.standing_code,
                "result": res.body(),
                "request_id": request_id,
            }
        )
    # One executemany (SQLite) or COPY (PostgreSQL); ids come back in insertion order, read by request_id —
    # RETURNING with parameter order would fall back to one INSERT per row on SQLite.
    insert_rows(session, Check, rows)
    ids = iter(session.scalars(select(Check.id).where(Check.request_id == request_id).order_by(Check.id)).all())
    batch = BatchResult(request_id, scenario)
    for raw, res in zip(keys, results, strict=True):
        if res is None:
            batch.items.append({"key": raw, "found": False, "message": f"未找到信用主体“{raw}”"})
        else:
            res.check_id = next(ids)
            batch.items.append({"key": raw, "found": True} | res.to_dict())
    check_ids = [i["check_id"] for i in batch.items if i["found"]]
    audit.record(
        session,
        who,
        "check.run",
        "check_batch",
        request_id,
        {
            "scenario": scenario,
            "count": len(check_ids),
            "unknown": len(keys) - len(check_ids),
            "first_check_id": min(check_ids, default=None),
            "last_check_id": max(check_ids, default=None),
        },
    )
    return batch


def get_check_for(session: Session, check_id: int, client: ApiClient) -> Check:
    """A check, only for the client that ran it (others get 404: they learn nothing of others' checks)."""
    row = session.get(Check, check_id)
    if row is None or row.client_id != client.id:
        raise NotFound(f"未找到核查记录 {check_id}", code="check_not_found")
    return row


def feedback(
    session: Session,
    check_id: int,
    measure_code: str,
    applied: bool,
    reason: str,
    client: ApiClient,
) -> CheckFeedback:
    """执行反馈: whether the unit applied a measure the check returned; a reason is required when it did not."""
    row = get_check_for(session, check_id, client)
    returned = {m["code"]: m for m in row.result.get("measures", [])}
    if measure_code not in returned:
        raise Unprocessable(f"该次核查未返回措施“{measure_code}”，不能反馈", code="measure_not_in_check")
    if not applied and not reason.strip():
        raise Unprocessable("未实施措施时须说明理由", code="reason_required")
    exists = session.scalar(
        select(CheckFeedback.id).where(CheckFeedback.check_id == row.id, CheckFeedback.measure_code == measure_code)
    )
    if exists:
        raise Conflict("该措施已反馈过执行情况", code="feedback_exists")
    unit = client.name
    if client.department_id:
        dept = session.get(Department, client.department_id)
        unit = dept.name if dept else unit
    fb = CheckFeedback(
        check_id=row.id,
        measure_code=measure_code,
        measure_type=returned[measure_code]["type"],
        scenario=row.scenario,
        applied=applied,
        reason=reason.strip(),
        reported_at=clock.now(),
        reporting_unit=unit,
        client_id=client.id,
    )
    session.add(fb)
    session.flush()
    audit.record(
        session,
        Actor(f"client:{client.id}", client.name),
        "check.feedback",
        "check",
        row.id,
        {"measure": measure_code, "applied": applied, "reason": fb.reason, "unit": unit},
    )
    return fb


# --- statistics -----------------------------------------------------------------------------------------------


month_bounds = clock.month_range


@dataclass
class StatRow:
    unit: str
    scenario: str
    scenario_name: str
    month: str
    checks: int = 0
    rewards_applied: int = 0
    punishments_applied: int = 0
    not_applied: int = 0


def statistics(session: Session, month: str) -> list[StatRow]:
    """Checks run and measures executed (applied feedback: rewards vs punishments) by implementing unit and
    scenario in one local month. Two grouped queries."""
    start, end = month_bounds(month)
    names = rules.catalogue().scenarios
    rows: dict[tuple[str, str], StatRow] = {}

    def row(unit: str, scenario: str) -> StatRow:
        key = (unit, scenario)
        if key not in rows:
            rows[key] = StatRow(unit, scenario, names.get(scenario, scenario), month)
        return rows[key]

    unit_name = func.coalesce(Department.name, ApiClient.name, MANUAL_UNIT)
    checks = session.execute(
        select(unit_name, Check.scenario, func.count())
        .select_from(Check)
        .outerjoin(ApiClient, ApiClient.id == Check.client_id)
        .outerjoin(Department, Department.id == ApiClient.department_id)
        .where(Check.checked_at >= start, Check.checked_at < end)
        .group_by(unit_name, Check.scenario)
    )
    for unit, scenario, n in checks:
        row(unit, scenario).checks = n
    keys = (CheckFeedback.reporting_unit, CheckFeedback.scenario, CheckFeedback.measure_type, CheckFeedback.applied)
    fbs = session.execute(
        select(*keys, func.count())
        .where(CheckFeedback.reported_at >= start, CheckFeedback.reported_at < end)
        .group_by(*keys)
    )
    for unit, scenario, mtype, applied, n in fbs:
        r = row(unit, scenario)
        if not applied:
            r.not_applied += n
        elif mtype == "reward":
            r.rewards_applied += n
        else:
            r.punishments_applied += n
    return sorted(rows.values(), key=lambda r: (r.unit, r.scenario))
