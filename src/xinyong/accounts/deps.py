"""Who is calling: a logged-in user (web session cookie) or an API client (bearer token). Permission checks.

API clients are cached per application (each worker process) for `CLIENT_CACHE_SECONDS` after a successful
lookup, keyed by the token's SHA-256: a business system's checks then cost no query and no worker-thread hop
for authentication. The bound this puts on revocation: deactivating a client, changing its permissions or
replacing its token takes effect within `CLIENT_CACHE_SECONDS` (5 s) in every worker. Failed lookups are never
cached. `last_used_at` is written on a lookup, in its own short transaction, at most once per
`LAST_USED_RESOLUTION` per client and worker.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from xinyong.accounts import service
from xinyong.accounts.models import ApiClient, Role, User
from xinyong.core import clock
from xinyong.core.audit import Actor
from xinyong.core.errors import NotAuthenticated, PermissionDenied
from xinyong.core.web import DbSession

ANONYMOUS = Actor("anonymous", "公众")
LAST_USED_RESOLUTION = timedelta(minutes=5)
CLIENT_CACHE_SECONDS = 5.0


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


class ClientCache:
    """Authenticated API clients by token digest, each for `ttl` seconds (see the module doc). Each is a detached
    `ApiClient`, shared by the requests of those seconds: handlers read it, never change it."""

    def __init__(
        self,
        ttl: float = CLIENT_CACHE_SECONDS,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.monotonic = monotonic
        self._entries: dict[str, tuple[float, ApiClient]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> ApiClient | None:
        found = self._entries.get(digest)
        if found is None or found[0] <= self.monotonic():
            return None
        return found[1]

    def put(self, digest: str, client: ApiClient) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:  # only live tokens get here; start over rather than grow
                self._entries.clear()
            self._entries[digest] = (self.monotonic() + self.ttl, client)

    def clear(self) -> None:
        """Forget every client now (e.g. right after revoking one in this process)."""
        with self._lock:
            self._entries.clear()


def client_cache(app: FastAPI) -> ClientCache:
    cache = getattr(app.state, "client_cache", None)
    if cache is None:
        cache = app.state.client_cache = ClientCache()
    return cache


def _lookup(factory: sessionmaker[Session], token: str) -> ApiClient | None:
    """The active client holding `token`, detached and loaded; touches `last_used_at` when it is stale."""
    with factory() as session:
        client = service.authenticate_client(session, token)
        if client is None:
            return None
        now = clock.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            # at most one write per client per few minutes: every call updating the same row would serialise all
            # of a busy client's concurrent requests on that row's lock
            client.last_used_at = now
            session.commit()  # the app's sessions keep attributes loaded on commit
        session.expunge(client)
        return client


async def api_client(request: Request) -> ApiClient:
    """The calling API client. Async: a cached client costs no hop to a worker thread."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("缺少访问令牌：请在 Authorization 头中使用 Bearer 令牌", code="token_required")
    token = token.strip()
    cache = client_cache(request.app)
    digest = hashlib.sha256(token.encode()).hexdigest()
    client = cache.get(digest)
    if client is None:
        client = await run_in_threadpool(_lookup, request.app.state.sessionmaker, token)
        if client is None:
            raise NotAuthenticated("访问令牌无效或已停用", code="token_invalid")
        cache.put(digest, client)
    return client


ClientDep = Annotated[ApiClient, Depends(api_client)]


def require_permission(permission: str) -> Callable[[ApiClient], Awaitable[ApiClient]]:
    async def check(client: ClientDep) -> ApiClient:
        if permission not in client.permissions:
            label = service.PERMISSIONS.get(permission, permission)
            raise PermissionDenied(f"接入系统未获授权：缺少“{label}”（{permission}）权限", code="permission_missing")
        return client

    return check


def session_of(request: Request) -> Session:
    return request.app.state.sessionmaker()
