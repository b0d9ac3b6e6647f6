"""JSON API v1, public part: the same views the pages use."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from xinyong import __version__
from xinyong.accounts import service as accounts
from xinyong.archive import service as archive
from xinyong.core.db import get_engine
from xinyong.core.web import DbSession
from xinyong.publicity import fast, views

router = APIRouter(tags=["public"])


@router.get("/health", summary="健康检查")
def health(session: DbSession) -> dict[str, Any]:
    s = archive.stats(session)
    return {"status": "ok", "version": __version__, "subjects": s.subjects}


@router.get(
    "/subjects",
    summary="检索信用主体（名称、统一社会信用代码或拼音首字母）",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def list_subjects(request: Request, q: str = Query(min_length=1, max_length=100)) -> Response:
    # The tiers of archive.search_subjects on one of publicity.fast's kept connections, shaped as views.search_view
    # shapes them (tests/publicity/test_fast_subject.py checks they agree); `async def`: see fast.answer.
    engine = get_engine(request.app.state.settings.database_url)
    return Response(await fast.answer(engine, lambda: fast.search_json(engine, q)), media_type="application/json")


@router.get(
    "/subjects/{key}",
    summary="信用主体公开信息（key 为统一社会信用代码或主体编号）",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def get_subject(key: str, request: Request) -> Response:
    # Anonymous callers only, so always the public view, built by publicity.fast in one round trip with the same
    # masking as views.subject_view (tests/publicity/test_fast_subject.py checks they agree); `async def`: see
    # fast.answer.
    engine = get_engine(request.app.state.settings.database_url)
    body = await fast.answer(engine, lambda: fast.public_subject_json(engine, key))
    return Response(body, media_type="application/json")


@router.get("/records", summary="双公示信息（公示期内的行政许可、行政处罚）")
def list_records(
    session: DbSession,
    info_class: Annotated[str | None, Query(pattern="^[a-z_]+$", description="如 admin_penalty")] = None,
    department: Annotated[str | None, Query(description="单位代码或统一社会信用代码")] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    dept_id = accounts.find_department(session, department).id if department else None
    total, items = views.listing_view(
        session,
        info_class=info_class,
        department_id=dept_id,
        date_from=date_from,
        date_to=date_to,
        offset=(page - 1) * size,
        limit=size,
    )
    return {"total": total, "page": page, "size": size, "items": items}
