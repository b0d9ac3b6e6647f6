"""Sending and reading notices. A notice goes to an audience (a subject's accounts, a department's accounts or
the credit office), not to one user, so it reaches whoever handles the case. Reading them is not audited: they
carry no data beyond what the reader may already see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xinyong.accounts.models import Role, User
from xinyong.core import clock
from xinyong.notices.models import Notice


def send(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    subject_id: int | None = None,
    department_id: int | None = None,
    link: str | None = None,
    dedup_key: str | None = None,
) -> Notice | None:
    """Queue a notice in the caller's transaction; with `dedup_key`, a second call with the same key does nothing
    and returns None (scheduled reminders run again and again)."""
    if dedup_key is not None and session.scalar(select(Notice.id).where(Notice.dedup_key == dedup_key)):
        return None
    audience = "subject" if subject_id else "department" if department_id else "office"
    notice = Notice(
        audience=audience,
        subject_id=subject_id,
        department_id=department_id,
        kind=kind,
        title=title,
        body=body,
        link=link,
        dedup_key=dedup_key,
    )
    session.add(notice)
    session.flush()
    return notice


def _mine(user: User) -> Any:
    if user.role == Role.SUBJECT:
        return Notice.subject_id == (user.subject_id or -1)
    if user.role == Role.DEPARTMENT:
        return Notice.department_id == (user.department_id or -1)
    return Notice.audience == "office"


def for_user(session: Session, user: User, limit: int = 100) -> list[Notice]:
    stmt = select(Notice).where(_mine(user)).order_by(Notice.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notice).where(_mine(user), Notice.read_at.is_(None))) or 0


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(update(Notice).where(_mine(user), Notice.read_at.is_(None)).values(read_at=clock.now()))
    return result.rowcount or 0
