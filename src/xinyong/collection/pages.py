"""Department console (报送工作台): upload a file, see what was accepted and rejected and why, download the report.
The credit office sees every department's batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_role
from xinyong.accounts.models import Department, Role, User
from xinyong.catalog.service import get_catalog
from xinyong.collection import report, service
from xinyong.core import audit
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, content_disposition, render

router = APIRouter(include_in_schema=False)
Clerk = Annotated[User, Depends(require_role(Role.DEPARTMENT, Role.CREDIT_OFFICE))]


def _scope(user: User) -> int | None:
    """A department clerk sees their own unit; the credit office and admins see all."""
    return user.department_id if user.role == Role.DEPARTMENT else None


def _classes(dept: Department | None) -> list[tuple[str, str]]:
    catalog = get_catalog()
    codes = dept.submits if dept and dept.submits else list(catalog.classes)
    return [(c, catalog.get(c).name) for c in codes if c in catalog.classes]


@router.get("/console")
def console(request: Request, session: DbSession, user: Clerk) -> Any:
    dept = session.get(Department, user.department_id) if user.department_id else None
    batches = service.list_batches(session, _scope(user))
    names = {d.id: d.short_name for d in accounts.list_departments(session)}
    return render(
        request,
        "collection/console.html",
        department=dept,
        classes=_classes(dept),
        batches=batches,
        department_names=names,
        class_names={c: n for c, n in _classes(None)},
        error=None,
    )


@router.post("/console/upload")
def upload(
    request: Request,
    session: DbSession,
    user: Clerk,
    file: Annotated[UploadFile, File()],
    info_class: Annotated[str, Form()],
) -> Any:
    if user.department_id is None:
        raise DomainError("只有部门报送员可以上传本单位数据", code="no_department")
    dept = session.get(Department, user.department_id)
    try:
        summary = service.ingest_upload(
            session,
            file.file,
            file.filename or "upload",
            department=dept,
            info_class=info_class,
            actor=accounts.actor_for(user),
            channel="upload",
        )
    except DomainError as exc:
        session.rollback()
        return render(
            request,
            "collection/console.html",
            status_code=400,
            department=dept,
            classes=_classes(dept),
            batches=service.list_batches(session, dept.id),
            department_names={dept.id: dept.short_name},
            class_names=dict(_classes(None)),
            error=exc.message,
        )
    return RedirectResponse(f"/console/batches/{summary.batch_id}", status_code=303)


@router.get("/console/batches/{batch_id}")
def batch_page(batch_id: int, request: Request, session: DbSession, user: Clerk) -> Any:
    batch = service.get_batch_for(session, batch_id, _scope(user))
    audit.record(session, accounts.actor_for(user), "batch.read", "batch", batch.id, {})
    return render(
        request,
        "collection/batch.html",
        batch=batch,
        summary=service.batch_summary(session, batch),
        rejections=service.rejections_of(session, batch.id),
        class_name=get_catalog().get(batch.info_class).name,
    )


@router.get("/console/batches/{batch_id}/rejections.{fmt}")
def rejections(batch_id: int, fmt: str, session: DbSession, user: Clerk) -> Response:
    batch = service.get_batch_for(session, batch_id, _scope(user))
    if fmt not in ("xlsx", "csv"):
        raise DomainError("仅支持 xlsx 或 csv 格式", code="bad_format")
    audit.record(session, accounts.actor_for(user), "batch.rejections.read", "batch", batch.id, {"format": fmt})
    content, media, name = report.render(session, batch, fmt)
    return Response(content, media_type=media, headers={"Content-Disposition": content_disposition(name)})


@router.get("/office")
def office(
    request: Request, session: DbSession, user: Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]
) -> Any:
    """The credit office's start page: what needs attention across all units."""
    return render(request, "collection/office.html", overview=service.office_overview(session))


Officer = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]


@router.get("/office/reviews")
def reviews(request: Request, session: DbSession, user: Officer) -> Any:
    """Name-only records waiting for a person to choose their subject (关联审核)."""
    audit.record(session, accounts.actor_for(user), "link_review.read", "link_review", "*", {})
    return render(request, "collection/reviews.html", items=service.open_reviews(session), error=None)


@router.post("/office/reviews/{review_id}")
def resolve(
    review_id: int, request: Request, session: DbSession, user: Officer, subject_id: Annotated[str, Form()]
) -> Any:
    from xinyong.archive import service as archive

    subject = archive.subject_by_key(session, subject_id)
    service.resolve_review(session, review_id, subject.id, accounts.actor_for(user))
    return RedirectResponse("/office/reviews", status_code=303)
