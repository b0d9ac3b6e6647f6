"""Report pages: the public verify page (what a QR code opens) and the PDF download of a subject's report."""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.deps import OptionalUser
from xinyong.accounts.models import Role, User
from xinyong.archive import service as archive
from xinyong.archive.models import Subject
from xinyong.core.audit import Actor
from xinyong.core.errors import NotAuthenticated, PermissionDenied, TooManyRequests
from xinyong.core.web import DbSession, content_disposition, render
from xinyong.reports import service
from xinyong.reports.models import ReportKind

router = APIRouter(tags=["reports"])

# The verification code travels in the URL: keep it out of Referer headers, caches and search engines.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _minutes(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def _actor(user: User | None) -> Actor:
    return Actor(f"user:{user.id}", user.display_name) if user else service.ANONYMOUS


def _may_have_self_report(user: User | None, subject: Subject) -> None:
    """The self report holds non-public records: only the subject's own account or the credit office."""
    if user is None:
        raise NotAuthenticated("请先登录", code="login_required")
    if user.role in (Role.CREDIT_OFFICE, Role.ADMIN):
        return
    if user.role == Role.SUBJECT and user.subject_id == subject.id:
        return
    raise PermissionDenied("只有本主体或信用办可以下载本主体查询版信用报告", code="forbidden")


@router.get("/verify", include_in_schema=False)
def verify_form(request: Request, user: OptionalUser, code: str = "") -> Any:
    if code.strip():
        return RedirectResponse(f"/verify/{service.normalize_code(code)}", status_code=303)
    return render(request, "reports/verify.html", report=None, asked=False)


@router.get("/verify/{code}", include_in_schema=False)
def verify_page(request: Request, code: str, session: DbSession, user: OptionalUser) -> Any:
    report = service.verify(session, code)
    response = render(
        request,
        "reports/verify.html",
        status_code=200 if report else 404,
        report=report,
        asked=True,
        code=code,
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get("/subjects/{subject_id}/report.pdf", include_in_schema=False)
def download_report(
    request: Request,
    subject_id: str,
    session: DbSession,
    user: OptionalUser,
    kind: Literal["public", "self"] = "public",
) -> Response:
    subject = archive.subject_by_key(session, subject_id)
    if kind == ReportKind.SELF:
        _may_have_self_report(user, subject)
    if user is None:  # each one is rendered and registered: an anonymous client gets a fair share (core.ratelimit)
        wait = request.app.state.report_limit.hit(request.client.host if request.client else "")
        if wait:
            raise TooManyRequests(
                f"信用报告下载过于频繁，请 {_minutes(wait)} 后再试；登录后下载不受此限制", retry_after=wait
            )
    issued = service.issue(
        session, subject, ReportKind(kind), _actor(user), base_url=request.app.state.settings.base_url
    )
    return Response(
        issued.pdf_bytes,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(issued.file_name), "Cache-Control": "no-store"},
    )
