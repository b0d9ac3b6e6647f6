"""Small builders so tests read like stories."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role, User
from xinyong.archive.identifiers import make_resident_id, make_uscc
from xinyong.archive.models import Subject, SubjectIdentifier
from xinyong.archive.service import name_initials, name_key
from xinyong.core import audit, clock

PASSWORD = "correct-horse-9"
NANJING_STEEL = "91320100748204660Q"  # 南京钢铁联合有限公司 (DOMAIN.md §1.8)


def make_subject(session: Session, **overrides: Any) -> Subject:
    name = overrides.pop("name", "南京钢铁联合有限公司")
    values: dict[str, Any] = {
        "kind": "legal_person",
        "uscc": NANJING_STEEL,
        "district_code": "320116",
        "industry": "C",
    } | overrides
    subject = Subject(name=name, name_key=name_key(name), name_initials=name_initials(name), **values)
    session.add(subject)
    session.flush()
    now = clock.now()
    if subject.uscc:
        session.add(
            SubjectIdentifier(
                subject_id=subject.id, scheme="uscc", value=subject.uscc, first_seen_at=now, last_seen_at=now
            )
        )
    session.flush()
    return subject


def make_person(session: Session, name: str = "张晓明", birth: date = date(1990, 1, 1), seq: int = 123) -> Subject:
    rid = make_resident_id("320102", birth, seq)
    subject = make_subject(session, name=name, kind="natural_person", uscc=None, district_code="320102")
    now = clock.now()
    session.add(
        SubjectIdentifier(subject_id=subject.id, scheme="resident_id", value=rid, first_seen_at=now, last_seen_at=now)
    )
    session.flush()
    return subject


def make_user(session: Session, username: str = "officer", role: Role | str = Role.CREDIT_OFFICE, **kw: Any) -> User:
    if Role(role) is Role.DEPARTMENT and "department_id" not in kw:
        kw["department_id"] = accounts.find_department(session, "scjgj").id
    return accounts.create_user(session, audit.SYSTEM, username=username, password=PASSWORD, role=role, **kw)


def valid_uscc(seed: int = 1, region: str = "320102") -> str:
    return make_uscc("9", "1", region, f"{seed:08d}")
