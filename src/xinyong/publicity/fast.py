"""The public JSON API's hot paths — a subject's document (GET /api/v1/subjects/{key}) and search
(GET /api/v1/subjects?q=…) — each one or two statements on a kept connection, with no ORM and no transaction.

The generic path (views.subject_view in a unit of work) costs BEGIN, four ORM queries and COMMIT per request; at a
million subjects under 50 clients that is most of the server. Here the database builds the whole public document
— the subject, its current records inside their publicity window, its list entries in force — as one JSON value,
read in autocommit (one statement is one snapshot) on a `Readers` connection. Python decodes it, masks it with the
functions views.subject_view uses (views._mask_payload, masking.mask_name), adds the labels and encodes it. Search
runs archive.run_search, the same tiers as the pages' search. The API is anonymous, so only the public view is
served here; pages keep the generic path for the self and internal views. tests/publicity/test_fast_subject.py
checks both against the generic views: the document subject by subject, search query by query.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, TypeVar

import orjson
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from xinyong.archive import service as archive
from xinyong.archive.identifiers import normalize_code
from xinyong.archive.models import SUBJECT_KIND_LABELS, RecordState, SubjectKind
from xinyong.core import clock
from xinyong.core.errors import NotFound
from xinyong.lists.rules import EntryState
from xinyong.publicity import views
from xinyong.publicity.masking import mask_name

_ACTIVE = RecordState.ACTIVE.value
STATEMENT_TIMEOUT_MS = 5000  # a hot-path read that takes longer is a fault: fail it rather than hold a worker
_IN_FORCE = EntryState.IN_PUBLICITY.value

# One statement per database and key kind, with :named parameters. The database shapes the document as the API
# returns it, and Python fills in the labels and masks it. The filters are views.is_public and
# lists.service._in_force; the orders are archive.current_records and lists.active_entries (DESC puts NULLs first on
# PostgreSQL, last on SQLite, as the ORM queries do). `district` carries the district code until Python names it.
_PG = f"""
SELECT json_build_object(
  'id', s.id, 'kind', s.kind, 'kind_label', NULL, 'name', s.name, 'uscc', s.uscc, 'district', s.district_code,
  'records', (SELECT coalesce(json_agg(json_build_object(
                'id', r.id, 'info_class', r.info_class, 'decision_no', r.decision_no, 'decision_date', r.decision_date,
                'state', r.state, 'disputed', r.disputed, 'publicity_end', r.publicity_end, 'severity', r.severity,
                'publicity_rule', r.publicity_rule, 'content', r.payload)
              ORDER BY r.decision_date DESC, r.id DESC), '[]')
       FROM credit_records r
      WHERE r.subject_id = s.id AND r.is_current AND r.state = '{_ACTIVE}'
        AND (r.publicity_end IS NULL OR r.publicity_end >= :today)),
  'list_entries', (SELECT coalesce(json_agg(json_build_object(
                'list_type', e.list_type, 'name', NULL, 'kind', NULL, 'legal_basis', NULL, 'decision_no', e.decision_no,
                'publicity_from', e.publicity_from, 'term_end', e.term_end) ORDER BY e.id), '[]')
       FROM list_entries e
      WHERE e.subject_id = s.id AND e.state = '{_IN_FORCE}' AND e.publicity_from <= :today
        AND (e.term_end IS NULL OR e.term_end > :today))
)::text
FROM subjects s
"""
_SQLITE = f"""
SELECT json_object(
  'id', s.id, 'kind', s.kind, 'kind_label', NULL, 'name', s.name, 'uscc', s.uscc, 'district', s.district_code,
  'records', json((SELECT json_group_array(json_object(
                'id', r.id, 'info_class', r.info_class, 'decision_no', r.decision_no, 'decision_date', r.decision_date,
                'state', r.state, 'disputed', CASE WHEN r.disputed THEN json('true') ELSE json('false') END,
                'publicity_end', r.publicity_end, 'severity', r.severity, 'publicity_rule', r.publicity_rule,
                'content', json(r.payload)) ORDER BY r.decision_date DESC, r.id DESC)
       FROM credit_records r
      WHERE r.subject_id = s.id AND r.is_current AND r.state = '{_ACTIVE}'
        AND (r.publicity_end IS NULL OR r.publicity_end >= :today))),
  'list_entries', json((SELECT json_group_array(json_object(
                'list_type', e.list_type, 'name', NULL, 'kind', NULL, 'legal_basis', NULL, 'decision_no', e.decision_no,
                'publicity_from', e.publicity_from, 'term_end', e.term_end) ORDER BY e.id)
       FROM list_entries e
      WHERE e.subject_id = s.id AND e.state = '{_IN_FORCE}' AND e.publicity_from <= :today
        AND (e.term_end IS NULL OR e.term_end > :today)))
)
FROM subjects s
"""
STATEMENTS = {
    ("postgresql", "id"): _PG + "WHERE s.id = :key",
    ("postgresql", "uscc"): _PG + "WHERE s.uscc = :key",
    ("sqlite", "id"): _SQLITE + "WHERE s.id = :key",
    ("sqlite", "uscc"): _SQLITE + "WHERE s.uscc = :key",
}


def parse_key(key: str) -> tuple[str, int | str]:
    """A subject key as archive.subject_by_key reads it: our numeric id, else a USCC (normalised)."""
    key = key.strip()
    if key.isdigit() and len(key) < 18:
        return "id", int(key)
    return "uscc", normalize_code(key)


def public_subject_json(engine: Engine, key: str) -> bytes:
    """GET /api/v1/subjects/{key} as UTF-8 JSON bytes; NotFound as archive.subject_by_key raises it."""
    raw = fetch_document(engine, key, clock.today())
    if raw is None:
        raise NotFound(f"未找到信用主体“{key.strip()}”", code="subject_not_found")
    return orjson.dumps(public_document(raw))


def fetch_document(engine: Engine, key: str, today: date) -> str | None:
    """The raw JSON of one subject's public document, or None: one statement, no transaction of our own."""
    kind, value = parse_key(key)
    readers = _readers(engine)
    sql = readers.statements[kind]
    params: dict[str, Any] = {"key": value, "today": today.isoformat() if readers.sqlite else today}
    row = readers.run(lambda cursor: readers.execute(cursor, sql, params, prepare=True).fetchone())
    return row[0] if row else None


def public_document(raw: str) -> dict[str, Any]:
    """The anonymous document from the database's JSON: labels added, persons' names and every payload masked by
    the functions views.subject_view uses (views._mask_payload, masking.mask_name)."""
    doc = orjson.loads(raw)
    kind = doc["kind"]
    person = kind == SubjectKind.NATURAL_PERSON
    doc["kind_label"] = SUBJECT_KIND_LABELS.get(SubjectKind(kind), kind)
    if person:
        doc["name"] = mask_name(doc["name"])
    doc["district"] = archive.region_name(doc["district"])
    for record in doc["records"]:
        record["content"] = views._mask_payload(record["content"], person)
        code = record["publicity_rule"]
        record["publicity_rule"] = dict(_rule_document(code)) if code else None
    if doc["list_entries"]:
        from xinyong.lists import service as lists

        kinds = {t.code: t for t in lists.list_types()}
        for entry in doc["list_entries"]:
            known = kinds.get(entry["list_type"])
            entry["name"] = known.name if known else entry["list_type"]
            entry["kind"] = known.kind if known else ""
            entry["legal_basis"] = known.legal_basis if known else ""
    return doc


@cache
def _rule_document(code: str) -> tuple[tuple[str, str], ...]:
    """The rule as the document shows it; the rule files are loaded once per process (rules.publicity_rules)."""
    rule = views._rule(code)
    return (("code", code), ("name", rule.name if rule else ""), ("legal_basis", rule.legal_basis if rule else ""))


PUBLIC_SEARCH_EXCLUDES = (SubjectKind.NATURAL_PERSON.value,)  # as views.search_view: persons are not searchable


def search_json(engine: Engine, q: str, limit: int = 20) -> bytes:
    """GET /api/v1/subjects?q=… as UTF-8 JSON bytes: archive.run_search on a kept connection, items shaped as
    views.search_view shapes them (tests/publicity/test_fast_subject.py compares the two)."""
    readers = _readers(engine)
    dialect = "sqlite" if readers.sqlite else "postgresql"

    def work(cursor: Any) -> list[archive.SearchHit]:
        def execute(sql: str, params: dict[str, Any]) -> list[Any]:
            return readers.execute(cursor, sql, params, prepare=False).fetchall()

        return archive.run_search(execute, dialect, q, limit, PUBLIC_SEARCH_EXCLUDES)

    items = [
        {
            "id": hit.id,
            "kind": hit.kind,
            "kind_label": SUBJECT_KIND_LABELS.get(SubjectKind(hit.kind), hit.kind),
            "name": mask_name(hit.name) if hit.kind == SubjectKind.NATURAL_PERSON else hit.name,
            "uscc": hit.uscc,
            "district_code": hit.district_code,
            "district": archive.region_name(hit.district_code),
        }
        for hit in readers.run(work)
    ]
    return orjson.dumps({"q": q, "count": len(items), "items": items})


async def answer(engine: Engine, work: Callable[[], bytes]) -> bytes:
    """Run a hot path for an `async def` endpoint. On PostgreSQL inline, on the event loop: the statement takes a
    fraction of a millisecond to a few, never waits for a writer (MVCC), and is bounded by the readers'
    statement_timeout; handing it to the thread pool instead costs more than the work and, under 50 clients, makes
    dozens of threads convoy on the GIL (p99 of a bare `def` endpoint 80-120 ms against 7-9 ms for `async def`,
    benchmarks/portal.py). SQLite may wait for a writer's lock (busy timeout), so there it goes to the thread pool."""
    if engine.dialect.name == "postgresql":
        return work()
    return await run_in_threadpool(work)


def subject_document(data: views.SubjectView) -> dict[str, Any]:
    """The API's subject document built from the generic view, as GET /api/v1/subjects/{key} built it before this
    module: the reference the fast path is tested against (and the benchmark's generic endpoint)."""
    return {
        "id": data.id,
        "kind": data.kind,
        "kind_label": data.kind_label,
        "name": data.name,
        "uscc": data.uscc,
        "district": data.district,
        "records": [
            {
                "id": r.id,
                "info_class": r.info_class,
                "decision_no": r.decision_no,
                "decision_date": r.decision_date.isoformat() if r.decision_date else None,
                "state": r.state,
                "disputed": r.disputed,
                "publicity_end": r.publicity_end.isoformat() if r.publicity_end else None,
                "severity": r.severity,
                "publicity_rule": {"code": r.publicity_rule, "name": r.rule_name, "legal_basis": r.legal_basis}
                if r.publicity_rule
                else None,
                "content": r.payload,
            }
            for r in data.records
        ],
        "list_entries": [
            {
                "list_type": e["list_type"],
                "name": e["name"],
                "kind": e["kind"],
                "legal_basis": e["legal_basis"],
                "decision_no": e["decision_no"],
                "publicity_from": e["publicity_from"].isoformat() if e["publicity_from"] else None,
                "term_end": e["term_end"].isoformat() if e["term_end"] else None,
            }
            for e in data.list_entries
        ],
    }


T = TypeVar("T")


class Readers:
    """A few connections kept for the fast paths, in autocommit, each with its cursor, so one read is one round trip
    and a statement can stay prepared on its connection.

    Why not the engine's pool: a checkout and return there costs about as much CPU as the read itself (events,
    reset on return, and a BEGIN/ROLLBACK pair unless the connection is switched to autocommit and back), and a read
    needs none of it. The connections are made by the engine (its URL and connect options) and detached from its
    pool. A connection is closed, never returned, after any error; a server that restarted while connections sat
    idle costs one retry on a fresh connection (a read is safe to repeat). Parallel workers are off on these
    connections: on a busy server their start-up costs more than the short scans they would split.
    """

    def __init__(self, engine: Engine, size: int = 8, recycle: float = 1800.0) -> None:
        self._engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.statements = {k: sql for (dialect, k), sql in STATEMENTS.items() if (dialect == "sqlite") == self.sqlite}
        self._idle: deque[tuple[Any, Any, float]] = deque()
        self._slots = threading.BoundedSemaphore(size)
        self._recycle = recycle

    def execute(self, cursor: Any, sql: str, params: dict[str, Any], *, prepare: bool) -> Any:
        """Run one statement: `prepare` keeps it prepared on PostgreSQL (a generic plan is fine for key lookups);
        statements whose best plan depends on the values (LIKE patterns) pass False and are planned each time."""
        if self.sqlite:
            return cursor.execute(sql, params)
        return cursor.execute(_pyformat(sql), params, prepare=prepare)

    def run(self, work: Callable[[Any], T]) -> T:
        """`work(cursor)` on a kept connection, retried once on a fresh one if a kept one turns out to be dead."""
        with self._slots:
            for retry in (False, True):
                conn, cursor, born, reused = self._take()
                try:
                    result = work(cursor)
                except self._engine.dialect.loaded_dbapi.OperationalError:
                    self._close(conn)
                    if retry or not reused:
                        raise
                    self.close()  # the others idled through the same outage
                    continue
                except BaseException:
                    self._close(conn)
                    raise
                self._idle.append((conn, cursor, born))
                return result
        raise AssertionError("unreachable")

    def _take(self) -> tuple[Any, Any, float, bool]:
        """An idle connection (the most recently used: warm, its statements prepared), or a new one."""
        while self._idle:
            conn, cursor, born = self._idle.pop()
            if time.monotonic() - born < self._recycle:
                return conn, cursor, born, True
            self._close(conn)
        fairy = self._engine.raw_connection()
        conn = fairy.driver_connection
        fairy.detach()  # ours now: closed by us, never handed back to the engine's pool
        try:
            if self.sqlite:
                conn.isolation_level = None  # as core.db sets it: each statement its own read transaction
            else:
                conn.autocommit = True
                conn.execute("SET max_parallel_workers_per_gather = 0")
                conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")  # answer() runs on the event loop
            return conn, conn.cursor(), time.monotonic(), False
        except BaseException:
            self._close(conn)
            raise

    @staticmethod
    def _close(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        """Close the idle connections (at exit, after an outage); those in use are closed or kept as they finish."""
        while self._idle:
            self._close(self._idle.pop()[0])


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@cache
def _pyformat(sql: str) -> str:
    """:name parameters (archive.search_statements, shared with the ORM path) as psycopg's %(name)s."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


_pools: dict[Engine, Readers] = {}
_pools_lock = threading.Lock()


def _readers(engine: Engine) -> Readers:
    """One set of readers per engine (engines are per URL and per process: core.db.get_engine)."""
    found = _pools.get(engine)
    if found is None:
        with _pools_lock:
            found = _pools.get(engine)
            if found is None:
                found = _pools[engine] = Readers(engine)
                atexit.register(found.close)
    return found
