"""站内消息: the notices of the logged-in user's audience."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from xinyong.accounts.deps import CurrentUser
from xinyong.core.web import DbSession, render
from xinyong.notices import service

router = APIRouter(tags=["notices"], include_in_schema=False)


@router.get("/notices")
def notices_page(request: Request, session: DbSession, user: CurrentUser) -> Any:
    return render(request, "notices/list.html", notices=service.for_user(session, user))


@router.post("/notices/read")
def read_all(session: DbSession, user: CurrentUser) -> Any:
    service.mark_all_read(session, user)
    return RedirectResponse("/notices", status_code=303)
