"""Quality dashboards: a department's own (/console/quality), the credit office's (/office/quality), and the
monthly notice download. These are internal data: every read writes a `quality.read` audit event."""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_role
from xinyong.accounts.models import Department, Role, User
from xinyong.core import audit
from xinyong.core.errors import PermissionDenied
from xinyong.core.web import DbSession, render
from xinyong.quality import service

router = APIRouter(tags=["quality"], include_in_schema=False)

DepartmentUser = Annotated[User, Depends(require_role(Role.DEPARTMENT))]
OfficeUser = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORT_KEYS = ("department", "info_class", "rows", *service.METRICS, "score")


def _month(session: DbSession, month: str | None, department_id: int | None = None) -> str:
    if month:
        service.parse_month(month)
        return month.strip()
    return service.latest_month(session, department_id) or service.current_month()


def _own_department(session: DbSession, user: User, department: str | None) -> Department | None:
    """A department user sees only their own unit; an admin names one (or goes to the office view)."""
    if user.role == Role.DEPARTMENT:
        own = session.get(Department, user.department_id)
        if own is None:
            raise PermissionDenied("您的账号未关联单位", code="no_department")
        if department and department.strip() not in (own.code, own.uscc, own.name, str(own.id)):
            raise PermissionDenied("只能查看本单位的数据质量", code="other_department")
        return own
    return accounts.find_department(session, department) if department else None


def _read(session: DbSession, user: User, view: str, month: str, department: Department | None, n: int) -> None:
    audit.record(
        session,
        accounts.actor_for(user),
        "quality.read",
        "quality",
        month,
        {"view": view, "month": month, "department": department.code if department else None, "rows": n},
    )


@router.get("/console/quality")
def department_quality(
    request: Request, session: DbSession, user: DepartmentUser, month: str | None = None, department: str | None = None
) -> Any:
    dept = _own_department(session, user, department)
    if dept is None:
        return RedirectResponse("/office/quality", status_code=303)
    month = _month(session, month, dept.id)
    rows = service.compute_metrics(session, month, dept.id)
    _read(session, user, "department", month, dept, len(rows))
    return render(
        request,
        "quality/department.html",
        department=dept,
        month=month,
        month_label=service.month_label(month),
        rows=rows,
        rules=service.load_rules(),
        fallback_notes=[service.fallback_note(y) for y in service.fallback_years(rows)],
    )


def _sorted(rows: list[service.QualityRow], sort: str, order: str) -> list[service.QualityRow]:
    if sort == "department":
        return sorted(rows, key=lambda r: (r.department_code, r.info_class), reverse=order == "desc")
    if sort == "info_class":
        return sorted(rows, key=lambda r: (r.info_class, r.department_code), reverse=order == "desc")
    present = [r for r in rows if getattr(r, sort) is not None]
    absent = [r for r in rows if getattr(r, sort) is None]
    return sorted(present, key=lambda r: getattr(r, sort), reverse=order == "desc") + absent


def _chart(rows: list[service.QualityRow]) -> dict[str, Any]:
    """Scores as a grouped bar chart: one category per department, one series per info class."""
    departments = list(dict.fromkeys(r.department_name for r in sorted(rows, key=lambda r: r.department_code)))
    classes = list(dict.fromkeys(r.info_class_name for r in sorted(rows, key=lambda r: r.info_class)))
    scores = {(r.department_name, r.info_class_name): r.score for r in rows}
    return {
        "categories": departments,
        "series": [{"name": c, "data": [scores.get((d, c)) for d in departments]} for c in classes],
    }


@router.get("/office/quality")
def office_quality(
    request: Request,
    session: DbSession,
    user: OfficeUser,
    month: str | None = None,
    department: str | None = None,
    sort: str = "score",
    order: str = "asc",
) -> Any:
    dept = accounts.find_department(session, department) if department else None
    month = _month(session, month, dept.id if dept else None)
    rows = service.compute_metrics(session, month, dept.id if dept else None)
    sort = sort if sort in SORT_KEYS else "score"
    order = order if order in ("asc", "desc") else "asc"
    _read(session, user, "office", month, dept, len(rows))
    return render(
        request,
        "quality/office.html",
        month=month,
        month_label=service.month_label(month),
        department=dept,
        departments=accounts.list_departments(session),
        rows=_sorted(rows, sort, order),
        sort=sort,
        order=order,
        rules=service.load_rules(),
        chart=_chart(rows),
        fallback_notes=[service.fallback_note(y) for y in service.fallback_years(rows)],
    )


@router.get("/office/quality/notice.xlsx")
def download_notice(session: DbSession, user: OfficeUser, month: str | None = None) -> Response:
    month = _month(session, month)
    rows = service.compute_metrics(session, month)
    buffer = io.BytesIO()
    service.write_notice(rows, buffer, month)
    _read(session, user, "notice", month, None, len(rows))
    name = f"公共信用信息归集质量通报-{month}.xlsx"
    disposition = f"attachment; filename=\"quality-notice-{month}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(buffer.getvalue(), media_type=XLSX, headers={"Content-Disposition": disposition})
