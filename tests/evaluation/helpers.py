"""Story helpers for evaluation and supervision tests: subjects with penalties, licences and list entries."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tests.builders import make_subject, valid_uscc
from xinyong.accounts import service as accounts
from xinyong.archive.models import CreditRecord, Subject
from xinyong.evaluation.rules import add_months

_keys = itertools.count(1)
_usccs = itertools.count(1)


def company(session: Session, name: str, **overrides: Any) -> Subject:
    overrides.setdefault("uscc", valid_uscc(next(_usccs)))
    return make_subject(session, name=name, **overrides)


def add_record(
    session: Session,
    subject: Subject,
    decided: date,
    info_class: str = "admin_penalty",
    severity: str | None = "general",
    **overrides: Any,
) -> CreditRecord:
    """One credit record as the collection pipeline leaves it (current, active), linked to `subject`."""
    key = f"test-{next(_keys)}"
    values: dict[str, Any] = {
        "info_class": info_class,
        "subject_id": subject.id,
        "link_method": "uscc",
        "source_department_id": accounts.find_department(session, "scjgj").id,
        "natural_key": key,
        "key_hash": hashlib.sha256(key.encode()).hexdigest(),
        "content_hash": hashlib.sha256(key.encode()).hexdigest(),
        "decision_no": f"宁市监罚〔2026〕{key}号",
        "decision_date": decided,
        "severity": severity if info_class == "admin_penalty" else None,
        "payload": {},
    } | overrides
    record = CreditRecord(**values)
    session.add(record)
    session.flush()
    return record


def months_before(day: date, months: int) -> date:
    return add_months(day, -months)
