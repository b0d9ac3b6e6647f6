"""Credit checks (信用核查), feedback on applying measures, and the monthly statistics.

Checks are set-based and few-statement. A single check from the API (`check_key`) is one read (the subject, its
list entries in force and its records in publicity, as one UNION ALL) and, on PostgreSQL, one write (the check row
and its audit event, as one INSERT … RETURNING with a data-modifying CTE), all with Core and prebuilt statements:
no ORM flush on the hot path. `check_batch` resolves up to 10,000 keys in one query, gathers their facts in
another, COPYs the check rows and reads their ids back: a constant number of statements.

Auditing: a single check writes one `check.run` event; a batch writes ONE `check.run` event carrying the count,
the unknown keys' count, the smallest and largest check id and the `request_id` that every check row of the batch
carries — 10,000 events would serialise the audit chain under its lock for no gain, since each check is itself a
stored, immutable row.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Date,
    Executable,
    Insert,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.accounts.models import ApiClient, Department
from xinyong.archive.identifiers import normalize_code
from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.core import audit, clock
from xinyong.core.audit import Actor, AuditEvent
from xinyong.core.bulk import insert_rows
from xinyong.core.db import is_postgres
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.lists import rules as list_rules
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
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

    def body_json(self) -> str:
        """`body()` as JSON, assembled from its parts: a batch writes 10,000 of these, each once, into COPY and
        into the response; `json.dumps` of each dict costs several times more. Only `measures` goes through
        `json.dumps`, and only when there are any."""
        uscc = "null" if self.uscc is None else _str(self.uscc)
        measures = _dumps(self.measures) if self.measures else "[]"
        return (
            f'{{"subject":{{"id":{self.subject_id},"name":{_str(self.subject_name)},"uscc":{uscc}}},'
            f'"scenario":{_str(self.scenario)},"scenario_name":{_str(rules.catalogue().scenarios[self.scenario])},'
            f'"on":"{self.on.isoformat()}","standing_code":{_str(self.standing_code)},'
            f'"standing":{_str(self.standing)},"measures":{measures}}}'
        )

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "request_id": self.request_id} | self.body()

    def to_json(self, body_json: str | None = None) -> str:
        """`to_dict()` as JSON (what the API returns)."""
        body_json = body_json or self.body_json()
        return f'{{"check_id":{_int(self.check_id)},"request_id":{_str(self.request_id)},{body_json[1:]}'


_str = json.encoder.encode_basestring  # type: ignore[attr-defined]  # a str as a JSON string, non-ASCII kept (C)


def _int(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class BatchResult:
    """Per key, in the order sent: the check (with its body's JSON, built once) or None for an unknown key."""

    request_id: str
    scenario: str
    results: list[tuple[str, CheckResult | None, str]] = field(default_factory=list)

    @property
    def found(self) -> int:
        return sum(1 for _, res, _ in self.results if res is not None)

    @property
    def items(self) -> list[dict[str, Any]]:
        return [
            {"key": key, "found": True} | res.to_dict()
            if res is not None
            else {"key": key, "found": False, "message": _unknown(key)}
            for key, res, _ in self.results
        ]

    def _head(self) -> dict[str, Any]:
        found = self.found
        total = len(self.results)
        return {
            "request_id": self.request_id,
            "scenario": self.scenario,
            "total": total,
            "found": found,
            "unknown": total - found,
        }

    def to_dict(self) -> dict[str, Any]:
        return self._head() | {"items": self.items}

    def to_json(self) -> str:
        """`to_dict()` as JSON, from the bodies' JSON already built for COPY."""
        items = [
            f'{{"key":{_str(key)},"found":true,{res.to_json(body)[1:]}'
            if res is not None
            else f'{{"key":{_str(key)},"found":false,"message":{_str(_unknown(key))}}}'
            for key, res, body in self.results
        ]
        return f'{_dumps(self._head())[:-1]},"items":[{",".join(items)}]}}'


def _unknown(key: str) -> str:
    return f"未找到信用主体“{key}”"


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
#
# A UNION ALL reads list entries in force and records in publicity, plus, for a single check, the subject itself:
# one round trip. Columns: part (0 subject, 1 entry, 2 record), subject id, row id, then
#   subject: name, uscc
#   entry:   list_type, decision_no, -, publicity_from, term_end
#   record:  info_class, severity, decision_no, publicity_end
# The statements are built once: executing a built statement skips SQLAlchemy's per-call construction.

_SUBJECT, _ENTRY, _RECORD = 0, 1, 2


def _facts_stmt(sid_of: Callable[[ColumnElement[int]], ColumnElement[bool]], head: Select | None) -> CompoundSelect:
    """Entries and records of the subjects `sid_of(subject_id column)` admits, after `head` if given."""
    on = bindparam("on", type_=Date)
    no_text, no_date = cast(null(), String), cast(null(), Date)
    entries = select(
        literal_column(str(_ENTRY), Integer).label("part"),
        ListEntry.subject_id.label("sid"),
        ListEntry.id.label("id"),
        ListEntry.list_type.label("a"),
        ListEntry.decision_no.label("b"),
        no_text.label("c"),
        ListEntry.publicity_from.label("d1"),
        ListEntry.term_end.label("d2"),
    ).where(sid_of(ListEntry.subject_id), *lists._in_force(on))  # the lists domain's one definition of in force
    records = select(
        literal_column(str(_RECORD), Integer),
        CreditRecord.subject_id,
        CreditRecord.id,
        CreditRecord.info_class,
        CreditRecord.severity,
        CreditRecord.decision_no,
        CreditRecord.publicity_end,
        no_date,
    ).where(
        sid_of(CreditRecord.subject_id),
        CreditRecord.is_current == true(),  # `= true`, not `IS true`: the index's second column
        CreditRecord.state == RecordState.ACTIVE.value,
        # plain parameters, not an expanding list re-rendered on every execution: the classes are fixed
        CreditRecord.info_class.in_([literal(c) for c in sorted(rules.catalogue().record_classes())]),
        or_(CreditRecord.publicity_start.is_(None), CreditRecord.publicity_start <= on),
        or_(CreditRecord.publicity_end.is_(None), CreditRecord.publicity_end >= on),
    )
    parts = [entries, records] if head is None else [head, entries, records]
    return union_all(*parts).order_by(literal_column("part"), literal_column("id"))


@cache
def _one_subject_facts(by_id: bool) -> CompoundSelect:
    """The subject named by :sid or :code with its facts (PostgreSQL plans index nested loops for one subject)."""
    s = select(Subject.id, Subject.name, Subject.uscc)
    s = s.where(Subject.id == bindparam("sid") if by_id else Subject.uscc == bindparam("code")).cte("s")
    no_text, no_date = cast(null(), String), cast(null(), Date)
    head = select(
        literal_column(str(_SUBJECT), Integer).label("part"),
        s.c.id.label("sid"),
        s.c.id.label("id"),
        s.c.name.label("a"),
        s.c.uscc.label("b"),
        no_text.label("c"),
        no_date.label("d1"),
        no_date.label("d2"),
    )
    return _facts_stmt(lambda sid: sid.in_(select(s.c.id)), head)


def _ids_param(postgres: bool, name: str, type_: Any) -> Callable[[ColumnElement[Any]], ColumnElement[bool]]:
    """`column = ANY(:name)` on PostgreSQL — one array parameter, where 10,000 bound values would cost more to
    expand, send and parse than the query itself; SQLite, in process, takes the expanded IN list."""
    if postgres:
        param = bindparam(name, type_=ARRAY(type_))
        return lambda column: column == any_(param)
    expanding = bindparam(name, expanding=True)
    return lambda column: column.in_(expanding)


@cache
def _many_subjects(postgres: bool) -> CompoundSelect:
    """Subjects by :ids and by :codes: two index scans (an OR of the two made PostgreSQL scan the table)."""
    cols = (Subject.id, Subject.name, Subject.uscc)
    by_id, by_code = _ids_param(postgres, "ids", BigInteger), _ids_param(postgres, "codes", String)
    return union_all(select(*cols).where(by_id(Subject.id)), select(*cols).where(by_code(Subject.uscc)))


@cache
def _many_subjects_facts(postgres: bool) -> CompoundSelect:
    """Facts of the subjects :sids (once resolved: joined to the resolving query, PostgreSQL hashed all 250,000
    records of the classes instead of probing the subject index)."""
    return _facts_stmt(_ids_param(postgres, "sids", BigInteger), None)


@cache
def _list_kinds() -> dict[str, str]:
    return {code: t.kind for code, t in list_rules.catalogue().types.items()}


@dataclass
class _Facts:
    subjects: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # id → (name, uscc)
    entries: dict[int, list[ListFact]] = field(default_factory=lambda: defaultdict(list))
    records: dict[int, list[RecordFact]] = field(default_factory=lambda: defaultdict(list))


@cache
def _compiled(stmt: Executable, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    compiled = stmt.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def _rows(session: Session, stmt: Executable, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
    """The rows of one of the prebuilt statements above, in the session's transaction.

    On PostgreSQL its SQL, compiled once, goes straight to the psycopg connection (after a flush, as autoflush
    would): what SQLAlchemy's execution adds per call (the execution context, parameter and result processing)
    cost as much CPU as the rest of a check together (1.1 of 2.4 ms per check on the loaded benchmark machine).
    These statements need none of it there: psycopg returns ints, strings and dates, times are passed aware UTC
    and JSON is passed as text."""
    if not is_postgres(session):
        return session.execute(stmt, params)
    session.flush()
    sql, fixed = _compiled(stmt, session.get_bind().dialect)
    driver = session.connection().connection.driver_connection
    return driver.execute(sql, fixed | params).fetchall()  # type: ignore[union-attr]


def _facts(session: Session, stmt: CompoundSelect, params: dict[str, Any]) -> _Facts:
    kinds = _list_kinds()
    facts = _Facts()
    for part, sid, rid, a, b, c, d1, d2 in _rows(session, stmt, params):
        if part == _SUBJECT:
            facts.subjects[sid] = (a, b)
        elif part == _ENTRY:
            facts.entries[sid].append(ListFact(rid, a, kinds.get(a, ""), b, d1, d2))
        else:
            facts.records[sid].append(RecordFact(rid, a, b, c, d1))
    return facts


def _parse_key(key: str) -> tuple[int | None, str]:
    """A stripped key → (subject id, "") for our numeric ids, else (None, normalised code). validate_uscc would
    return the same normalised code, so it is not run: an invalid code simply matches no subject."""
    if key.isdigit() and len(key) < 18:
        try:
            return int(key), ""
        except ValueError:  # digits int() refuses (superscripts): treat as a code
            pass
    if key.isascii() and key.isalnum():  # the usual case; NFKC and stripping change nothing
        return None, key.upper()
    return None, normalize_code(key)


def _result(
    sid: int, name: str, uscc: str | None, scenario: str, on: date, facts: _Facts, request_id: str = ""
) -> CheckResult:
    ev = rules.evaluate(scenario, on, facts.entries.get(sid, []), facts.records.get(sid, []))
    return CheckResult(sid, name, uscc, scenario, on, ev.standing_code, ev.standing, ev.measures, None, request_id)


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
    facts = _facts(session, _one_subject_facts(True), {"sid": subject.id, "on": on})
    result = _result(subject.id, subject.name, subject.uscc, scenario, on, facts)
    _store(session, result, _actor(client, actor), client)
    return result


def check_key(
    session: Session,
    key: str,
    scenario: str,
    client: ApiClient | None = None,
    on: date | None = None,
    *,
    actor: Actor | None = None,
) -> CheckResult:
    """`check` of the subject named by `key` (USCC or our numeric id), as the API receives it: one statement
    reads the subject and its facts, one writes the check and its audit event (PostgreSQL)."""
    scenario_or_raise(scenario)
    on = on or clock.today()
    key = key.strip()
    sid, code = _parse_key(key)
    params: dict[str, Any] = {"sid": sid, "on": on} if sid is not None else {"code": code, "on": on}
    facts = _facts(session, _one_subject_facts(sid is not None), params)
    if not facts.subjects:
        raise NotFound(f"未找到信用主体“{key}”", code="subject_not_found")
    [(sid, (name, uscc))] = facts.subjects.items()
    result = _result(sid, name, uscc, scenario, on, facts)
    _store(session, result, _actor(client, actor), client)
    return result


def _check_row(result: CheckResult, who: Actor, client: ApiClient | None, now: datetime) -> dict[str, Any]:
    return {
        "client_id": client.id if client else None,
        "actor": who.id,
        "subject_id": result.subject_id,
        "scenario": result.scenario,
        "checked_at": now,
        "checked_on": result.on,
        "standing": result.standing_code,
        "result": result.body(),
        "request_id": result.request_id,
    }


@cache
def _insert_check_and_event() -> Insert:
    """PostgreSQL: `WITH c AS (INSERT INTO checks … RETURNING id) INSERT INTO audit_events … SELECT … FROM c`:
    the check and its audit event in one round trip, both in the caller's transaction."""
    checks, events = Check.__table__, AuditEvent.__table__
    new = (
        insert(checks)
        .values({c: bindparam(f"c_{c}", type_=checks.c[c].type) for c in _CHECK_COLUMNS})
        .returning(checks.c.id)
        .cte("new_check")
    )
    columns = [c for c in _EVENT_COLUMNS if c != "target_id"]
    values = [bindparam(f"e_{c}", type_=events.c[c].type) for c in columns]
    return (
        insert(events)
        .from_select([*columns, "target_id"], select(*values, cast(new.c.id, String)))
        .returning(events.c.target_id)
    )


_CHECK_COLUMNS = (
    "client_id",
    "actor",
    "subject_id",
    "scenario",
    "checked_at",
    "checked_on",
    "standing",
    "result",
    "request_id",
)
_EVENT_COLUMNS = ("occurred_at", "actor", "actor_name", "action", "target_type", "target_id", "details")


def _store(session: Session, result: CheckResult, who: Actor, client: ApiClient | None) -> None:
    """The check row and its `check.run` audit event, with Core rather than an ORM flush (a check is a hot path)."""
    result.request_id = uuid.uuid4().hex
    row = _check_row(result, who, client, clock.now())
    details = {
        "subject_id": result.subject_id,
        "scenario": result.scenario,
        "standing": result.standing_code,
        "measures": [m["code"] for m in result.measures],
    }
    event = audit.event_values(who, "check.run", "check", "", details)
    if is_postgres(session):
        params = {f"c_{k}": v for k, v in row.items()} | {f"e_{k}": v for k, v in event.items() if k != "target_id"}
        params |= {"c_result": result.body_json(), "e_details": _dumps(event["details"])}  # JSON as text (_rows)
        [(check_id,)] = _rows(session, _insert_check_and_event(), params)
        result.check_id = int(check_id)
    else:
        result.check_id = session.execute(insert(Check.__table__), row).inserted_primary_key[0]
        session.execute(insert(AuditEvent.__table__), event | {"target_id": str(result.check_id)})


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
    parsed: dict[str, tuple[int | None, str]] = {}
    for raw in keys:
        key = str(raw).strip()
        if key and key not in parsed:
            parsed[key] = _parse_key(key)
    ids = sorted({sid for sid, _ in parsed.values() if sid is not None})
    codes = sorted({code for sid, code in parsed.values() if sid is None})
    postgres = is_postgres(session)
    rows = _rows(session, _many_subjects(postgres), {"ids": ids, "codes": codes})
    subjects = {sid: (name, uscc) for sid, name, uscc in rows}
    facts = _facts(session, _many_subjects_facts(postgres), {"sids": sorted(subjects), "on": on})
    by_code = {uscc: sid for sid, (_, uscc) in subjects.items() if uscc}

    batch = BatchResult(request_id, scenario)
    evaluated: dict[int, tuple[CheckResult, str]] = {}  # a subject sent twice (USCC and id) is evaluated once
    for raw in keys:
        sid, code = parsed.get(str(raw).strip(), (None, ""))
        if sid is None:
            sid = by_code.get(code)
        elif sid not in subjects:
            sid = None
        if sid is None:
            batch.results.append((raw, None, ""))
            continue
        if sid in evaluated:  # its own check row, the same body
            res, body = evaluated[sid]
            res = replace(res)
        else:
            name, uscc = subjects[sid]
            res = _result(sid, name, uscc, scenario, on, facts, request_id)
            body = res.body_json()
            evaluated[sid] = (res, body)
        batch.results.append((raw, res, body))
    found = [(res, body) for _, res, body in batch.results if res is not None]
    _insert_checks(session, found, who, client, request_id, postgres)
    check_ids = session.scalars(select(Check.id).where(Check.request_id == request_id).order_by(Check.id)).all()
    for (res, _), check_id in zip(found, check_ids, strict=True):
        res.check_id = check_id
    audit.record(
        session,
        who,
        "check.run",
        "check_batch",
        request_id,
        {
            "scenario": scenario,
            "count": len(found),
            "unknown": len(keys) - len(found),
            "first_check_id": min(check_ids, default=None),
            "last_check_id": max(check_ids, default=None),
        },
    )
    return batch


def _insert_checks(
    session: Session,
    found: list[tuple[CheckResult, str]],
    who: Actor,
    client: ApiClient | None,
    request_id: str,
    postgres: bool,
) -> None:
    """The batch's check rows in insertion order (their ids are read back by `request_id`): COPY on PostgreSQL,
    with the body JSON already built; one executemany on SQLite (RETURNING in parameter order would fall back
    to one INSERT per row there)."""
    now = clock.now()
    client_id = client.id if client else None
    if not postgres:
        insert_rows(session, Check, [_check_row(res, who, client, now) for res, _ in found])
        return
    session.flush()
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY checks ({', '.join(_CHECK_COLUMNS)}) FROM STDIN") as copy:
        for res, body in found:
            copy.write_row(
                (client_id, who.id, res.subject_id, res.scenario, now, res.on, res.standing_code, body, request_id)
            )


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
