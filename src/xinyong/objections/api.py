"""JSON API of objections (logged-in users: the subject disputes, the source department decides)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, read_uploads
from xinyong.core.workflow import attachments_json, history_json
from xinyong.objections import rules, service
from xinyong.objections.models import Objection
from xinyong.objections.rules import ObjectionAction

router = APIRouter(tags=["objections"])


class DecisionBody(BaseModel):
    reply: str = ""
    corrections: dict[str, str] = Field(default_factory=dict, description="更正的字段及更正后的内容（仅“更正信息”）")


def case_dict(session: Any, o: Objection, *, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": o.id,
        "subject_id": o.subject_id,
        "record_id": o.record_id,
        "state": o.state,
        "state_label": rules.STATE_LABELS[rules.ObjectionState(o.state)],
        "deadline": o.deadline.isoformat(),
        "submitted_at": o.created_at.isoformat(),
        "decided_at": o.decided_at.isoformat() if o.decided_at else None,
        "outcome_record_id": o.outcome_record_id,
        "next_actions": [a.value for a in rules.TRANSITIONS.next_actions(o.state)],
    }
    if full:
        body |= {
            "reason": o.reason,
            "requested": o.requested,
            "reply": o.reply,
            "materials": attachments_json(session, service.WORKFLOW, o.id),
            "history": history_json(session, service.WORKFLOW, o.id),
        }
    return body


@router.post("/objections", status_code=201, summary="对本主体的一条信用信息提出异议（公示页面显示“异议处理中”）")
def submit_objection(
    session: DbSession,
    user: CurrentUser,
    record_id: Annotated[int, Form()],
    reason: Annotated[str, Form(description="异议的事实和理由")],
    field: Annotated[str, Form(description="请求更正的字段（可选）")] = "",
    value: Annotated[str, Form(description="请求更正为（可选）")] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    subject = accounts.applicant_subject(session, user)
    if bool(field.strip()) != bool(value.strip()):
        raise DomainError("请求更正时请同时填写字段和更正后的内容", code="correction_incomplete")
    objection = service.submit(
        session,
        accounts.actor_for(user),
        subject,
        record_id=record_id,
        reason=reason,
        requested={field.strip(): value.strip()} if field.strip() else {},
        uploads=read_uploads({"evidence": evidence}),
    )
    return case_dict(session, objection)


@router.get("/objections", summary="异议申请列表（申请人本人的 / 本单位的 / 信用办全部）")
def list_objections(session: DbSession, user: CurrentUser) -> dict[str, Any]:
    rows = service.list_for(session, user)
    return {
        "count": len(rows),
        "items": [case_dict(session, o, full=False) | {"subject_name": s.name} for o, s, _d in rows],
    }


@router.get("/objections/{objection_id}", summary="异议申请详情")
def get_objection(objection_id: int, session: DbSession, user: CurrentUser) -> dict[str, Any]:
    objection = service.get_for(session, user, objection_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, objection)
    return case_dict(session, objection)


@router.post("/objections/{objection_id}/{action}", summary="处理异议：更正、撤销信息、维持原信息，或申请人撤回")
def decide_objection(
    objection_id: int, action: ObjectionAction, body: DecisionBody, session: DbSession, user: CurrentUser
) -> dict[str, Any]:
    objection = service.get_for(session, user, objection_id)
    service.ensure_actor(user, objection, action)
    service.decide(session, objection, action, accounts.actor_for(user), reply=body.reply, corrections=body.corrections)
    return case_dict(session, objection)
