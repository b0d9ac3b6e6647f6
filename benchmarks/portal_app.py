"""The portal as served, plus three reference endpoints in the same process: the benchmark's baselines.

/bench/bare is the floor of a `def` endpoint (FastAPI with no work, run in the thread pool as every `def` endpoint
is), /bench/bare-async the floor of an `async def` one (no thread hand-off); /bench/generic/subjects/{key} is the
same public document built the generic way (a unit of work and the ORM views, as GET /api/v1/subjects/{key} was
before publicity/fast.py), so one run shows what the one-round-trip path gains.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from xinyong.app import create_app
from xinyong.archive import service as archive
from xinyong.core.web import DbSession
from xinyong.publicity import fast, views


def create() -> FastAPI:
    app = create_app()
    served = len(app.router.routes)

    @app.get("/bench/bare", include_in_schema=False)
    def bare() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bench/bare-async", include_in_schema=False)
    async def bare_async() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bench/generic/subjects/{key}", include_in_schema=False)
    def generic(key: str, session: DbSession) -> dict[str, Any]:
        subject = archive.subject_by_key(session, key)
        return fast.subject_document(views.subject_view(session, subject, views.View.PUBLIC))

    # Starlette tries routes in order: the reference endpoints go first, so they pay no more routing than the API
    # they are compared with (which xinyong/api.py mounts first, ahead of the pages)
    app.router.routes[:] = app.router.routes[served:] + app.router.routes[:served]
    return app
