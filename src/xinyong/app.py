"""create_app(): the one place the web application is assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from xinyong import __version__
from xinyong.api import mount_routers
from xinyong.config import Settings, get_settings
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.core.errors import DomainError, NotAuthenticated, TooManyRequests
from xinyong.core.ratelimit import SlidingWindow
from xinyong.core.web import package_dir, render

HTTP_MESSAGES = {404: "页面不存在", 405: "不支持该请求方法", 500: "系统内部错误，请稍后再试"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The embedded scheduler runs the jobs off the request path (xinyong.scheduler); 0 turns it off (tests)."""
        from xinyong.scheduler import build_scheduler

        scheduler = None
        if settings.audit_seal_interval > 0:
            scheduler = build_scheduler(app.state.sessionmaker, settings.audit_seal_interval)
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    app = FastAPI(
        lifespan=lifespan,
        title="xinyong 公共信用信息平台 API",
        version=__version__,
        description="公共信用信息归集、查询、核查与服务接口。",
    )
    app.state.settings = settings
    app.state.report_limit = SlidingWindow(settings.public_reports_per_hour, 3600)
    app.state.sessionmaker = make_sessionmaker(get_engine(settings.database_url))
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="xinyong_session",
        same_site="lax",
        https_only=settings.environment == "production",
        max_age=8 * 3600,
    )
    app.mount("/static", StaticFiles(directory=str(package_dir() / "static")), name="static")
    mount_routers(app)
    _install_error_handlers(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            body = {"error": exc.code, "message": exc.message}
            if exc.details is not None:
                body["details"] = exc.details
            response: Response = JSONResponse(body, status_code=exc.status_code)
        elif isinstance(exc, NotAuthenticated):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        else:
            response = render(request, "error.html", status_code=exc.status_code, message=exc.message)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        message = "请求参数有误：" + "；".join(f"{p['field'] or '请求体'}" for p in problems)
        if _wants_json(request):
            return JSONResponse({"error": "invalid_request", "message": message, "details": problems}, 422)
        return render(request, "error.html", status_code=422, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        if _wants_json(request):
            return JSONResponse({"error": f"http_{exc.status_code}", "message": message}, exc.status_code)
        return render(request, "error.html", status_code=exc.status_code, message=message)
