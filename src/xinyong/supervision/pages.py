"""Pages of random inspections: the public plans (一公开) and the office page that runs a plan.

Public: `/inspections` and `/inspections/{plan_id}` (no login; targets only once the plan is published).
Office: `/office/inspections` for the credit office (every plan) and department users (their own unit's plans):
create a plan, draw, reveal, record results. Viewing a plan's targets there writes an `inspection.read` audit event,
since before the reveal they are secret.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import OptionalUser, require_role
from xinyong.accounts.models import Role, User
from xinyong.core import audit
from xinyong.core.errors import DomainError, PermissionDenied
from xinyong.core.web import DbSession, render
from xinyong.supervision import results, service, views
from xinyong.supervision.models import InspectionPlan

router = APIRouter(tags=["supervision"], include_in_schema=False)
Inspector = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE, Role.DEPARTMENT))]


@router.get("/inspections")
def list_inspections(request: Request, session: DbSession, user: OptionalUser) -> Any:
    return render(request, "supervision/plans.html", plans=views.public_plans(session))


@router.get("/inspections/{plan_id}")
def show_inspection(plan_id: int, request: Request, session: DbSession, user: OptionalUser) -> Any:
    plan = service.get_or_raise(session, plan_id)
    return render(request, "supervision/plan.html", plan=views.public_plan(session, plan))


# --- office ----------------------------------------------------------------------------------------------------


def _scope(user: User) -> int | None:
    """A department user works on its own unit's plans; the credit office and admin on all."""
    if user.role != Role.DEPARTMENT.value:
        return None
    if user.department_id is None:
        raise PermissionDenied("您的账号未绑定单位，不能管理抽查计划", code="no_department")
    return user.department_id


def _plan_for(session: DbSession, plan_id: int, user: User) -> InspectionPlan:
    plan = service.get_or_raise(session, plan_id)
    scope = _scope(user)
    if scope is not None and plan.department_id != scope:
        raise PermissionDenied("该抽查计划不属于您的单位", code="forbidden")
    return plan


def _date(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(f"{label}格式应为 YYYY-MM-DD", code="bad_date") from None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("，", "\n").replace("、", "\n").splitlines() if line.strip()]


@router.get("/office/inspections")
def office_inspections(request: Request, session: DbSession, user: Inspector) -> Any:
    scope = _scope(user)
    plans = views.public_plans(session, scope)
    departments = [d for d in accounts.list_departments(session) if d.active and (scope is None or d.id == scope)]
    return render(
        request,
        "supervision/office.html",
        plans=plans,
        departments=departments,
        bounds=service.sampling().grades,
        sampling=service.sampling(),
        districts=views.district_choices(),
        industries=views.industry_choices(),
        kinds=views.kind_choices(),
    )


@router.post("/office/inspections")
async def create_inspection(request: Request, session: DbSession, user: Inspector) -> Any:
    """Multi-valued fields (districts, industries, subject kinds) come from checkboxes, hence the raw form."""
    form = await request.form()
    scope = _scope(user)
    raw_department = str(form.get("department_id") or "")
    if scope is None and not raw_department.isdigit():
        raise DomainError("请选择检查实施单位", code="department_required")
    department_id = scope if scope is not None else int(raw_department)
    ratios = {}
    for grade in service.sampling().grades:
        raw = str(form.get(f"ratio_{grade}") or "").strip()
        if raw:
            try:
                ratios[grade] = float(raw) / 100
            except ValueError:
                raise DomainError(f"{grade} 类抽查比例应为数字（百分比）", code="bad_ratio") from None
    plan = service.create_plan(
        session,
        accounts.actor_for(user),
        name=str(form.get("name") or ""),
        department_id=department_id,
        period_start=_date(str(form.get("period_start") or ""), "抽查期间开始日期"),
        period_end=_date(str(form.get("period_end") or ""), "抽查期间结束日期"),
        items=[line.strip() for line in str(form.get("items") or "").splitlines()],
        inspectors=_lines(str(form.get("inspectors") or "")),
        scope={
            "industries": [str(v) for v in form.getlist("industries")],
            "districts": [str(v) for v in form.getlist("districts")],
            "subject_kinds": [str(v) for v in form.getlist("subject_kinds")],
        },
        ratios=ratios,
    )
    return RedirectResponse(f"/office/inspections/{plan.id}", status_code=303)


@router.get("/office/inspections/{plan_id}")
def office_inspection(plan_id: int, request: Request, session: DbSession, user: Inspector) -> Any:
    plan = _plan_for(session, plan_id, user)
    audit.record(session, accounts.actor_for(user), "inspection.read", "inspection_plan", plan.id, {"view": "office"})
    return render(
        request,
        "supervision/office_plan.html",
        plan=views.public_plan(session, plan),
        targets=views.targets(session, plan, public=False),
        result_kinds=results.result_kinds().results,
    )


@router.post("/office/inspections/{plan_id}/draw")
def draw_inspection(plan_id: int, session: DbSession, user: Inspector) -> Any:
    service.draw(session, _plan_for(session, plan_id, user), accounts.actor_for(user))
    return RedirectResponse(f"/office/inspections/{plan_id}", status_code=303)


@router.post("/office/inspections/{plan_id}/reveal")
def reveal_inspection(plan_id: int, session: DbSession, user: Inspector) -> Any:
    service.reveal(session, _plan_for(session, plan_id, user), accounts.actor_for(user))
    return RedirectResponse(f"/office/inspections/{plan_id}", status_code=303)


@router.post("/office/inspections/{plan_id}/results")
def record_inspection_result(
    plan_id: int,
    session: DbSession,
    user: Inspector,
    subject_id: Annotated[int, Form()],
    result: Annotated[str, Form()],
    inspected_on: Annotated[str, Form()],
    inspector: Annotated[str, Form()],
    findings: Annotated[str, Form()] = "",
) -> Any:
    plan = _plan_for(session, plan_id, user)
    results.record_result(
        session,
        plan,
        accounts.actor_for(user),
        subject_id=subject_id,
        result=result,
        inspected_on=_date(inspected_on, "检查完成日期"),
        inspector=inspector,
        findings=findings,
    )
    return RedirectResponse(f"/office/inspections/{plan_id}#target-{subject_id}", status_code=303)
