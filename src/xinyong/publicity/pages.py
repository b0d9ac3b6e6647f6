"""Public portal pages: home with search, search results, the subject credit page."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import OptionalUser
from xinyong.archive import service as archive
from xinyong.commitments import service as commitments
from xinyong.commitments.api import public_dict
from xinyong.core import audit
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, render
from xinyong.evaluation.pages import grade_view
from xinyong.publicity import views
from xinyong.repair import rules as repair_rules

router = APIRouter(tags=["portal"])


@router.get("/", include_in_schema=False)
def home(request: Request, session: DbSession, user: OptionalUser) -> Any:
    return render(request, "publicity/home.html", stats=archive.stats(session))


@router.get("/search", include_in_schema=False)
def search(request: Request, session: DbSession, user: OptionalUser, q: str = "") -> Any:
    results = views.search_view(session, q, limit=50) if q.strip() else []
    return render(request, "publicity/search.html", q=q, results=results)


@router.get("/subjects/{subject_id}", include_in_schema=False)
def subject_page(request: Request, subject_id: str, session: DbSession, user: OptionalUser) -> Any:
    subject = archive.subject_by_key(session, subject_id)
    view = views.view_for(user, subject)
    if view != views.View.PUBLIC and user is not None:
        audit.record(
            session,
            audit.Actor(f"user:{user.id}", user.display_name),
            "subject.read",
            "subject",
            subject.id,
            {"view": view.value},
        )
    data = views.subject_view(session, subject, view)
    _total, signed = commitments.public_list(session, subject_id=subject.id, limit=20)
    return render(
        request,
        "publicity/subject.html",
        subject=data,
        grade=grade_view(session, subject.id),
        commitments=[public_dict(c, s) for c, s in signed],
        repairable_rules=set(repair_rules.catalogue().records),
    )


@router.get("/publicity", include_in_schema=False)
def publicity_listing(
    request: Request,
    session: DbSession,
    user: OptionalUser,
    info_class: str = "admin_penalty",
    department: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
) -> Any:
    """双公示: licences and penalties in their publicity window, filtered by unit and date, 20 to a page."""
    size = 20
    page = max(1, min(page, 10000))
    dept = accounts.find_department(session, department) if department else None
    total, items = views.listing_view(
        session,
        info_class=info_class if info_class in ("admin_license", "admin_penalty") else "admin_penalty",
        department_id=dept.id if dept else None,
        date_from=_date(date_from),
        date_to=_date(date_to),
        offset=(page - 1) * size,
        limit=size,
    )
    template = "publicity/_records.html" if request.headers.get("hx-request") else "publicity/records.html"
    return render(
        request,
        template,
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // size)),
        info_class=info_class,
        department=department,
        date_from=date_from,
        date_to=date_to,
        departments=[d for d in accounts.list_departments(session) if d.submits],
    )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise DomainError(f"日期格式应为 YYYY-MM-DD：{value}", code="bad_date") from None


@router.get("/lists", include_in_schema=False)
def lists_index(request: Request, user: OptionalUser) -> Any:
    from xinyong.lists import service as lists

    return render(request, "publicity/lists.html", types=lists.list_types())


@router.get("/lists/{list_type}", include_in_schema=False)
def list_page(request: Request, list_type: str, session: DbSession, user: OptionalUser, page: int = 1) -> Any:
    """A list's entries in publicity (严重失信主体名单 / 守信激励名单), 20 to a page."""
    page = max(1, min(page, 10000))
    kind, total, items = views.list_page_view(session, list_type, page)
    return render(
        request, "publicity/list.html", kind=kind, items=items, total=total, page=page, pages=max(1, -(-total // 20))
    )
