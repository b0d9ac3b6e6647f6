"""Pages of objections: the subject disputes a record from its credit page; the source department decides."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser
from xinyong.accounts.models import Department
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, Subject
from xinyong.catalog.service import get_catalog
from xinyong.core import clock
from xinyong.core.errors import DomainError, NotFound
from xinyong.core.web import DbSession, attachment_response, read_uploads, render
from xinyong.core.workflow import attachment, attachments, history, permitted
from xinyong.objections import rules, service
from xinyong.objections.rules import ObjectionAction

router = APIRouter(tags=["objections"], include_in_schema=False)
STEP_LABELS = {"submit": "提出异议", **{a.value: label for a, label in rules.ACTION_LABELS.items()}}
MATERIALS = {"evidence": "证明材料"}


def _correctable(info_class: str) -> list[tuple[str, str]]:
    spec = get_catalog().get(info_class)
    locked = set(rules.catalogue().locked_fields) | set(spec.natural_key) | set(spec.subject.field_names)
    return [(f.name, f.label) for f in spec.fields if f.name not in locked]


@router.get("/objections")
def objections_page(request: Request, session: DbSession, user: CurrentUser) -> Any:
    return render(
        request,
        "objections/list.html",
        rows=service.list_for(session, user),
        state_labels=rules.STATE_LABELS,
        today=clock.today(),
    )


def _form(request: Request, session: Any, user: Any, record_id: int, **extra: Any) -> Any:
    subject = accounts.applicant_subject(session, user)
    record = versions.current_of(session, record_id)
    if record.subject_id != subject.id:
        raise NotFound(f"未找到信用记录 {record_id}", code="record_not_found")
    return render(
        request,
        "objections/new.html",
        status_code=extra.pop("status_code", 200),
        record=record,
        fields=_correctable(record.info_class),
        days=rules.catalogue().verify_working_days,
        **extra,
    )


@router.get("/objections/new")
def new_objection(request: Request, session: DbSession, user: CurrentUser, record_id: int) -> Any:
    return _form(request, session, user, record_id)


@router.post("/objections/new")
def submit_objection(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    record_id: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Any:
    subject = accounts.applicant_subject(session, user)
    try:
        objection = service.submit(
            session,
            accounts.actor_for(user),
            subject,
            record_id=record_id,
            reason=reason,
            requested={field: value} if field and value.strip() else {},
            uploads=read_uploads({"evidence": evidence}),
        )
    except DomainError as exc:
        session.rollback()
        return _form(request, session, user, record_id, error=exc.message, reason=reason, status_code=exc.status_code)
    return RedirectResponse(f"/objections/{objection.id}", status_code=303)


@router.get("/objections/{objection_id}")
def objection_page(objection_id: int, request: Request, session: DbSession, user: CurrentUser) -> Any:
    objection = service.get_for(session, user, objection_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, objection)
    record = session.get(CreditRecord, objection.record_id)
    actions = permitted(
        rules.TRANSITIONS.next_actions(objection.state), lambda a: service.ensure_actor(user, objection, a)
    )
    return render(
        request,
        "objections/detail.html",
        o=objection,
        record=record,
        subject=session.get(Subject, objection.subject_id),
        department=session.get(Department, objection.department_id),
        fields=_correctable(record.info_class) if record else [],
        materials=attachments(session, service.WORKFLOW, objection.id),
        material_labels=MATERIALS,
        events=history(session, service.WORKFLOW, objection.id),
        state_labels=rules.STATE_LABELS,
        action_labels=rules.ACTION_LABELS,
        step_labels=STEP_LABELS,
        actions=actions,
    )


@router.get("/objections/{objection_id}/materials/{material_id}")
def objection_material(objection_id: int, material_id: int, session: DbSession, user: CurrentUser) -> Any:
    objection = service.get_for(session, user, objection_id)
    found = attachment(session, service.WORKFLOW, objection.id, material_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, objection, "material_read")
    return attachment_response(found)


@router.post("/objections/{objection_id}/{action}")
def objection_step(
    objection_id: int,
    action: ObjectionAction,
    session: DbSession,
    user: CurrentUser,
    reply: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
) -> Any:
    objection = service.get_for(session, user, objection_id)
    service.ensure_actor(user, objection, action)
    corrections = {field: value} if field and value.strip() else {}
    service.decide(session, objection, action, accounts.actor_for(user), reply=reply, corrections=corrections)
    return RedirectResponse(f"/objections/{objection.id}", status_code=303)
