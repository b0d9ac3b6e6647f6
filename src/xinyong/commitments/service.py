"""Credit commitments: signing a template online, tracking fulfilment, and turning a breach into a credit record.

The signed text (with the subject's name and code filled in) is stored as signed, with its SHA-256; the public
list shows who committed to what and whether it was kept, never the text (a natural person's ID is in it).
A breach writes a `commitment_breach` record through `archive.versions.create_record`, judged by the publicity
rules like any dishonesty record, so the measures triggered by that class apply at the next credit check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department, Role, User
from xinyong.archive import service as archive
from xinyong.archive import versions
from xinyong.archive.models import IdentifierScheme, Subject, SubjectKind
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.rules import CommitmentAction, CommitmentState, Template
from xinyong.core import clock
from xinyong.core.audit import Actor
from xinyong.core.errors import DomainError, NotFound, PermissionDenied
from xinyong.core.workflow import Upload, advance, attach, start
from xinyong.notices import service as notices

WORKFLOW = "commitment"
BREACH_CLASS = "commitment_breach"
CREDIT_OFFICE_DEPARTMENT = "fgw"  # 南京市信用办 sits in the development and reform commission
SEVERITIES = {"minor": "轻微", "general": "一般", "serious": "严重"}


def template_or_raise(code: str) -> Template:
    found = rules.catalogue().templates.get(code)
    if found is None:
        known = "、".join(f"{k}（{t.name}）" for k, t in rules.catalogue().templates.items())
        raise NotFound(f"未知承诺书模板“{code}”。可用模板：{known}", code="unknown_template")
    return found


def get_or_raise(session: Session, commitment_id: int) -> Commitment:
    found = session.get(Commitment, commitment_id)
    if found is None:
        raise NotFound(f"未找到信用承诺 {commitment_id}", code="commitment_not_found")
    return found


def _code_of(session: Session, subject: Subject) -> str:
    if subject.uscc:
        return subject.uscc
    for ident in archive.identifiers_of(session, subject.id):
        if ident.scheme == IdentifierScheme.RESIDENT_ID:
            return ident.value
    return "（无）"


def render_text(session: Session, template: Template, subject: Subject, context: dict[str, str], on: date) -> str:
    values = {"subject_name": subject.name, "uscc": _code_of(session, subject), "date": on.isoformat()}
    values |= {"due_days": str(template.due_days or "")} | context
    return template.text.format(**values)


def sign(
    session: Session,
    actor: Actor,
    subject: Subject,
    *,
    template: str,
    context: dict[str, str] | None = None,
    department: Department | None = None,
) -> Commitment:
    """在线签署: the logged-in subject signs; every context field of the template must be filled."""
    tpl = template_or_raise(template)
    context = {k: (v or "").strip() for k, v in (context or {}).items() if k in tpl.context_fields}
    missing = [label for key, label in tpl.context_fields.items() if not context.get(key)]
    if missing:
        raise DomainError(f"请填写：{'、'.join(missing)}", code="context_required")
    if tpl.verified_by == "department" and department is None:
        raise DomainError("请选择办理事项的受理部门（负责核验承诺履行情况）", code="department_required")
    if tpl.verified_by == "credit_office":
        department = accounts.find_department(session, CREDIT_OFFICE_DEPARTMENT)
    today = clock.today()
    text = render_text(session, tpl, subject, context, today)
    commitment = Commitment(
        template=template,
        template_version=rules.catalogue().version,
        scenario=tpl.scenario,
        title=tpl.name + (f"（{context['item']}）" if context.get("item") else ""),
        subject_id=subject.id,
        department_id=department.id if department and tpl.verified_by != "none" else None,
        state=CommitmentState.SIGNED.value,
        signer=actor.id,
        signer_name=actor.name,
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        context=context,
        signed_at=clock.now(),
        due_on=today + timedelta(days=tpl.due_days) if tpl.due_days else None,
        updated_at=clock.now(),
    )
    start(session, commitment, WORKFLOW, "sign", actor, {"template": template, "text_sha256": commitment.text_sha256})
    if commitment.department_id:
        notices.send(
            session,
            kind="commitment.signed",
            title=f"新的信用承诺 #{commitment.id}：{commitment.title}",
            body=f"{subject.name} 已签署承诺" + (f"，履约期限至{commitment.due_on}" if commitment.due_on else ""),
            department_id=commitment.department_id,
            link=f"/commitments/{commitment.id}",
        )
    return commitment


def ensure_actor(user: User, commitment: Commitment, action: CommitmentAction) -> None:
    """The subject hands in evidence; the verifying unit (or the credit office) decides."""
    if user.role == Role.ADMIN:
        return
    if action is CommitmentAction.SUBMIT_EVIDENCE:
        if user.role != Role.SUBJECT or user.subject_id != commitment.subject_id:
            raise PermissionDenied("只有承诺主体可以提交履约材料", code="not_signer")
        return
    if user.role == Role.CREDIT_OFFICE:
        return
    if user.role != Role.DEPARTMENT or user.department_id != commitment.department_id:
        raise PermissionDenied("只有负责核验的部门可以办理", code="not_verifier")


def submit_evidence(
    session: Session, commitment: Commitment, actor: Actor, *, note: str, uploads: Sequence[Upload] = ()
) -> Commitment:
    if not note.strip() and not uploads:
        raise DomainError("请说明履约情况或上传履约材料", code="evidence_required")
    event = advance(
        session,
        commitment,
        WORKFLOW,
        rules.TRANSITIONS,
        CommitmentAction.SUBMIT_EVIDENCE,
        actor,
        {"note": note.strip(), "files": len(uploads)},
        evidence_note=note.strip(),
    )
    for upload in uploads:
        attach(session, WORKFLOW, commitment.id, upload, actor).event_id = event.id
    if commitment.department_id:
        notices.send(
            session,
            kind="commitment.evidence",
            title=f"信用承诺 #{commitment.id} 待核验",
            body="承诺主体已提交履约材料，请核验",
            department_id=commitment.department_id,
            link=f"/commitments/{commitment.id}",
        )
    return commitment


def return_evidence(session: Session, commitment: Commitment, actor: Actor, *, note: str) -> Commitment:
    if not note.strip():
        raise DomainError("请写明需要补充的材料", code="reason_required")
    advance(
        session,
        commitment,
        WORKFLOW,
        rules.TRANSITIONS,
        CommitmentAction.RETURN_EVIDENCE,
        actor,
        {"note": note.strip()},
        verification_note=note.strip(),
    )
    _tell_subject(session, commitment, f"履约材料被退回：{note.strip()}")
    return commitment


def confirm(session: Session, commitment: Commitment, actor: Actor, *, note: str = "") -> Commitment:
    advance(
        session,
        commitment,
        WORKFLOW,
        rules.TRANSITIONS,
        CommitmentAction.CONFIRM,
        actor,
        {"note": note.strip()},
        verification_note=note.strip() or "经核验已履约",
        closed_at=clock.now(),
    )
    _tell_subject(session, commitment, "经核验，承诺已履行")
    return commitment


def breach(
    session: Session, commitment: Commitment, actor: Actor, *, facts: str, severity: str = "general"
) -> Commitment:
    """认定违诺: the commitment closes as breached and a `commitment_breach` credit record is written."""
    if not facts.strip():
        raise DomainError("请写明违诺情形", code="facts_required")
    if severity not in SEVERITIES:
        raise DomainError(
            f"失信严重程度须为：{'、'.join(f'{k}（{v}）' for k, v in SEVERITIES.items())}", code="bad_severity"
        )
    advance(
        session,
        commitment,
        WORKFLOW,
        rules.TRANSITIONS,
        CommitmentAction.BREACH,
        actor,
        {"facts": facts.strip(), "severity": severity},
        verification_note=facts.strip(),
        closed_at=clock.now(),
    )
    subject = session.get(Subject, commitment.subject_id)
    assert subject is not None
    department = (
        session.get(Department, commitment.department_id)
        if commitment.department_id
        else accounts.find_department(session, CREDIT_OFFICE_DEPARTMENT)
    )
    assert department is not None
    person = subject.kind == SubjectKind.NATURAL_PERSON
    code = _code_of(session, subject)
    number = f"CN{commitment.id:08d}"
    payload: dict[str, Any] = {
        "subject_name": subject.name,
        "uscc": None if person else subject.uscc,
        "id_no": code if person else None,
        "commitment_no": number,
        "commitment_title": commitment.title,
        "breach_facts": facts.strip(),
        "decision_date": clock.today().isoformat(),
        "severity": severity,
    }
    record = versions.create_record(
        session,
        info_class=BREACH_CLASS,
        subject=subject,
        department_id=department.id,
        department_code=department.code,
        key_parts=[number, payload["uscc"] or "", payload["id_no"] or ""],
        payload=payload,
        decision_no=number,
        decision_date=clock.today(),
    )
    commitment.breach_record_id = record.id
    session.flush()
    _tell_subject(session, commitment, f"经核验认定违诺：{facts.strip()}。违诺信息已记入信用记录")
    return commitment


def act(
    session: Session,
    commitment: Commitment,
    action: CommitmentAction,
    actor: Actor,
    *,
    note: str = "",
    severity: str = "general",
    uploads: Sequence[Upload] = (),
) -> None:
    if action is CommitmentAction.SUBMIT_EVIDENCE:
        submit_evidence(session, commitment, actor, note=note, uploads=uploads)
    elif action is CommitmentAction.RETURN_EVIDENCE:
        return_evidence(session, commitment, actor, note=note)
    elif action is CommitmentAction.CONFIRM:
        confirm(session, commitment, actor, note=note)
    else:
        breach(session, commitment, actor, facts=note, severity=severity)


def _tell_subject(session: Session, commitment: Commitment, body: str) -> None:
    notices.send(
        session,
        kind="commitment.decided",
        title=f"您的信用承诺 #{commitment.id}（{commitment.title}）",
        body=body,
        subject_id=commitment.subject_id,
        link=f"/commitments/{commitment.id}",
    )


def usable_for_repair(session: Session, subject_id: int, commitment_id: int | None = None) -> Commitment | None:
    """The subject's repair commitment that is not breached: the one named, or the latest."""
    stmt = select(Commitment).where(
        Commitment.subject_id == subject_id,
        Commitment.scenario == "repair",
        Commitment.state != CommitmentState.BREACHED.value,
    )
    if commitment_id is not None:
        stmt = stmt.where(Commitment.id == commitment_id)
    return session.scalar(stmt.order_by(Commitment.id.desc()).limit(1))


def visible_to(user: User) -> Any:
    return accounts.case_scope(Commitment, user)


def get_for(session: Session, user: User, commitment_id: int) -> Commitment:
    """The case if `user` may see it; one not visible is "not found", as one that does not exist."""
    found = session.scalar(select(Commitment).where(Commitment.id == commitment_id, visible_to(user)))
    if found is None:
        raise NotFound(f"未找到信用承诺 {commitment_id}", code="commitment_not_found")
    return found


def list_for(session: Session, user: User, limit: int = 200) -> list[tuple[Commitment, Subject]]:
    stmt = (
        select(Commitment, Subject)
        .join(Subject, Subject.id == Commitment.subject_id)
        .where(visible_to(user))
        .order_by(Commitment.id.desc())
        .limit(limit)
    )
    return [(c, s) for c, s in session.execute(stmt)]


def public_list(
    session: Session, *, subject_id: int | None = None, offset: int = 0, limit: int = 50
) -> tuple[int, list[tuple[Commitment, Subject]]]:
    """信用承诺公示: every signed commitment and how it stands, newest first (the caller masks persons)."""
    where = [Commitment.subject_id == subject_id] if subject_id else []
    total = session.scalar(select(func.count()).select_from(Commitment).where(*where)) or 0
    stmt = (
        select(Commitment, Subject)
        .join(Subject, Subject.id == Commitment.subject_id)
        .where(*where)
        .order_by(Commitment.signed_at.desc(), Commitment.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [(c, s) for c, s in session.execute(stmt)]


def overdue(session: Session, today: date) -> list[Commitment]:
    stmt = select(Commitment).where(
        Commitment.state.in_([s.value for s in rules.OPEN_STATES]), Commitment.due_on < today
    )
    return list(session.scalars(stmt.order_by(Commitment.id)))
