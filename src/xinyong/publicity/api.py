"""JSON API v1, public part: the same views the pages use."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from xinyong import __version__
from xinyong.accounts import service as accounts
from xinyong.archive import service as archive
from xinyong.core.web import DbSession
from xinyong.publicity import views

router = APIRouter(tags=["public"])


@router.get("/health", summary="健康检查")
def health(session: DbSession) -> dict[str, Any]:
    s = archive.stats(session)
    return {"status": "ok", "version": __version__, "subjects": s.subjects}


@router.get("/subjects", summary="检索信用主体（名称、统一社会信用代码或拼音首字母）")
def list_subjects(session: DbSession, q: str = Query(min_length=1, max_length=100)) -> dict[str, Any]:
    items = views.search_view(session, q)
    return {"q": q, "count": len(items), "items": items}


@router.get("/subjects/{key}", summary="信用主体公开信息（key 为统一社会信用代码或主体编号）")
def get_subject(key: str, session: DbSession) -> dict[str, Any]:
    subject = archive.subject_by_key(session, key)
    data = views.subject_view(session, subject, views.View.PUBLIC)
    return {
        "id": data.id,
        "kind": data.kind,
        "kind_label": data.kind_label,
        "name": data.name,
        "uscc": data.uscc,
        "district": data.district,
        "records": [
            {
                "id": r.id,
                "info_class": r.info_class,
                "decision_no": r.decision_no,
                "decision_date": r.decision_date.isoformat() if r.decision_date else None,
                "state": r.state,
                "disputed": r.disputed,
                "publicity_end": r.publicity_end.isoformat() if r.publicity_end else None,
                "severity": r.severity,
                "publicity_rule": {"code": r.publicity_rule, "name": r.rule_name, "legal_basis": r.legal_basis}
                if r.publicity_rule
                else None,
                "content": r.payload,
            }
            for r in data.records
        ],
    }


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
