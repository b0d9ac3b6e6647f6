"""JSON API of credit repair (logged-in users: the subject applies, the deciding unit and the credit office review).
Every step is audited by the service; reading a case that is not one's own application is audited here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser
from xinyong.core.web import DbSession, read_uploads
from xinyong.core.workflow import attachments_json, history_json
from xinyong.repair import rules, service
from xinyong.repair.models import RepairApplication
from xinyong.repair.rules import RepairAction

router = APIRouter(tags=["repair"])


class StepBody(BaseModel):
    opinion: str = ""


def case_dict(session: Any, app: RepairApplication, *, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": app.id,
        "subject_id": app.subject_id,
        "target": app.target,
        "record_id": app.record_id,
        "list_entry_id": app.list_entry_id,
        "rule": app.rule,
        "rule_name": app.rule_name,
        "legal_basis": app.legal_basis,
        "state": app.state,
        "state_label": rules.STATE_LABELS[rules.RepairState(app.state)],
        "deadline": app.deadline.isoformat() if app.deadline else None,
        "submitted_at": app.created_at.isoformat(),
        "decided_at": app.decided_at.isoformat() if app.decided_at else None,
        "repaired_record_id": app.repaired_record_id,
        "next_actions": [a.value for a in rules.TRANSITIONS.next_actions(app.state)],
    }
    if full:
        body |= {
            "statement": app.statement,
            "conditions": app.conditions,
            "commitment_id": app.commitment_id,
            "unit_opinion": app.unit_opinion,
            "office_opinion": app.office_opinion,
            "materials": attachments_json(session, service.WORKFLOW, app.id),
            "history": history_json(session, service.WORKFLOW, app.id, detailed=True),
        }
    return body


@router.get("/repairs/conditions", summary="修复条件预检（依据该信息适用的规则逐项判断：符合 / 不符合 / 待审核）")
def repair_conditions(
    session: DbSession,
    user: CurrentUser,
    record_id: int | None = None,
    list_entry_id: int | None = None,
    commitment_id: int | None = None,
) -> dict[str, Any]:
    subject = accounts.applicant_subject(session, user)
    found = service.assess(
        session, subject.id, record_id=record_id, list_entry_id=list_entry_id, commitment_id=commitment_id
    )
    return found.to_dict()


@router.post("/repairs", status_code=201, summary="申请信用修复（附材料；不符合条件的当即不予受理并说明依据）")
def submit_repair(
    session: DbSession,
    user: CurrentUser,
    statement: Annotated[str, Form(description="失信行为纠正和义务履行情况")],
    record_id: Annotated[int | None, Form()] = None,
    list_entry_id: Annotated[int | None, Form()] = None,
    commitment_id: Annotated[int | None, Form()] = None,
    proof_of_performance: Annotated[UploadFile | None, File()] = None,
    commitment_letter: Annotated[UploadFile | None, File()] = None,
    training_certificate: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    subject = accounts.applicant_subject(session, user)
    uploads = read_uploads(
        {
            "proof_of_performance": proof_of_performance,
            "commitment_letter": commitment_letter,
            "training_certificate": training_certificate,
        }
    )
    app = service.submit(
        session,
        accounts.actor_for(user),
        subject,
        statement=statement,
        record_id=record_id,
        list_entry_id=list_entry_id,
        uploads=uploads,
        commitment_id=commitment_id,
    )
    return case_dict(session, app)


@router.get("/repairs", summary="修复申请列表（申请人本人的 / 本单位认定的 / 信用办全部）")
def list_repairs(session: DbSession, user: CurrentUser, state: str | None = None) -> dict[str, Any]:
    rows = service.list_for(session, user, state)
    return {
        "count": len(rows),
        "items": [case_dict(session, a, full=False) | {"subject_name": s.name} for a, s, _d in rows],
    }


@router.get("/repairs/{application_id}", summary="修复申请详情（含条件判断、材料和办理过程）")
def get_repair(application_id: int, session: DbSession, user: CurrentUser) -> dict[str, Any]:
    app = service.get_for(session, user, application_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, app)
    return case_dict(session, app)


@router.post("/repairs/{application_id}/{action}", summary="办理一步：认定单位审核、信用办复核或申请人撤回")
def step_repair(
    application_id: int, action: RepairAction, body: StepBody, session: DbSession, user: CurrentUser
) -> dict[str, Any]:
    app = service.get_for(session, user, application_id)
    service.ensure_reviewer(user, app, action)
    service.act(session, app, action, accounts.actor_for(user), body.opinion)
    return case_dict(session, app)
