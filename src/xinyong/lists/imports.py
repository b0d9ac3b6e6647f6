"""List entries decided upstream and sent as files (catalogue class `list_entry`): after a batch is stored, its
records are turned into list entries in the batch's own transaction, so a batch and its entries appear together
or not at all. Called by the collection pipeline through the class's `after_load`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.collection.models import Batch
from xinyong.core import clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict
from xinyong.lists import service
from xinyong.lists.models import ListEntry
from xinyong.lists.rules import EntryState


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def sync_batch(session: Session, batch: Batch, actor: Actor) -> dict[str, int]:
    """entered / removed / term_moved / skipped (already listed, term over, subject awaiting a manual link)."""
    counts = {"entered": 0, "removed": 0, "term_moved": 0, "skipped": 0}
    department = session.get(Department, batch.department_id)
    assert department is not None
    records = session.scalars(
        select(CreditRecord).where(CreditRecord.batch_id == batch.id, CreditRecord.is_current.is_(True))
    ).all()
    today = clock.today()
    for record in records:
        p = record.payload
        entry = session.scalar(
            select(ListEntry)
            .join(CreditRecord, CreditRecord.id == ListEntry.basis_record_id)
            .where(CreditRecord.key_hash == record.key_hash)
            .order_by(ListEntry.id.desc())
            .limit(1)
        )
        in_force = entry is not None and entry.state == EntryState.IN_PUBLICITY
        if record.state == RecordState.WITHDRAWN:
            if in_force:
                service.remove(session, entry, actor, reason="withdrawn_decision", doc_no=record.decision_no)
                counts["removed"] += 1
            continue
        start = _day(p.get("publicity_from")) or record.decision_date or today
        end = _day(p.get("term_end"))
        if entry is not None:
            if in_force and end is not None and end != entry.term_end:
                service.move_term_end(session, entry, actor, end)
                counts["term_moved"] += 1
            continue
        subject = session.get(Subject, record.subject_id) if record.subject_id else None
        if subject is None or (end is not None and end <= today):
            counts["skipped"] += 1
            continue
        try:
            with session.begin_nested():
                service.import_entry(
                    session,
                    actor,
                    list_type=p["list_type"],
                    subject=subject,
                    reason=p.get("reason") or "",
                    decision_no=record.decision_no or "",
                    authority=p.get("listing_authority") or department.name,
                    publicity_from=start,
                    term_end=end,
                    department=department,
                    basis_record_id=record.id,
                )
            counts["entered"] += 1
        except Conflict:  # already on that list through another decision
            counts["skipped"] += 1
    return counts
