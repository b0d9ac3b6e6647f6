"""Public portal pages: home with search, search results, the subject credit page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from xinyong.accounts.deps import OptionalUser
from xinyong.archive import service as archive
from xinyong.core import audit
from xinyong.core.web import DbSession, render
from xinyong.publicity import views

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
    return render(request, "publicity/subject.html", subject=data)
