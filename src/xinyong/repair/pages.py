"""Pages of credit repair: the subject applies from its credit page; the deciding unit and the credit office
review. Thin over repair.service; reading a case or a material that is not one's own is audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser
from xinyong.accounts.models import Department, User
from xinyong.archive.models import CreditRecord, Subject
from xinyong.core import clock
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, attachment_response, read_uploads, render
from xinyong.core.workflow import attachment, attachments, history, permitted
from xinyong.repair import rules, service
from xinyong.repair.rules import RepairAction, RepairState

router = APIRouter(tags=["repair"], include_in_schema=False)
STEP_LABELS = {"submit": "提交申请", **{a.value: label for a, label in rules.ACTION_LABELS.items()}}


@router.get("/repairs")
def repairs_page(request: Request, session: DbSession, user: CurrentUser, state: str = "") -> Any:
    if state and state not in set(RepairState):
        raise DomainError(f"未知状态“{state}”", code="bad_state")
    return render(
        request,
        "repair/list.html",
        rows=service.list_for(session, user, state or None),
        state=state,
        state_labels=rules.STATE_LABELS,
        today=clock.today(),
    )


def _new_form(
    request: Request, session: Any, user: User, record_id: int | None, list_entry_id: int | None, **extra: Any
) -> Any:
    subject = accounts.applicant_subject(session, user)
    found = service.assess(session, subject.id, record_id=record_id, list_entry_id=list_entry_id)
    return render(
        request,
        "repair/new.html",
        status_code=extra.pop("status_code", 200),
        assessment=found,
        conditions=[c.to_dict() for c in found.conditions],
        record_id=record_id,
        list_entry_id=list_entry_id,
        material_labels=rules.catalogue().materials,
        **extra,
    )


@router.get("/repairs/new")
def new_repair(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    record_id: int | None = None,
    list_entry_id: int | None = None,
) -> Any:
    return _new_form(request, session, user, record_id, list_entry_id)


@router.post("/repairs/new")
def submit_repair(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    statement: Annotated[str, Form()] = "",
    record_id: Annotated[int | None, Form()] = None,
    list_entry_id: Annotated[int | None, Form()] = None,
    proof_of_performance: Annotated[UploadFile | None, File()] = None,
    commitment_letter: Annotated[UploadFile | None, File()] = None,
    training_certificate: Annotated[UploadFile | None, File()] = None,
) -> Any:
    subject = accounts.applicant_subject(session, user)
    uploads = read_uploads(
        {
            "proof_of_performance": proof_of_performance,
            "commitment_letter": commitment_letter,
            "training_certificate": training_certificate,
        }
    )
    try:
        app = service.submit(
            session,
            accounts.actor_for(user),
            subject,
            statement=statement,
            record_id=record_id,
            list_entry_id=list_entry_id,
            uploads=uploads,
        )
    except DomainError as exc:
        session.rollback()
        return _new_form(
            request,
            session,
            user,
            record_id,
            list_entry_id,
            error=exc.message,
            statement=statement,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/repairs/{app.id}", status_code=303)


@router.get("/repairs/{application_id}")
def repair_page(application_id: int, request: Request, session: DbSession, user: CurrentUser) -> Any:
    app = service.get_for(session, user, application_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, app)
    actions = permitted(rules.TRANSITIONS.next_actions(app.state), lambda a: service.ensure_reviewer(user, app, a))
    return render(
        request,
        "repair/detail.html",
        app=app,
        subject=session.get(Subject, app.subject_id),
        record=session.get(CreditRecord, app.record_id) if app.record_id else None,
        department=session.get(Department, app.department_id),
        materials=attachments(session, service.WORKFLOW, app.id),
        material_labels=rules.catalogue().materials,
        events=history(session, service.WORKFLOW, app.id),
        state_labels=rules.STATE_LABELS,
        action_labels=rules.ACTION_LABELS,
        step_labels=STEP_LABELS,
        actions=actions,
    )


@router.get("/repairs/{application_id}/materials/{material_id}")
def repair_material(application_id: int, material_id: int, session: DbSession, user: CurrentUser) -> Any:
    app = service.get_for(session, user, application_id)
    found = attachment(session, service.WORKFLOW, app.id, material_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, app, "material_read")
    return attachment_response(found)


@router.post("/repairs/{application_id}/{action}")
def repair_step(
    application_id: int,
    action: RepairAction,
    session: DbSession,
    user: CurrentUser,
    opinion: Annotated[str, Form()] = "",
) -> Any:
    app = service.get_for(session, user, application_id)
    service.ensure_reviewer(user, app, action)
    service.act(session, app, action, accounts.actor_for(user), opinion)
    return RedirectResponse(f"/repairs/{app.id}", status_code=303)
