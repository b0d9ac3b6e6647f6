"""Login and logout for the web."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from xinyong.accounts import service
from xinyong.accounts.deps import CurrentUser, OptionalUser
from xinyong.accounts.models import ROLE_LABELS, Role
from xinyong.core import audit
from xinyong.core.web import DbSession, render

router = APIRouter(tags=["accounts"], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Any:
    return render(request, "accounts/login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Any:
    user = service.authenticate(session, username.strip(), password)
    if user is None:
        return render(request, "accounts/login.html", status_code=401, next=_safe_next(next), error="用户名或密码错误")
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, session: DbSession, user: OptionalUser) -> Any:
    if user is not None:
        audit.record(session, service.actor_for(user), "auth.logout", "user", user.id, {})
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/me")
def me(request: Request, user: CurrentUser) -> Any:
    return render(request, "accounts/me.html", role_label=ROLE_LABELS.get(Role(user.role), user.role))
