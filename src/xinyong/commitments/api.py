"""JSON API of credit commitments: templates and the public list for anyone; signing and fulfilment for
logged-in subjects and the verifying units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser
from xinyong.archive.models import Subject, SubjectKind
from xinyong.commitments import rules, service
from xinyong.commitments.models import Commitment
from xinyong.commitments.rules import CommitmentAction
from xinyong.core.web import DbSession, read_uploads
from xinyong.core.workflow import history_json
from xinyong.publicity.masking import mask_name

router = APIRouter(tags=["commitments"])


class SignBody(BaseModel):
    template: str
    context: dict[str, str] = Field(default_factory=dict)
    department: str | None = Field(default=None, description="受理部门代码（告知承诺须填写，负责核验履约）")


class StepBody(BaseModel):
    note: str = ""
    severity: str = "general"


def public_dict(c: Commitment, s: Subject) -> dict[str, Any]:
    person = s.kind == SubjectKind.NATURAL_PERSON
    return {
        "id": c.id,
        "subject_name": mask_name(s.name) if person else s.name,
        "uscc": None if person else s.uscc,
        "title": c.title,
        "scenario": c.scenario,
        "scenario_name": rules.catalogue().scenarios[c.scenario],
        "signed_on": c.signed_at.date().isoformat(),
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "state": c.state,
        "state_label": rules.STATE_LABELS[rules.CommitmentState(c.state)],
    }


def case_dict(session: Any, c: Commitment) -> dict[str, Any]:
    return {
        "id": c.id,
        "template": c.template,
        "title": c.title,
        "subject_id": c.subject_id,
        "department_id": c.department_id,
        "state": c.state,
        "state_label": rules.STATE_LABELS[rules.CommitmentState(c.state)],
        "text": c.text,
        "text_sha256": c.text_sha256,
        "context": c.context,
        "signed_at": c.signed_at.isoformat(),
        "due_on": c.due_on.isoformat() if c.due_on else None,
        "evidence_note": c.evidence_note,
        "verification_note": c.verification_note,
        "breach_record_id": c.breach_record_id,
        "next_actions": [a.value for a in rules.TRANSITIONS.next_actions(c.state)],
        "history": history_json(session, service.WORKFLOW, c.id),
    }


@router.get("/commitment-templates", summary="信用承诺书模板（按场景）")
def list_templates() -> dict[str, Any]:
    items = [
        {
            "code": code,
            "name": t.name,
            "scenario": t.scenario,
            "legal_basis": t.legal_basis,
            "context_fields": t.context_fields,
            "due_days": t.due_days,
            "verified_by": t.verified_by,
            "text": t.text,
        }
        for code, t in rules.catalogue().templates.items()
    ]
    return {"count": len(items), "items": items}


@router.get("/commitments", summary="信用承诺公示（自然人姓名脱敏，不含承诺书全文）")
def public_commitments(
    session: DbSession,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    total, rows = service.public_list(session, offset=offset, limit=limit)
    return {"total": total, "offset": offset, "items": [public_dict(c, s) for c, s in rows]}


@router.post("/commitments", status_code=201, summary="在线签署信用承诺（信用主体账号）")
def sign_commitment(body: SignBody, session: DbSession, user: CurrentUser) -> dict[str, Any]:
    subject = accounts.applicant_subject(session, user)
    department = accounts.find_department(session, body.department) if body.department else None
    commitment = service.sign(
        session, accounts.actor_for(user), subject, template=body.template, context=body.context, department=department
    )
    return case_dict(session, commitment)


@router.get("/commitments/{commitment_id}", summary="信用承诺详情（承诺主体、核验部门和信用办可见）")
def get_commitment(commitment_id: int, session: DbSession, user: CurrentUser) -> dict[str, Any]:
    commitment = service.get_for(session, user, commitment_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, commitment)
    return case_dict(session, commitment)


@router.post("/commitments/{commitment_id}/evidence", summary="提交履约材料（承诺主体）")
def submit_evidence(
    commitment_id: int,
    session: DbSession,
    user: CurrentUser,
    note: Annotated[str, Form()] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    commitment = service.get_for(session, user, commitment_id)
    service.ensure_actor(user, commitment, CommitmentAction.SUBMIT_EVIDENCE)
    uploads = read_uploads({"evidence": evidence})
    service.submit_evidence(session, commitment, accounts.actor_for(user), note=note, uploads=uploads)
    return case_dict(session, commitment)


@router.post("/commitments/{commitment_id}/{action}", summary="核验：退回补充、确认履约或认定违诺（违诺记入信用记录）")
def step_commitment(
    commitment_id: int, action: CommitmentAction, body: StepBody, session: DbSession, user: CurrentUser
) -> dict[str, Any]:
    commitment = service.get_for(session, user, commitment_id)
    service.ensure_actor(user, commitment, action)
    service.act(session, commitment, action, accounts.actor_for(user), note=body.note, severity=body.severity)
    return case_dict(session, commitment)
