"""Story helpers shared by the lists and measures tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from xinyong.archive.models import Subject
from xinyong.core import audit
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry

OFFICER = audit.Actor("user:1", "信用办经办人")


def list_through_procedure(
    session: Session, subject: Subject, list_type: str = "samr_serious_illegal", publicity_from: date | None = None
) -> ListEntry:
    """告知 → 陈述申辩（答复）→ 决定 → 公示, as a listing authority does it."""
    entry = lists.propose(
        session, OFFICER, list_type=list_type, subject=subject, reason="提供虚假材料取得许可，情节严重"
    )
    lists.notify(session, entry, OFFICER, doc_no="宁市监告〔2026〕1号")
    lists.record_statement(
        session,
        entry,
        OFFICER,
        statement="当事人称系工作人员失误",
        reply="经核实，申辩理由不成立",
        doc_no="宁市监复〔2026〕1号",
    )
    lists.decide(session, entry, OFFICER, doc_no="宁市监列〔2026〕1号")
    lists.publish(session, entry, OFFICER, publicity_from=publicity_from)
    return entry
