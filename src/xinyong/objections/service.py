"""Objections: a subject disputes one of its records; the source department verifies it within the deadline.

While an objection is open the record's current version carries `disputed` (a marker like `is_current`, not
content; the loader carries it to a version submitted meanwhile), so every public view shows 异议处理中. The
outcome is a correction (a new version with the corrected fields, its publicity window judged again), a
withdrawal (a new version in state withdrawn) or the record upheld; the applicant and the unit are notified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department, Role, User
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, RecordState, Subject
from xinyong.catalog.service import get_catalog
from xinyong.collection.normalize import parse_amount, parse_date
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from xinyong.core.workflow import Upload, advance, attach, start
from xinyong.notices import service as notices
from xinyong.objections import rules
from xinyong.objections.models import Objection
from xinyong.objections.rules import ObjectionAction, ObjectionState
from xinyong.publicity import rules as publicity_rules
from xinyong.quality.workdays import add_working_days

WORKFLOW = "objection"


def get_or_raise(session: Session, objection_id: int) -> Objection:
    found = session.get(Objection, objection_id)
    if found is None:
        raise NotFound(f"未找到异议申请 {objection_id}", code="objection_not_found")
    return found


def _set_disputed(session: Session, key_hash: str, disputed: bool) -> None:
    session.execute(
        update(CreditRecord)
        .where(CreditRecord.key_hash == key_hash, CreditRecord.is_current.is_(True))
        .values(disputed=disputed)
        .execution_options(synchronize_session="fetch")
    )


def submit(
    session: Session,
    actor: Actor,
    subject: Subject,
    *,
    record_id: int,
    reason: str,
    requested: Mapping[str, str] | None = None,
    uploads: Sequence[Upload] = (),
) -> Objection:
    """提出异议 on the current version of a record of `subject`; one open objection per record."""
    if not reason.strip():
        raise DomainError("请写明异议的事实和理由", code="reason_required")
    record = versions.current_of(session, record_id)
    if record.subject_id != subject.id:
        raise NotFound(f"未找到信用记录 {record_id}", code="record_not_found")
    if record.state != RecordState.ACTIVE:
        raise Conflict("该信息已撤销或已修复，无需提出异议", code="record_not_active")
    requested = {k: str(v).strip() for k, v in (requested or {}).items() if str(v).strip()}
    _check_fields(record.info_class, requested)
    open_id = session.scalar(
        select(Objection.id).where(
            Objection.record_key_hash == record.key_hash, Objection.state == ObjectionState.SUBMITTED.value
        )
    )
    if open_id:
        raise Conflict(f"该信息已有正在处理的异议（编号 {open_id}）", code="objection_exists")
    deadline = add_working_days(clock.today(), rules.catalogue().verify_working_days)
    objection = Objection(
        subject_id=subject.id,
        record_id=record.id,
        record_key_hash=record.key_hash,
        department_id=record.source_department_id,
        state=ObjectionState.SUBMITTED.value,
        applicant=actor.id,
        applicant_name=actor.name,
        reason=reason.strip(),
        requested=requested,
        deadline=deadline,
        updated_at=clock.now(),
    )
    start(session, objection, WORKFLOW, "submit", actor, {"record_id": record.id, "deadline": deadline.isoformat()})
    for upload in uploads:
        attach(session, WORKFLOW, objection.id, upload, actor)
    _set_disputed(session, record.key_hash, True)
    body = f"{subject.name} 对信息（{record.decision_no or record.id}）提出异议，请于{deadline.isoformat()}前核实并答复"
    notices.send(
        session,
        kind="objection.submitted",
        title=f"新的异议申请 #{objection.id}",
        body=body,
        department_id=objection.department_id,
        link=f"/objections/{objection.id}",
    )
    notices.send(
        session,
        kind="objection.submitted",
        title=f"新的异议申请 #{objection.id}",
        body=body,
        link=f"/objections/{objection.id}",
    )
    return objection


def _check_fields(info_class: str, fields: Mapping[str, Any]) -> None:
    spec = get_catalog().get(info_class)
    known = set(spec.field_names)
    locked = set(rules.catalogue().locked_fields) | set(spec.natural_key) | set(spec.subject.field_names)
    for name in fields:
        if name not in known:
            raise DomainError(f"“{name}”不是{spec.name}的字段", code="unknown_field")
        if name in locked:
            label = spec.field(name).label
            raise DomainError(
                f"“{label}”是识别该信息或主体的字段，不能通过更正修改；如有错误，请撤销该信息后重新报送",
                code="locked_field",
            )


def _typed(info_class: str, corrections: Mapping[str, str]) -> dict[str, Any]:
    """Corrections as the loader would store them (dates ISO, amounts as numbers), checked like a submission."""
    catalog = get_catalog()
    spec = catalog.get(info_class)
    typed: dict[str, Any] = {}
    for name, raw in corrections.items():
        f = spec.field(name)
        try:
            if f.type == "date":
                value: Any = parse_date(raw)
                typed[name] = value.isoformat() if value else None
            elif f.type in ("decimal", "integer"):
                amount = parse_amount(raw, f.unit)
                if amount is not None and f.min is not None and amount < Decimal(f.min):
                    raise ValueError(f"不能小于 {f.min}")
                typed[name] = float(amount) if amount is not None else None
            elif f.type == "code_list" and f.code_list:
                code = catalog.code_list(f.code_list).lookup(raw)
                if code is None:
                    raise ValueError(f"“{raw}”不在代码表“{catalog.code_list(f.code_list).name}”中")
                typed[name] = [code] if f.multi else code
            else:
                typed[name] = raw
        except ValueError as exc:
            raise DomainError(f"更正内容“{f.label}”有误：{exc}", code="bad_correction") from None
    return typed


def _judged(record: CreditRecord, payload: dict[str, Any], department_code: str) -> dict[str, Any]:
    """The record's window judged again on the corrected values (a corrected date or severity moves it)."""
    values = dict(payload)
    for key in ("decision_date", "penalty_valid_until", "valid_to", "established_on"):
        if isinstance(values.get(key), str):
            values[key] = parse_date(values[key])
    if values.get("fine_amount") is not None:
        values["fine_amount"] = Decimal(str(values["fine_amount"]))
    if not values.get("decision_date"):
        return {}
    window = publicity_rules.judge(record.info_class, values, department_code)
    return {
        "decision_date": values["decision_date"],
        "severity": window.severity,
        "publicity_rule": window.rule,
        "publicity_start": window.start,
        "publicity_min_end": window.min_end,
        "publicity_end": window.end,
    }


def ensure_actor(user: User, objection: Objection, action: ObjectionAction) -> None:
    """The source department decides (the credit office may act for it); the applicant may cancel."""
    if user.role == Role.ADMIN:
        return
    if action is ObjectionAction.CANCEL:
        if user.role != Role.SUBJECT or user.subject_id != objection.subject_id:
            raise PermissionDenied("只有申请人可以撤回异议", code="not_applicant")
    elif user.role == Role.CREDIT_OFFICE:
        return
    elif user.role != Role.DEPARTMENT or user.department_id != objection.department_id:
        raise PermissionDenied("只有信息提供单位可以核实处理该异议", code="not_source_department")


def decide(
    session: Session,
    objection: Objection,
    action: ObjectionAction,
    actor: Actor,
    *,
    reply: str,
    corrections: Mapping[str, str] | None = None,
) -> Objection:
    """One step that ends the objection: correct, withdraw the record, uphold it, or (the applicant) cancel."""
    if action is not ObjectionAction.CANCEL and not reply.strip():
        raise DomainError("请填写核实意见（将告知申请人）", code="reply_required")
    current = versions.current_version(session, objection.record_key_hash)
    if current is None:
        raise Conflict("该信息已没有当前版本", code="no_current_version")
    typed: dict[str, Any] = {}
    if action is ObjectionAction.CORRECT:  # checked before any change, so a bad correction changes nothing
        wanted = {k: str(v).strip() for k, v in (corrections or {}).items() if str(v).strip()}
        if not wanted:
            raise DomainError("请填写需要更正的字段和更正后的内容", code="corrections_required")
        _check_fields(current.info_class, wanted)
        typed = _typed(current.info_class, wanted)
    advance(
        session,
        objection,
        WORKFLOW,
        rules.TRANSITIONS,
        action,
        actor,
        {"reply": reply.strip(), "corrections": dict(corrections or {})},
        reply=reply.strip() or None,
        decided_at=clock.now(),
    )
    current = versions.current_version(session, objection.record_key_hash, lock=True)
    assert current is not None
    outcome: CreditRecord | None = None
    if action is ObjectionAction.CORRECT:
        payload = dict(current.payload) | typed
        department = session.get(Department, current.source_department_id)
        assert department is not None
        outcome = versions.new_version(
            session, current, payload=payload, disputed=False, **_judged(current, payload, department.code)
        )
    elif action is ObjectionAction.WITHDRAW_RECORD:
        outcome = versions.new_version(session, current, state=RecordState.WITHDRAWN.value, disputed=False)
    else:
        _set_disputed(session, objection.record_key_hash, False)
    if outcome is not None:
        objection.outcome_record_id = outcome.id
        audit.record(
            session,
            actor,
            f"record.{action.value}",
            "credit_record",
            outcome.id,
            {"objection_id": objection.id, "previous_version": current.id},
        )
    session.flush()
    label = rules.STATE_LABELS[ObjectionState(objection.state)]
    notices.send(
        session,
        kind="objection.decided",
        title=f"您的异议申请 #{objection.id}：{label}",
        body=reply.strip() or label,
        subject_id=objection.subject_id,
        link=f"/objections/{objection.id}",
    )
    if action is ObjectionAction.CANCEL:
        notices.send(
            session,
            kind="objection.cancelled",
            title=f"异议申请 #{objection.id} 已由申请人撤回",
            body="无需继续核实",
            department_id=objection.department_id,
            link=f"/objections/{objection.id}",
        )
    return objection


def visible_to(user: User) -> Any:
    return accounts.case_scope(Objection, user)


def get_for(session: Session, user: User, objection_id: int) -> Objection:
    """The case if `user` may see it; one not visible is "not found", as one that does not exist."""
    found = session.scalar(select(Objection).where(Objection.id == objection_id, visible_to(user)))
    if found is None:
        raise NotFound(f"未找到异议申请 {objection_id}", code="objection_not_found")
    return found


def list_for(session: Session, user: User, limit: int = 200) -> list[tuple[Objection, Subject, Department]]:
    stmt = (
        select(Objection, Subject, Department)
        .join(Subject, Subject.id == Objection.subject_id)
        .join(Department, Department.id == Objection.department_id)
        .where(visible_to(user))
        .order_by(Objection.id.desc())
        .limit(limit)
    )
    return [(o, s, d) for o, s, d in session.execute(stmt)]


def overdue(session: Session, today: Any) -> list[Objection]:
    stmt = select(Objection).where(Objection.state == ObjectionState.SUBMITTED.value, Objection.deadline < today)
    return list(session.scalars(stmt.order_by(Objection.id)))
