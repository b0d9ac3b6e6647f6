"""Storing a chunk of validated rows: link, version, reject, and keep registration facts (collection.service calls
it once per chunk inside the batch's transaction)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive import service as archive
from xinyong.archive.models import CreditRecord, LinkMethod, RecordState, Subject, SubjectFact
from xinyong.archive.versions import content_hash
from xinyong.catalog.schemas import InfoClass
from xinyong.catalog.service import Catalog
from xinyong.collection.linking import CONFIDENCE, Link, district_of, kind_for, link_rows
from xinyong.collection.models import Batch, LinkReview, Rejection
from xinyong.collection.validate import ValidatedRow
from xinyong.core.bulk import JsonText, insert_rows, member_of
from xinyong.publicity import rules as publicity_rules

if TYPE_CHECKING:  # service imports this module
    from xinyong.collection.service import BatchSummary

JUDGE_MEMO_LIMIT = 4096
_ACTIVE, _WITHDRAWN = RecordState.ACTIVE.value, RecordState.WITHDRAWN.value
FACT_PROPERTIES = (
    "subject_name",
    "subject_type",
    "legal_rep",
    "registered_capital",
    "established_on",
    "address",
    "district",
    "industry",
    "business_scope",
    "registration_authority",
    "registration_status",
)


def _jsonable(value: Any) -> Any:
    if value.__class__ is str:
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return value


def _json_text(payload: dict[str, Any]) -> JsonText | dict[str, Any]:
    """The payload as JSON text for COPY into JSONB, by orjson (a tenth of `json.dumps`'s time; JSONB keeps no
    formatting, so only the values matter, and payloads hold only JSON types by now)."""
    try:
        return JsonText(orjson.dumps(payload).decode())
    except (TypeError, orjson.JSONEncodeError):  # e.g. a lone surrogate: let insert_rows encode it as before
        return payload


Staged = tuple[ValidatedRow, dict[str, Any] | None]  # a validated row and, if it is good, its prepared form


class RowPreparer:
    """What a good row becomes before it meets the database: payload, natural key and content hashes, the link
    input. A pure function of the row, the class and the submitting department, so it can run in the reading
    process (collection.pipeline) while this one stores the previous chunk."""

    def __init__(self, cls: InfoClass, department_code: str, *, names: bool = False, json_text: bool = False) -> None:
        # per-row attribute reads of pydantic models add up over a million rows: read them once
        spec = cls.subject
        self._subject_fields = (spec.uscc, spec.id_no, spec.category, spec.id_type, spec.name)
        self._legacy = tuple(spec.legacy)
        self._natural_key = tuple(cls.natural_key)
        self._key_prefix = f"{cls.code}|{department_code}"
        # the fields whose values may be dates or decimals (the rest are text, codes or lists of codes)
        self._converted = [
            f.name
            for f in cls.fields
            if f.type in ("date", "decimal", "integer") or (f.derive or "").startswith(("field.", "const."))
        ]
        # pinyin initials cost ~15 µs a name: worth computing ahead only where another process does it
        self._names = names
        self._json_text = json_text  # the payload as JSON text, for PostgreSQL's COPY (SQLite takes the dict)
        self._class_code, self._department_code = cls.code, department_code
        self._judged: dict[tuple[Any, ...], publicity_rules.Judgement] = {}
        self._dated = sorted(
            {"decision_date", "established_on"}
            | {f.name for f in cls.fields if f.type == "date" or (f.derive or "").startswith("field.")}
        )

    def stage(self, rows: list[ValidatedRow]) -> list[Staged]:
        return [(r, None if r.errors else self.prepare(r)) for r in rows]

    def prepare(self, row: ValidatedRow) -> dict[str, Any]:
        values = row.values
        payload = values.copy()
        for name in self._converted:
            value = payload.get(name)
            if value is not None:
                payload[name] = _jsonable(value)
        for name, meaning in row.placeholders.items():
            payload.setdefault(name, meaning)
        uscc_f, id_no_f, category_f, id_type_f, name_f = self._subject_fields
        uscc = values.get(uscc_f) if uscc_f else None
        id_no = values.get(id_no_f) if id_no_f else None
        category = values.get(category_f) if category_f else None
        id_type = values.get(id_type_f) if id_type_f else None
        is_rid = bool(id_no) and category == "natural_person" and id_type in (None, "resident_id") and not uscc
        subject_name = values.get(name_f)
        link_input = {
            "uscc": uscc,
            "id_no": id_no,
            "_rid": is_rid,
            "subject_category": category,
            "subject_name": subject_name,
        }
        if self._names and subject_name and (uscc or is_rid):  # the rows that may create a subject
            link_input["_initials"] = archive.name_initials(subject_name)
        for legacy in self._legacy:
            if values.get(legacy):
                link_input[legacy] = values[legacy]
        parts = [self._key_prefix, *[str(payload.get(k) or "") for k in self._natural_key]]
        if not uscc and not id_no:
            parts.append(archive.name_key(str(subject_name or "")))
        natural_key = "|".join(parts)
        decision = values.get("decision_date") or values.get("established_on")
        return {
            "row": row,
            "values": values,
            "payload": payload,
            "payload_json": _json_text(payload) if self._json_text else None,
            "link_input": link_input,
            "natural_key": natural_key[:300],
            "key_hash": hashlib.sha256(natural_key.encode()).hexdigest(),
            "content_hash": content_hash(payload),
            "decision": decision,
            "window": self.judge(values) if decision else None,
        }

    def judge(self, values: dict[str, Any]) -> publicity_rules.Judgement:
        """`publicity_rules.judge`, memoised on what it reads: the categories, the fine, a submitted severity and
        the dates (decision date and the "until" fields: date fields, or fields derived by copying one). A batch
        has few distinct combinations; tests/collection/test_fast_paths.py compares it with `judge`."""
        categories = values.get("penalty_category")
        key = (
            tuple(categories) if isinstance(categories, list) else categories,
            values.get("fine_amount"),
            values.get("severity"),
            tuple(map(values.get, self._dated)),
        )
        window = self._judged.get(key)
        if window is None:
            window = publicity_rules.judge(self._class_code, values, self._department_code)
            if len(self._judged) >= JUDGE_MEMO_LIMIT:
                self._judged.clear()
            self._judged[key] = window
        return window


class ChunkLoader:
    """Stores chunks of validated rows. Records stored by earlier chunks of the same batch are visible to later
    ones (same transaction), so repeats across a file are found by the database, not held in memory."""

    def __init__(
        self,
        session: Session,
        catalog: Catalog,
        cls: InfoClass,
        department: Department,
        batch: Batch,
        summary: BatchSummary,
        now: datetime,
    ) -> None:
        self.session, self.catalog, self.cls = session, catalog, cls
        self.department, self.batch, self.summary, self.now = department, batch, summary, now
        status_list = catalog.code_lists.get("record_status")
        self.ending = {v.code for v in status_list.values if v.ends_record} if status_list else set()
        # per-row attribute reads of ORM instances add up over a million rows: read them once
        self._class_code, self._department_id, self._batch_id = cls.code, department.id, batch.id
        self._pg = session is not None and session.get_bind().dialect.name == "postgresql"

    def load(self, staged: list[Staged]) -> None:
        """Store one chunk: rows as validated, each good one with its prepared form (RowPreparer.stage)."""
        self.summary.rows += len(staged)
        self._reject([r for r, p in staged if p is None])
        good = [p for _, p in staged if p is not None]
        if good:
            self._store(good)

    def _reject(self, rows: list[ValidatedRow]) -> None:
        self.summary.rejected += len(rows)
        if rows:
            insert_rows(
                self.session,
                Rejection,
                [
                    {
                        "batch_id": self.batch.id,
                        "row_number": r.number,
                        "column": e.column,
                        "error_code": e.code,
                        "message": e.message,
                        "raw": r.raw,
                    }
                    for r in rows
                    for e in r.errors
                ],
            )

    def _store(self, prepared: list[dict[str, Any]]) -> None:
        links = link_rows(self.session, [p["link_input"] for p in prepared], self.now, self.batch.id)
        existing, seen = self._versions({p["key_hash"] for p in prepared})
        pending: dict[str, dict[str, Any]] = {}
        inserts: list[dict[str, Any]] = []
        reviews: list[tuple[int, Link, str]] = []
        supersede: list[int] = []
        for p, link in zip(prepared, links, strict=True):
            key = p["key_hash"]
            current = pending.get(key) or existing.get(key)
            if p["content_hash"] in seen.get(key, ()):
                self.summary.duplicates += 1  # identical to a stored version: a re-sent old file reverts nothing
                continue
            seen.setdefault(key, set()).add(p["content_hash"])
            record = self._record(p, link, current)
            if current is not None:
                self.summary.new_versions += 1
                if "id" in current:
                    supersede.append(current["id"])
                else:
                    current["is_current"] = False
                    current["superseded_at"] = self.now
            self.summary.accepted += 1
            if record["state"] == RecordState.WITHDRAWN:
                self.summary.withdrawn += 1
            method = link.method.value
            self.summary.linked[method] = self.summary.linked.get(method, 0) + 1
            pending[key] = record
            inserts.append(record)
            if link.method is LinkMethod.REVIEW:
                reviews.append((len(inserts) - 1, link, p["values"].get("subject_name", "")))
        if supersede:
            self.session.execute(
                update(CreditRecord)
                .where(CreditRecord.id.in_(supersede))
                .values(is_current=False, superseded_at=self.now)
            )
        if inserts:
            ids = insert_rows(self.session, CreditRecord, inserts, return_ids=bool(reviews))
            if reviews:
                self.summary.review += len(reviews)
                insert_rows(
                    self.session,
                    LinkReview,
                    [
                        {
                            "record_id": ids[i],
                            "batch_id": self.batch.id,
                            "subject_name": name,
                            "candidates": link.candidates,
                            "state": "open",
                            "created_at": self.now,
                        }
                        for i, link, name in reviews
                    ],
                )
        if self.cls.code == "registration":
            self._register(prepared, links)

    def _record(self, p: dict[str, Any], link: Link, current: dict[str, Any] | None) -> dict[str, Any]:
        values = p["values"]
        ended = values.get("status") in self.ending
        decision = p["decision"]
        window = p["window"]
        method = link.method
        return {
            "info_class": self._class_code,
            "subject_id": link.subject_id,
            "link_method": method.value,
            "link_confidence": CONFIDENCE.get(method, 1.0),
            "source_department_id": self._department_id,
            "natural_key": p["natural_key"],
            "key_hash": p["key_hash"],
            "version": (current["version"] + 1) if current else 1,
            "is_current": True,
            "superseded_at": None,
            "content_hash": p["content_hash"],
            "decision_no": values.get("decision_no"),
            "decision_date": decision,
            "severity": window.severity if window else values.get("severity"),
            "publicity_rule": window.rule if window else None,
            "publicity_start": window.start if window else decision,
            "publicity_min_end": window.min_end if window else None,
            "publicity_end": window.end if window else None,
            "state": _WITHDRAWN if ended else _ACTIVE,
            "disputed": bool(current and current.get("disputed")),  # an open objection follows the record
            "batch_id": self._batch_id,
            "source_row": p["row"].number,
            "payload": p["payload_json"] if self._pg else p["payload"],
            "created_at": self.now,
        }

    def _versions(self, key_hashes: set[str]) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
        """The current version of each key, and the content hashes of all its stored versions."""
        current: dict[str, dict[str, Any]] = {}
        seen: dict[str, set[str]] = {}
        if not key_hashes:
            return current, seen
        stmt = select(
            CreditRecord.id,
            CreditRecord.key_hash,
            CreditRecord.version,
            CreditRecord.content_hash,
            CreditRecord.is_current,
            CreditRecord.disputed,
        ).where(member_of(self.session, CreditRecord.key_hash, list(key_hashes)))
        for i, kh, v, ch, is_current, disputed in self.session.execute(stmt):
            seen.setdefault(kh, set()).add(ch)
            if is_current:
                current[kh] = {"id": i, "version": v, "content_hash": ch, "disputed": disputed}
        return current, seen

    def _register(self, prepared: list[dict[str, Any]], links: list[Link]) -> None:
        """Registration rows keep the subject's attributes current and their history as facts (statements)."""
        latest: dict[int, dict[str, Any]] = {}
        for p, link in zip(prepared, links, strict=True):
            if link.subject_id is not None:
                latest[link.subject_id] = p["payload"]
        if not latest:
            return
        facts = self.session.execute(
            select(SubjectFact.id, SubjectFact.subject_id, SubjectFact.property, SubjectFact.value).where(
                SubjectFact.subject_id.in_(list(latest)), SubjectFact.is_current.is_(True)
            )
        )
        current = {(sid, prop): (fid, value) for fid, sid, prop, value in facts}
        close: list[int] = []
        add: list[dict[str, Any]] = []
        subjects: list[dict[str, Any]] = []
        regions = {v: k for k, v in archive.regions().items()}
        for sid, payload in latest.items():
            changed = False
            for prop in FACT_PROPERTIES:
                value = payload.get(prop)
                if value is None:
                    continue
                value = str(value)
                old = current.get((sid, prop))
                if old is not None and old[1] == value:
                    continue
                if old is not None:
                    close.append(old[0])
                add.append(
                    {
                        "subject_id": sid,
                        "property": prop,
                        "value": value,
                        "is_current": True,
                        "source_batch_id": self.batch.id,
                        "source_department_id": self.department.id,
                        "first_seen_at": self.now,
                        "last_seen_at": self.now,
                    }
                )
                changed = True
            if changed:
                name = str(payload.get("subject_name"))
                subjects.append(
                    {
                        "id": sid,
                        "name": name,
                        "name_key": archive.name_key(name),
                        "name_initials": archive.name_initials(name),
                        "kind": kind_for(payload.get("uscc"), None).value,
                        "district_code": regions.get(str(payload.get("district"))) or district_of(payload.get("uscc")),
                        "industry": payload.get("industry"),
                        "status": payload.get("registration_status") or "active",
                        "registered_on": date.fromisoformat(payload["established_on"])
                        if payload.get("established_on")
                        else None,
                        "updated_at": self.now,
                    }
                )
        if close:
            self.session.execute(update(SubjectFact).where(SubjectFact.id.in_(close)).values(is_current=False))
        if add:
            insert_rows(self.session, SubjectFact, add)
        if subjects:
            self.session.execute(update(Subject), subjects)
