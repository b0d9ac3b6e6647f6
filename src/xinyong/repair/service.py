"""Credit repair: one function per step. The conditions of the rule that judged the record (or of the list) are
checked at submission — an application with a condition not met is refused at once, citing the rule, and nothing
is stored. On approval publicity ends, sharing stops and linked measures lift in the one transaction of the step:
the record gets a new version in state `repaired` (no public view, no check and no report shows it again; the
internal archive keeps every version), or the list entry is removed early (subscribers are notified).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department, Role, User
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from xinyong.core.workflow import Upload, advance, attach, start
from xinyong.lists import rules as list_rules
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.notices import service as notices
from xinyong.publicity import rules as publicity_rules
from xinyong.publicity.views import is_public
from xinyong.quality.workdays import add_working_days
from xinyong.repair import rules
from xinyong.repair.models import RepairApplication
from xinyong.repair.rules import Condition, Facts, RepairAction, RepairState, RuleConditions

WORKFLOW = "repair"


class ConditionsNotMet(Conflict):
    """409 with the judged conditions in `details`, so a client can show which ones failed."""


@dataclass
class Assessment:
    """The target of an application and its conditions under the rule that judges it."""

    subject_id: int
    target: str
    record: CreditRecord | None
    entry: ListEntry | None
    department_id: int
    rule: str
    rule_name: str
    legal_basis: str
    spec: RuleConditions
    conditions: list[Condition]

    @property
    def admissible(self) -> bool:
        return all(c.status != "not_met" for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "record_id": self.record.id if self.record else None,
            "list_entry_id": self.entry.id if self.entry else None,
            "rule": self.rule,
            "rule_name": self.rule_name,
            "legal_basis": self.legal_basis,
            "unit_review_working_days": self.spec.unit_review_working_days,
            "office_review_working_days": self.spec.office_review_working_days,
            "admissible": self.admissible,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def get_or_raise(session: Session, application_id: int) -> RepairApplication:
    found = session.get(RepairApplication, application_id)
    if found is None:
        raise NotFound(f"未找到修复申请 {application_id}", code="repair_not_found")
    return found


def _signed_commitment(session: Session, subject_id: int, commitment_id: int | None) -> str | None:
    from xinyong.commitments import service as commitments

    found = commitments.usable_for_repair(session, subject_id, commitment_id)
    return f"信用承诺书 #{found.id}（{found.signed_at.date().isoformat()} 签署）" if found else None


def _never_early(rule: publicity_rules.Rule, record: CreditRecord) -> bool:
    categories = record.payload.get("penalty_category") or []
    categories = [categories] if isinstance(categories, str) else categories
    return bool(set(categories) & set(rule.never_early))


def assess(
    session: Session,
    subject_id: int,
    *,
    record_id: int | None = None,
    list_entry_id: int | None = None,
    materials: Sequence[str] = (),
    commitment_id: int | None = None,
) -> Assessment:
    """Judge the conditions for repairing one record (any of its versions: the current one is judged) or one list
    entry of `subject_id`. Refuses targets that are not the subject's or that no repair rule covers."""
    if (record_id is None) == (list_entry_id is None):
        raise DomainError("请指定要修复的一条信用记录或一个名单条目", code="target_required")
    today = clock.today()
    commitment = _signed_commitment(session, subject_id, commitment_id)
    if record_id is not None:
        record = versions.current_of(session, record_id)
        if record.subject_id != subject_id:
            raise NotFound(f"未找到信用记录 {record_id}", code="record_not_found")
        if not record.publicity_rule or record.publicity_rule not in rules.catalogue().records:
            raise DomainError(
                "该信息不属于可申请信用修复的失信信息（仅公示期内的行政处罚等失信信息可申请）", code="not_repairable"
            )
        rule = publicity_rules.publicity_rules().get(record.publicity_rule)
        spec = rules.catalogue().records[record.publicity_rule]
        facts = Facts(
            today=today,
            shown=is_public(record, today),
            earliest=record.publicity_min_end,
            never_early=_never_early(rule, record),
            severity=record.severity,
            materials=frozenset(materials),
            signed_commitment=commitment,
        )
        name = f"《{rule.name}》（{rule.document_no}）" if rule.document_no else f"《{rule.name}》"
        return Assessment(
            subject_id,
            "record",
            record,
            None,
            record.source_department_id,
            rule.code,
            rule.name,
            rule.legal_basis,
            spec,
            rules.evaluate(spec, facts, name),
        )
    entry = lists.get_or_raise(session, list_entry_id)  # type: ignore[arg-type]
    if entry.subject_id != subject_id:
        raise NotFound(f"未找到名单条目 {list_entry_id}", code="entry_not_found")
    kind = lists.list_type_or_raise(entry.list_type)
    if not kind.is_dishonesty:
        raise DomainError("守信激励名单无需信用修复", code="not_repairable")
    months = kind.early_removal_after_months
    earliest = list_rules.add_months(entry.publicity_from, months) if months and entry.publicity_from else None
    spec = rules.catalogue().lists
    facts = Facts(
        today=today,
        shown=entry.state == list_rules.EntryState.IN_PUBLICITY,
        earliest=earliest,
        never_early=False,
        severity="serious",
        materials=frozenset(materials),
        signed_commitment=commitment,
    )
    return Assessment(
        subject_id,
        "list_entry",
        None,
        entry,
        entry.department_id,
        kind.code,
        kind.name,
        kind.legal_basis,
        spec,
        rules.evaluate(spec, facts, kind.legal_basis),
    )


def _used_commitment(session: Session, subject_id: int, commitment_id: int | None, a: Assessment) -> int | None:
    from xinyong.commitments import service as commitments

    if not any(c.code == "commitment" and c.status == "met" for c in a.conditions):
        return None
    found = commitments.usable_for_repair(session, subject_id, commitment_id)
    return found.id if found else None


def _refuse_duplicate(session: Session, a: Assessment) -> None:
    stmt = select(RepairApplication.id).where(RepairApplication.state.in_([s.value for s in rules.OPEN_STATES]))
    if a.record is not None:
        stmt = stmt.where(RepairApplication.record_key_hash == a.record.key_hash)
    else:
        stmt = stmt.where(RepairApplication.list_entry_id == a.entry.id)  # type: ignore[union-attr]
    open_id = session.scalar(stmt)
    if open_id:
        raise Conflict(f"该信息已有正在办理的修复申请（编号 {open_id}），请勿重复申请", code="repair_exists")


def submit(
    session: Session,
    actor: Actor,
    subject: Subject,
    *,
    statement: str,
    record_id: int | None = None,
    list_entry_id: int | None = None,
    uploads: Sequence[Upload] = (),
    commitment_id: int | None = None,
) -> RepairApplication:
    """申请信用修复. Refused whole (nothing stored) when a condition is not met."""
    if not statement.strip():
        raise DomainError("请说明失信行为的纠正情况和义务履行情况", code="statement_required")
    known = rules.catalogue().materials
    for upload in uploads:
        if upload.kind not in known:
            raise DomainError(f"未知材料类型“{upload.kind}”，可用类型：{'、'.join(known)}", code="bad_material")
    a = assess(
        session,
        subject.id,
        record_id=record_id,
        list_entry_id=list_entry_id,
        materials=[u.kind for u in uploads if u.content],
        commitment_id=commitment_id,
    )
    if not a.admissible:
        failed = "；".join(c.detail for c in a.conditions if c.status == "not_met")
        raise ConditionsNotMet(
            f"不符合信用修复条件：{failed}", code="conditions_not_met", details=a.to_dict()["conditions"]
        )
    _refuse_duplicate(session, a)
    deadline = add_working_days(clock.today(), a.spec.unit_review_working_days)
    app = RepairApplication(
        subject_id=subject.id,
        target=a.target,
        record_id=a.record.id if a.record else None,
        record_key_hash=a.record.key_hash if a.record else None,
        list_entry_id=a.entry.id if a.entry else None,
        department_id=a.department_id,
        rule=a.rule,
        rule_name=a.rule_name,
        legal_basis=a.legal_basis,
        state=RepairState.SUBMITTED.value,
        applicant=actor.id,
        applicant_name=actor.name,
        statement=statement.strip(),
        conditions=[c.to_dict() for c in a.conditions],
        commitment_id=_used_commitment(session, subject.id, commitment_id, a),
        deadline=deadline,
        updated_at=clock.now(),
    )
    start(
        session, app, WORKFLOW, "submit", actor, {"rule": a.rule, "target": a.target, "deadline": deadline.isoformat()}
    )
    for upload in uploads:
        attach(session, WORKFLOW, app.id, upload, actor)
    notices.send(
        session,
        kind="repair.submitted",
        title=f"新的信用修复申请 #{app.id}",
        body=f"{subject.name} 申请修复，请于{deadline.isoformat()}前完成审核",
        department_id=app.department_id,
        link=f"/repairs/{app.id}",
    )
    return app


def ensure_reviewer(user: User, app: RepairApplication, action: RepairAction) -> None:
    """The deciding unit reviews first (its own cases only); the credit office decides last."""
    role = user.role
    if role == Role.ADMIN:
        return
    if action in (RepairAction.UNIT_APPROVE, RepairAction.UNIT_REFUSE):
        if role != Role.DEPARTMENT or user.department_id != app.department_id:
            raise PermissionDenied("只有作出认定的单位可以审核该修复申请", code="not_deciding_unit")
    elif action in (RepairAction.APPROVE, RepairAction.REFUSE):
        if role != Role.CREDIT_OFFICE:
            raise PermissionDenied("只有信用办可以复核修复申请", code="not_credit_office")
    elif role != Role.SUBJECT or user.subject_id != app.subject_id:
        raise PermissionDenied("只有申请人可以撤回修复申请", code="not_applicant")


def _opinion(text: str, refusing: bool) -> str:
    if refusing and not text.strip():
        raise DomainError("不予修复的，请写明理由", code="reason_required")
    return text.strip()


def unit_approve(session: Session, app: RepairApplication, actor: Actor, *, opinion: str = "") -> RepairApplication:
    spec = _spec(app)
    deadline = add_working_days(clock.today(), spec.office_review_working_days)
    advance(
        session,
        app,
        WORKFLOW,
        rules.TRANSITIONS,
        RepairAction.UNIT_APPROVE,
        actor,
        {"opinion": opinion.strip(), "deadline": deadline.isoformat()},
        unit_opinion=opinion.strip() or "同意修复",
        deadline=deadline,
    )
    notices.send(
        session,
        kind="repair.unit_approved",
        title=f"信用修复申请 #{app.id} 待复核",
        body=f"认定单位已审核通过，请于{deadline.isoformat()}前复核",
        link=f"/repairs/{app.id}",
    )
    return app


def unit_refuse(session: Session, app: RepairApplication, actor: Actor, *, opinion: str) -> RepairApplication:
    return _refuse(session, app, actor, RepairAction.UNIT_REFUSE, "unit_opinion", "认定单位", opinion)


def approve(session: Session, app: RepairApplication, actor: Actor, *, opinion: str = "") -> RepairApplication:
    """复核通过: the repair takes effect everywhere in this transaction. The step is taken first, so of two
    concurrent approvals the second stops at the case row before touching the record."""
    advance(
        session,
        app,
        WORKFLOW,
        rules.TRANSITIONS,
        RepairAction.APPROVE,
        actor,
        {"opinion": opinion.strip()},
        office_opinion=opinion.strip() or "同意修复",
        deadline=None,
        decided_at=clock.now(),
    )
    if app.target == "record":
        current = versions.current_version(session, app.record_key_hash or "", lock=True)
        if current is None or current.state != RecordState.ACTIVE:
            raise Conflict("该信息已撤销、已修复或已更正为新的状态，无需再修复", code="record_not_active")
        repaired = versions.new_version(session, current, state=RecordState.REPAIRED.value)
        app.repaired_record_id = repaired.id
        audit.record(
            session,
            actor,
            "record.repair",
            "credit_record",
            repaired.id,
            {"repair_id": app.id, "previous_version": current.id, "rule": app.rule},
        )
    else:
        entry = lists.get_or_raise(session, app.list_entry_id)  # type: ignore[arg-type]
        lists.remove(session, entry, actor, reason="repair", doc_no=f"信用修复申请第{app.id}号")
    session.flush()
    _tell_applicant(session, app, "信用修复已完成：相关信息已停止公示和共享，关联惩戒措施已解除")
    notices.send(
        session,
        kind="repair.done",
        title=f"信用修复申请 #{app.id} 已完成修复",
        body="相关信息已停止公示和共享，关联惩戒措施已解除",
        department_id=app.department_id,
        link=f"/repairs/{app.id}",
    )
    return app


def refuse(session: Session, app: RepairApplication, actor: Actor, *, opinion: str) -> RepairApplication:
    return _refuse(session, app, actor, RepairAction.REFUSE, "office_opinion", "信用办", opinion)


def _refuse(
    session: Session,
    app: RepairApplication,
    actor: Actor,
    action: RepairAction,
    opinion_field: str,
    who: str,
    opinion: str,
) -> RepairApplication:
    """A refusal ends the case at either level: the reason is required, kept in that level's opinion field and
    sent to the applicant."""
    reason = _opinion(opinion, refusing=True)
    advance(
        session,
        app,
        WORKFLOW,
        rules.TRANSITIONS,
        action,
        actor,
        {"opinion": reason},
        **{opinion_field: reason},
        deadline=None,
        decided_at=clock.now(),
    )
    _tell_applicant(session, app, f"{who}不予修复：{reason}")
    return app


def withdraw(session: Session, app: RepairApplication, actor: Actor) -> RepairApplication:
    advance(session, app, WORKFLOW, rules.TRANSITIONS, RepairAction.WITHDRAW, actor, {}, deadline=None)
    return app


def act(session: Session, app: RepairApplication, action: RepairAction, actor: Actor, opinion: str = "") -> None:
    """Dispatch one step by name (pages and API)."""
    if action is RepairAction.UNIT_APPROVE:
        unit_approve(session, app, actor, opinion=opinion)
    elif action is RepairAction.UNIT_REFUSE:
        unit_refuse(session, app, actor, opinion=opinion)
    elif action is RepairAction.APPROVE:
        approve(session, app, actor, opinion=opinion)
    elif action is RepairAction.REFUSE:
        refuse(session, app, actor, opinion=opinion)
    else:
        withdraw(session, app, actor)


def _spec(app: RepairApplication) -> RuleConditions:
    return rules.catalogue().records.get(app.rule) or rules.catalogue().lists


def _tell_applicant(session: Session, app: RepairApplication, body: str) -> None:
    notices.send(
        session,
        kind="repair.decided",
        title=f"您的信用修复申请 #{app.id} 有了结果",
        body=body,
        subject_id=app.subject_id,
        link=f"/repairs/{app.id}",
    )


def visible_to(user: User) -> Any:
    return accounts.case_scope(RepairApplication, user)


def list_for(
    session: Session, user: User, state: str | None = None, limit: int = 200
) -> list[tuple[RepairApplication, Subject, Department]]:
    stmt = (
        select(RepairApplication, Subject, Department)
        .join(Subject, Subject.id == RepairApplication.subject_id)
        .join(Department, Department.id == RepairApplication.department_id)
        .where(visible_to(user))
    )
    if state:
        stmt = stmt.where(RepairApplication.state == state)
    return [tuple(row) for row in session.execute(stmt.order_by(RepairApplication.id.desc()).limit(limit))]  # type: ignore[misc]


def get_for(session: Session, user: User, application_id: int) -> RepairApplication:
    """The case if `user` may see it; one not visible is "not found", as one that does not exist."""
    app = session.scalar(select(RepairApplication).where(RepairApplication.id == application_id, visible_to(user)))
    if app is None:
        raise NotFound(f"未找到修复申请 {application_id}", code="repair_not_found")
    return app


def overdue(session: Session, today: Any) -> list[RepairApplication]:
    stmt = select(RepairApplication).where(
        RepairApplication.state.in_([s.value for s in rules.OPEN_STATES]), RepairApplication.deadline < today
    )
    return list(session.scalars(stmt.order_by(RepairApplication.id)))
