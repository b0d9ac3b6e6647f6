"""Record versions written by workflows rather than by a submitted file: a manual link, a repair, a correction
after an objection, a breached commitment. Records are never changed in place: each change is a new version and
the old one stays as history (only its `is_current` / `superseded_at` closing flags change)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.archive.models import CreditRecord, LinkMethod, RecordState, Subject
from xinyong.core import clock
from xinyong.core.errors import Conflict, NotFound


def content_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def current_version(session: Session, key_hash: str, *, lock: bool = False) -> CreditRecord | None:
    stmt = select(CreditRecord).where(CreditRecord.key_hash == key_hash, CreditRecord.is_current.is_(True))
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def current_of(session: Session, record_id: int, *, lock: bool = False) -> CreditRecord:
    """The current version of the record that `record_id` (any version) belongs to."""
    record = session.get(CreditRecord, record_id)
    if record is None:
        raise NotFound(f"信用记录 {record_id} 不存在", code="record_not_found")
    current = current_version(session, record.key_hash, lock=lock)
    if current is None:
        raise Conflict("该记录已没有当前版本", code="no_current_version")
    return current


def new_version(session: Session, current: CreditRecord, **changes: Any) -> CreditRecord:
    """Supersede `current` by a copy carrying `changes`; the content hash follows a changed payload."""
    if not current.is_current:
        raise Conflict("该记录版本已被更新，请刷新后重试", code="stale_version")
    now = clock.now()
    current.is_current = False
    current.superseded_at = now
    session.flush()
    columns = [c.key for c in CreditRecord.__table__.columns if c.key != "id"]
    values = {c: getattr(current, c) for c in columns}
    values |= {"version": current.version + 1, "is_current": True, "superseded_at": None, "created_at": now}
    values |= changes
    if "payload" in changes:
        values["content_hash"] = content_hash(changes["payload"])
    record = CreditRecord(**values)
    session.add(record)
    session.flush()
    return record


def create_record(
    session: Session,
    *,
    info_class: str,
    subject: Subject,
    department_id: int,
    department_code: str,
    key_parts: list[str],
    payload: dict[str, Any],
    decision_no: str | None,
    decision_date: date,
) -> CreditRecord:
    """A record the platform itself produces (a breached commitment, an inspection result), judged by the same
    publicity rules as a submitted one. The natural key is (class, department, *key_parts) as in collection."""
    from xinyong.publicity import rules as publicity_rules

    natural_key = "|".join([info_class, department_code, *key_parts])[:300]
    key_hash = hashlib.sha256(natural_key.encode()).hexdigest()
    if current_version(session, key_hash) is not None:
        raise Conflict("该记录已存在", code="record_exists")
    values = {k: v for k, v in payload.items()} | {"decision_date": decision_date}
    window = publicity_rules.judge(info_class, values, department_code)
    record = CreditRecord(
        info_class=info_class,
        subject_id=subject.id,
        link_method=LinkMethod.MANUAL.value,
        link_confidence=1.0,
        source_department_id=department_id,
        natural_key=natural_key,
        key_hash=key_hash,
        version=1,
        is_current=True,
        content_hash=content_hash(payload),
        decision_no=decision_no,
        decision_date=decision_date,
        severity=window.severity,
        publicity_rule=window.rule,
        publicity_start=window.start,
        publicity_min_end=window.min_end,
        publicity_end=window.end,
        state=RecordState.ACTIVE.value,
        disputed=False,
        payload=payload,
        created_at=clock.now(),
    )
    session.add(record)
    session.flush()
    return record
