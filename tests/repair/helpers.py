"""Records to repair or dispute: penalties ingested through the real collection pipeline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.builders import NANJING_STEEL, make_subject, make_user
from tests.collection.files import PENALTY_HEADER, penalty, write_csv
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role, User
from xinyong.archive.models import CreditRecord, Subject
from xinyong.collection.service import ingest_file
from xinyong.core import audit

HEADER = [*PENALTY_HEADER, "信用严重程度"]


def ingest_penalty(
    session: Session, tmp_path: Path, *, department: str = "sthjj", decided: str = "2026-04-02", **overrides: str
) -> CreditRecord:
    """One penalty of 南京钢铁联合有限公司 sent by `department` (生态环境局 by default: judged by the NDRC rules,
    not SAMR Order 45), returned as its current version."""
    row = penalty(**{"处罚决定日期": decided, "信用严重程度": "一般"} | overrides)
    path = write_csv(tmp_path / f"{department}-{row['行政处罚决定书文号']}.csv", [row], header=HEADER)
    dept = accounts.find_department(session, department)
    summary = ingest_file(session, path, department=dept, info_class="admin_penalty", actor=audit.SYSTEM)
    assert summary.accepted == 1, summary
    session.flush()
    return session.scalars(
        select(CreditRecord).where(
            CreditRecord.decision_no == row["行政处罚决定书文号"], CreditRecord.is_current.is_(True)
        )
    ).one()


def company_with_account(session: Session) -> tuple[Subject, User]:
    subject = session.scalar(select(Subject).where(Subject.uscc == NANJING_STEEL)) or make_subject(session)
    user = make_user(session, username="nangang", role=Role.SUBJECT, subject_id=subject.id)
    return subject, user


def reviewer(session: Session, department: str = "sthjj") -> User:
    dept = accounts.find_department(session, department)
    return make_user(session, username=f"reviewer-{department}", role=Role.DEPARTMENT, department_id=dept.id)
