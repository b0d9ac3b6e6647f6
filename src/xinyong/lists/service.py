"""The list procedure: one function per step. Each checks the transition table (Conflict 409 otherwise), stamps
its time, keeps the step's paper in `documents`, writes a `ListEntryEvent` and a `list.<verb>` audit event in
the caller's transaction. Services flush; the request or job commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department
from xinyong.archive.models import Subject
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.lists import rules
from xinyong.lists.models import ListEntry, ListEntryEvent
from xinyong.lists.rules import Action, EntryState, ListType
from xinyong.quality.workdays import add_working_days
from xinyong.subscriptions import service as subscriptions

RIGHTS_TEXT = "当事人有权在告知书送达之日起{days}个工作日内（至{deadline}）提出陈述、申辩或者异议"
DEFAULT_MEASURES_NOTICE = "依法依规实施《全国失信惩戒措施基础清单》所列相应失信惩戒措施"
OPEN_STATES = (
    EntryState.PROPOSED,
    EntryState.NOTICED,
    EntryState.STATEMENT_PERIOD,
    EntryState.DECIDED,
    EntryState.IN_PUBLICITY,
)


def list_types() -> list[ListType]:
    return list(rules.catalogue().types.values())


def list_type_or_raise(code: str) -> ListType:
    found = rules.catalogue().get(code)
    if found is None:
        known = "、".join(rules.catalogue().types)
        raise NotFound(f"未知名单类型“{code}”。可用类型：{known}", code="unknown_list_type")
    return found


def get_or_raise(session: Session, entry_id: int) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound(f"未找到名单条目 {entry_id}", code="entry_not_found")
    return entry


def _step(
    session: Session,
    entry: ListEntry,
    action: str,
    actor: Actor,
    target: EntryState,
    details: dict[str, Any],
    *,
    initial: bool = False,
) -> None:
    previous = None if initial else entry.state
    now = clock.now()
    if not initial:  # of two concurrent steps from one state, the second finds the state changed: 409
        session.flush()
        moved = session.execute(
            update(ListEntry)
            .where(ListEntry.id == entry.id, ListEntry.state == previous)
            .values(state=target.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict("该名单条目已被他人处理，请刷新页面后重试", code="concurrent_transition")
    entry.state = target.value
    entry.updated_at = now
    session.flush()
    session.add(
        ListEntryEvent(
            entry_id=entry.id,
            action=action,
            from_state=previous,
            to_state=target.value,
            occurred_at=entry.updated_at,
            actor=actor.id,
            actor_name=actor.name,
            details=details,
        )
    )
    audit.record(
        session,
        actor,
        f"list.{action}",
        "list_entry",
        entry.id,
        {"list_type": entry.list_type, "subject_id": entry.subject_id, "from": previous, "to": target.value} | details,
    )
    session.flush()


def _document(entry: ListEntry, step: str, doc_no: str | None, on: date, **extra: Any) -> None:
    doc = {"step": step, "doc_no": (doc_no or "").strip(), "date": on.isoformat()} | extra
    entry.documents = [*(entry.documents or []), doc]  # a new list, so the JSON change is seen


def _department(session: Session, list_type: ListType, department: Department | None) -> Department:
    return department or accounts.find_department(session, list_type.department)


def _refuse_duplicate(session: Session, list_type: str, subject_id: int) -> None:
    open_id = session.scalar(
        select(ListEntry.id).where(
            ListEntry.list_type == list_type,
            ListEntry.subject_id == subject_id,
            ListEntry.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    if open_id:
        raise Conflict(f"该主体在此名单上已有未结束的条目（编号 {open_id}）", code="entry_exists")


def propose(
    session: Session,
    actor: Actor,
    *,
    list_type: str,
    subject: Subject,
    reason: str,
    basis_record_id: int | None = None,
    department: Department | None = None,
) -> ListEntry:
    """拟列入: the start of the procedure for a dishonesty list (incentive lists use `enter_incentive`)."""
    kind = list_type_or_raise(list_type)
    if not kind.is_dishonesty:
        raise DomainError(f"“{kind.name}”是守信激励名单，请直接列入", code="incentive_list")
    if not reason.strip():
        raise DomainError("请填写拟列入的事实和理由", code="reason_required")
    _refuse_duplicate(session, kind.code, subject.id)
    entry = ListEntry(
        list_type=kind.code,
        subject_id=subject.id,
        state=EntryState.PROPOSED.value,
        reason=reason.strip(),
        basis_record_id=basis_record_id,
        department_id=_department(session, kind, department).id,
        documents=[],
    )
    session.add(entry)
    session.flush()
    _step(session, entry, "propose", actor, EntryState.PROPOSED, {"reason": entry.reason}, initial=True)
    return entry


def notify(session: Session, entry: ListEntry, actor: Actor, *, doc_no: str) -> ListEntry:
    """告知: reasons, basis and the right to state a case; sets the statement deadline (working days, data)."""
    target = rules.transition(entry.state, Action.NOTIFY)
    kind = list_type_or_raise(entry.list_type)
    today = clock.today()
    days = rules.catalogue().procedure.statement_period_working_days
    entry.notice_at = clock.now()
    entry.statement_deadline = add_working_days(today, days)
    rights = RIGHTS_TEXT.format(days=days, deadline=entry.statement_deadline.isoformat())
    _document(entry, "notice", doc_no, today, reason=entry.reason, basis=kind.legal_basis, rights=rights)
    _step(
        session,
        entry,
        "notify",
        actor,
        target,
        {"doc_no": doc_no, "statement_deadline": entry.statement_deadline.isoformat(), "basis": kind.legal_basis},
    )
    return entry


def record_statement(
    session: Session, entry: ListEntry, actor: Actor, *, statement: str, reply: str, doc_no: str | None = None
) -> ListEntry:
    """陈述申辩 / 异议 and the unit's reply after verifying it (49号: 核实并在规定时限内反馈)."""
    target = rules.transition(entry.state, Action.RECORD_STATEMENT)
    if not statement.strip() or not reply.strip():
        raise DomainError("请填写当事人的陈述申辩内容和核实答复", code="statement_incomplete")
    entry.statement = statement.strip()
    entry.statement_reply = reply.strip()
    _document(entry, "statement_reply", doc_no, clock.today())
    _step(session, entry, "record_statement", actor, target, {"statement": entry.statement, "reply": reply.strip()})
    return entry


def decide(
    session: Session,
    entry: ListEntry,
    actor: Actor,
    *,
    doc_no: str,
    measures_notice: str = DEFAULT_MEASURES_NOTICE,
    waived: bool = False,
) -> ListEntry:
    """决定书: facts, basis, the punishment measures, removal conditions and procedure, remedies.

    Without a statement the decision waits for the end of the statement period, unless the party waived it.
    """
    target = rules.transition(entry.state, Action.DECIDE)
    if not doc_no.strip():
        raise DomainError("请填写决定书文号", code="doc_no_required")
    today = clock.today()
    deadline = entry.statement_deadline
    if entry.state == EntryState.NOTICED and not waived and deadline is not None and today <= deadline:
        raise Conflict(
            f"陈述申辩期至{deadline.isoformat()}届满，期满前不能作出列入决定（当事人书面放弃的除外）",
            code="statement_period_running",
        )
    kind = list_type_or_raise(entry.list_type)
    entry.decided_at = clock.now()
    entry.decision_no = doc_no.strip()
    _document(
        entry,
        "decision",
        doc_no,
        today,
        measures_notice=measures_notice,
        removal_conditions=kind.removal_conditions,
        remedies="对列入决定不服的，可以依法申请行政复议或者提起行政诉讼",
    )
    _step(session, entry, "decide", actor, target, {"doc_no": entry.decision_no, "waived": waived})
    return entry


def publish(session: Session, entry: ListEntry, actor: Actor, *, publicity_from: date | None = None) -> ListEntry:
    """公示: from `publicity_from` (today by default) for the list's term."""
    target = rules.transition(entry.state, Action.PUBLISH)
    if entry.notice_at is None or entry.decided_at is None:  # the table guarantees it; kept as an invariant
        raise Conflict("未经告知和列入决定，不能公示", code="procedure_incomplete")
    kind = list_type_or_raise(entry.list_type)
    entry.publicity_from = publicity_from or clock.today()
    entry.term_end = rules.term_end(entry.publicity_from, kind.term_months)
    _step(
        session,
        entry,
        "publish",
        actor,
        target,
        {"publicity_from": entry.publicity_from.isoformat(), "term_end": _iso(entry.term_end)},
    )
    subscriptions.notify_list_change(session, entry, "entered")
    return entry


def enter_incentive(
    session: Session,
    actor: Actor,
    *,
    list_type: str,
    subject: Subject,
    reason: str,
    doc_no: str | None = None,
    publicity_from: date | None = None,
    department: Department | None = None,
) -> ListEntry:
    """An incentive list (红名单) entry goes straight into publicity: no adverse decision, no procedure."""
    kind = list_type_or_raise(list_type)
    if kind.procedure_required:
        raise Conflict(f"“{kind.name}”须经告知、陈述申辩和列入决定程序，不能直接列入", code="procedure_required")
    _refuse_duplicate(session, kind.code, subject.id)
    start = publicity_from or clock.today()
    entry = ListEntry(
        list_type=kind.code,
        subject_id=subject.id,
        state=EntryState.IN_PUBLICITY.value,
        reason=reason.strip() or kind.name,
        department_id=_department(session, kind, department).id,
        documents=[],
        decided_at=clock.now(),
        decision_no=(doc_no or "").strip() or None,
        publicity_from=start,
        term_end=rules.term_end(start, kind.term_months),
    )
    _document(entry, "decision", doc_no, clock.today())
    session.add(entry)
    session.flush()
    _step(
        session,
        entry,
        "enter",
        actor,
        EntryState.IN_PUBLICITY,
        {"publicity_from": start.isoformat(), "term_end": _iso(entry.term_end)},
        initial=True,
    )
    subscriptions.notify_list_change(session, entry, "entered")
    return entry


def import_entry(
    session: Session,
    actor: Actor,
    *,
    list_type: str,
    subject: Subject,
    reason: str,
    decision_no: str,
    authority: str,
    publicity_from: date,
    term_end: date | None,
    department: Department,
    basis_record_id: int,
) -> ListEntry:
    """An entry decided by an upstream authority that ran the procedure itself (a court, a provincial system),
    imported from a file through the collection pipeline: it enters publicity with that decision as its paper."""
    kind = list_type_or_raise(list_type)
    _refuse_duplicate(session, kind.code, subject.id)
    end = term_end or rules.term_end(publicity_from, kind.term_months)
    entry = ListEntry(
        list_type=kind.code,
        subject_id=subject.id,
        state=EntryState.IN_PUBLICITY.value,
        reason=reason.strip() or kind.name,
        basis_record_id=basis_record_id,
        department_id=department.id,
        documents=[],
        decided_at=clock.now(),
        decision_no=decision_no.strip(),
        publicity_from=publicity_from,
        term_end=end,
    )
    _document(entry, "decision", decision_no, publicity_from, authority=authority, imported=True)
    session.add(entry)
    session.flush()
    details = {"decision_no": entry.decision_no, "authority": authority, "term_end": _iso(end)}
    _step(session, entry, "import", actor, EntryState.IN_PUBLICITY, details, initial=True)
    subscriptions.notify_list_change(session, entry, "entered")
    return entry


def move_term_end(session: Session, entry: ListEntry, actor: Actor, term_end: date | None) -> None:
    """The listing authority changed the term (an imported decision's new version)."""
    previous = entry.term_end
    entry.term_end = term_end
    details = {"from_term_end": _iso(previous), "term_end": _iso(term_end)}
    _step(session, entry, "update_term", actor, EntryState(entry.state), details, initial=False)


def remove(session: Session, entry: ListEntry, actor: Actor, *, reason: str, doc_no: str | None = None) -> ListEntry:
    """移出: at the end of the term, early through repair (not before the list's minimum), or when the listing
    decision was revoked."""
    target = rules.transition(entry.state, Action.REMOVE)
    reasons = rules.catalogue().procedure.removal_reasons
    if reason not in reasons:
        raise DomainError(f"移出原因须为：{'、'.join(f'{k}（{v}）' for k, v in reasons.items())}", code="bad_reason")
    kind = list_type_or_raise(entry.list_type)
    today = clock.today()
    if reason == "term_end" and (entry.term_end is None or today < entry.term_end):
        raise Conflict(f"名单期限至{_iso(entry.term_end) or '（无固定期限）'}，尚未届满", code="term_running")
    if reason == "repair" and kind.early_removal_after_months and entry.publicity_from:
        earliest = rules.add_months(entry.publicity_from, kind.early_removal_after_months)
        if today < earliest:
            months = kind.early_removal_after_months
            raise Conflict(f"列入满{months}个月（{earliest}）后方可申请提前移出", code="too_early")
    entry.removed_at = clock.now()
    entry.removal_reason = reason
    _document(entry, "removal", doc_no, today, reason=reasons[reason])
    _step(session, entry, "remove", actor, target, {"reason": reason, "doc_no": doc_no})
    subscriptions.notify_list_change(session, entry, "left")
    return entry


def withdraw(session: Session, entry: ListEntry, actor: Actor, *, reason: str) -> ListEntry:
    """撤回: the unit drops the case before publicity (e.g. the statement was upheld)."""
    target = rules.transition(entry.state, Action.WITHDRAW)
    if not reason.strip():
        raise DomainError("请填写撤回理由", code="reason_required")
    entry.removal_reason = "withdrawn"
    _step(session, entry, "withdraw", actor, target, {"reason": reason.strip()})
    return entry


def expire_terms(session: Session, today: date, actor: Actor = audit.SYSTEM) -> list[ListEntry]:
    """Remove every entry whose term has ended by `today` (idempotent: removed entries are not found again)."""
    due = list(
        session.scalars(
            select(ListEntry)
            .where(ListEntry.state == EntryState.IN_PUBLICITY.value, ListEntry.term_end <= today)
            .order_by(ListEntry.id)
        )
    )
    for entry in due:
        target = rules.transition(entry.state, Action.REMOVE)
        entry.removed_at = clock.now()
        entry.removal_reason = "term_end"
        _document(entry, "removal", None, today, reason=rules.catalogue().procedure.removal_reasons["term_end"])
        _step(session, entry, "remove", actor, target, {"reason": "term_end", "term_end": _iso(entry.term_end)})
        subscriptions.notify_list_change(session, entry, "left")
    return due


def _in_force(on: date) -> list[Any]:
    return [
        ListEntry.state == EntryState.IN_PUBLICITY.value,
        ListEntry.publicity_from <= on,
        or_(ListEntry.term_end.is_(None), ListEntry.term_end > on),
    ]


def active_entries(session: Session, subject_ids: list[int], on: date) -> dict[int, list[ListEntry]]:
    """Entries in force on `on` for each subject, in one query (callers send at most 10,000 ids)."""
    found: dict[int, list[ListEntry]] = defaultdict(list)
    if not subject_ids:
        return found
    stmt = select(ListEntry).where(ListEntry.subject_id.in_(sorted(set(subject_ids))), *_in_force(on))
    for entry in session.scalars(stmt.order_by(ListEntry.id)):
        found[entry.subject_id].append(entry)
    return found


def list_entries(session: Session, state: str | None = None, limit: int = 200) -> list[tuple[ListEntry, Subject]]:
    stmt = select(ListEntry, Subject).join(Subject, Subject.id == ListEntry.subject_id)
    if state:
        stmt = stmt.where(ListEntry.state == state)
    return [(e, s) for e, s in session.execute(stmt.order_by(ListEntry.id.desc()).limit(limit))]


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(ListEntry.state, func.count()).group_by(ListEntry.state))
    return {state: n for state, n in rows}


def history(session: Session, entry_id: int) -> list[ListEntryEvent]:
    return list(
        session.scalars(select(ListEntryEvent).where(ListEntryEvent.entry_id == entry_id).order_by(ListEntryEvent.id))
    )


def public_entries(
    session: Session, list_type: str, on: date, offset: int = 0, limit: int = 50
) -> tuple[int, list[tuple[ListEntry, Subject, Department]]]:
    """Entries of one list in force on `on`, newest first (the caller masks persons)."""
    list_type_or_raise(list_type)
    where = [ListEntry.list_type == list_type, *_in_force(on)]
    total = session.scalar(select(func.count()).select_from(ListEntry).where(*where)) or 0
    stmt = (
        select(ListEntry, Subject, Department)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .join(Department, Department.id == ListEntry.department_id)
        .where(*where)
        .order_by(ListEntry.publicity_from.desc(), ListEntry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [(e, s, d) for e, s, d in session.execute(stmt)]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
