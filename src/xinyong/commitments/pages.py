"""Pages of credit commitments: the public list (信用承诺公示), online signing, and fulfilment tracking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CurrentUser, OptionalUser
from xinyong.accounts.models import Department
from xinyong.archive.models import Subject
from xinyong.commitments import rules, service
from xinyong.commitments.api import public_dict
from xinyong.commitments.rules import CommitmentAction
from xinyong.core import clock
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, attachment_response, read_uploads, render
from xinyong.core.workflow import attachment, attachments, history, permitted

router = APIRouter(tags=["commitments"], include_in_schema=False)
STEP_LABELS = {"sign": "签署承诺", **{a.value: label for a, label in rules.ACTION_LABELS.items()}}
PAGE_SIZE = 50


@router.get("/commitments")
def public_page(request: Request, session: DbSession, user: OptionalUser, page: Annotated[int, Query(ge=1)] = 1) -> Any:
    total, rows = service.public_list(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "commitments/public.html",
        items=[public_dict(c, s) | {"subject_id": s.id} for c, s in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        templates=rules.catalogue().templates,
    )


@router.get("/commitments/mine")
def my_commitments(request: Request, session: DbSession, user: CurrentUser) -> Any:
    return render(
        request,
        "commitments/mine.html",
        rows=service.list_for(session, user),
        state_labels=rules.STATE_LABELS,
        today=clock.today(),
    )


def _sign_form(request: Request, session: Any, user: Any, template: str, **extra: Any) -> Any:
    subject = accounts.applicant_subject(session, user)
    tpl = service.template_or_raise(template)
    departments = (
        list(session.scalars(select(Department).order_by(Department.id))) if tpl.verified_by == "department" else []
    )
    preview = service.render_text(
        session, tpl, subject, {k: f"【{label}】" for k, label in tpl.context_fields.items()}, clock.today()
    )
    return render(
        request,
        "commitments/sign.html",
        status_code=extra.pop("status_code", 200),
        code=template,
        tpl=tpl,
        preview=preview,
        departments=departments,
        **extra,
    )


@router.get("/commitments/sign")
def sign_page(request: Request, session: DbSession, user: CurrentUser, template: str = "approval_notice") -> Any:
    return _sign_form(request, session, user, template)


@router.post("/commitments/sign")
async def sign(request: Request, session: DbSession, user: CurrentUser) -> Any:
    form = await request.form()
    template = str(form.get("template", ""))
    tpl = service.template_or_raise(template)
    context = {key: str(form.get(key, "")) for key in tpl.context_fields}
    if form.get("agree") != "yes":
        return _sign_form(
            request, session, user, template, error="请阅读并勾选“本人已阅读并同意以上承诺”", status_code=400
        )
    department_code = str(form.get("department", "")).strip()
    try:
        department = accounts.find_department(session, department_code) if department_code else None
        subject = accounts.applicant_subject(session, user)
        commitment = service.sign(
            session, accounts.actor_for(user), subject, template=template, context=context, department=department
        )
    except DomainError as exc:
        session.rollback()
        return _sign_form(request, session, user, template, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/commitments/{commitment.id}", status_code=303)


@router.get("/commitments/{commitment_id}")
def commitment_page(commitment_id: int, request: Request, session: DbSession, user: CurrentUser) -> Any:
    commitment = service.get_for(session, user, commitment_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, commitment)
    actions = permitted(
        rules.TRANSITIONS.next_actions(commitment.state), lambda a: service.ensure_actor(user, commitment, a)
    )
    return render(
        request,
        "commitments/detail.html",
        c=commitment,
        subject=session.get(Subject, commitment.subject_id),
        department=session.get(Department, commitment.department_id) if commitment.department_id else None,
        materials=attachments(session, service.WORKFLOW, commitment.id),
        material_labels={"evidence": "履约材料"},
        events=history(session, service.WORKFLOW, commitment.id),
        state_labels=rules.STATE_LABELS,
        action_labels=rules.ACTION_LABELS,
        step_labels=STEP_LABELS,
        actions=actions,
        severities=service.SEVERITIES,
    )


@router.get("/commitments/{commitment_id}/materials/{material_id}")
def commitment_material(commitment_id: int, material_id: int, session: DbSession, user: CurrentUser) -> Any:
    commitment = service.get_for(session, user, commitment_id)
    found = attachment(session, service.WORKFLOW, commitment.id, material_id)
    accounts.audit_case_read(session, user, service.WORKFLOW, commitment, "material_read")
    return attachment_response(found)


@router.post("/commitments/{commitment_id}/{action}")
def commitment_step(
    commitment_id: int,
    action: CommitmentAction,
    session: DbSession,
    user: CurrentUser,
    note: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "general",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Any:
    commitment = service.get_for(session, user, commitment_id)
    service.ensure_actor(user, commitment, action)
    uploads = read_uploads({"evidence": evidence})
    service.act(session, commitment, action, accounts.actor_for(user), note=note, severity=severity, uploads=uploads)
    return RedirectResponse(f"/commitments/{commitment.id}", status_code=303)
