"""Who is calling: a logged-in user (web session cookie) or an API client (bearer token). Permission checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.models import ApiClient, Role, User
from xinyong.core import clock
from xinyong.core.audit import Actor
from xinyong.core.errors import NotAuthenticated, PermissionDenied
from xinyong.core.web import DbSession

ANONYMOUS = Actor("anonymous", "公众")
LAST_USED_RESOLUTION = timedelta(minutes=5)


def optional_user(request: Request, session: DbSession) -> User | None:
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active:
        request.session.clear()
        return None
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated("请先登录", code="login_required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that admits only the given roles (admin is always admitted)."""
    allowed = {r.value for r in roles} | {Role.ADMIN.value}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise PermissionDenied("您的账号无权访问此功能", code="forbidden")
        return user

    return check


def api_client(request: Request, session: DbSession) -> ApiClient:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("缺少访问令牌：请在 Authorization 头中使用 Bearer 令牌", code="token_required")
    client = service.authenticate_client(session, token.strip())
    if client is None:
        raise NotAuthenticated("访问令牌无效或已停用", code="token_invalid")
    now = clock.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        # at most one write per client per few minutes: every call updating the same row would serialise all of a
        # busy client's concurrent requests on that row's lock
        client.last_used_at = now
    return client


ClientDep = Annotated[ApiClient, Depends(api_client)]


def require_permission(permission: str) -> Callable[[ApiClient], ApiClient]:
    def check(client: ClientDep) -> ApiClient:
        if permission not in client.permissions:
            label = service.PERMISSIONS.get(permission, permission)
            raise PermissionDenied(f"接入系统未获授权：缺少“{label}”（{permission}）权限", code="permission_missing")
        return client

    return check


def session_of(request: Request) -> Session:
    return request.app.state.sessionmaker()
