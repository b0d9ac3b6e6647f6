"""The grade on the subject page (`_grade.html`, `grade_view`) and the credit office's distribution page.

`/office/evaluation` shows the latest run (or `?run_id=`) by grade, district and industry, with the district map;
these are internal figures: every view writes an `evaluation.read` audit event.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_role
from xinyong.accounts.models import Role, User
from xinyong.catalog.service import get_catalog
from xinyong.core import audit
from xinyong.core.errors import NotFound
from xinyong.core.web import DbSession, render
from xinyong.evaluation import rules, service

router = APIRouter(tags=["evaluation"], include_in_schema=False)
OfficeUser = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]
TOP_CONTRIBUTIONS = 5


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def grade_view(session: Session, subject_id: int) -> dict[str, Any] | None:
    """The subject's latest grade with its largest contributions in words ("为什么是这个等级"); None if never graded."""
    found = service.latest_result(session, subject_id)
    if found is None:
        return None
    result, run = found
    try:
        model = rules.models().effective(result.model)
    except NotFound:
        model = None
    band = model.band(result.grade) if model else None
    reasons = []
    for code, c in result.contributions.items():
        ind = model.indicators.get(code) if model else None
        label = ind.label if ind else code
        unit = "年" if ind is not None and ind.source == "registration_age" else "项"
        points = float(c["points"])
        verb = "加" if points > 0 else "扣"
        reasons.append(
            {
                "indicator": code,
                "label": label,
                "dimension": ind.dimension if ind else "",
                "value": c["value"],
                "points": points,
                "records": c.get("records", []),
                "text": f"{label}：{c['value']}{unit}，{verb}{_fmt(abs(points))}分",
            }
        )
    reasons.sort(key=lambda r: -abs(r["points"]))
    return {
        "grade": result.grade,
        "label": band.label if band else "",
        "score": result.score,
        "score_text": _fmt(result.score),
        "base_score": _fmt(model.base_score) if model else "",
        "model": result.model,
        "model_name": model.name if model else result.model,
        "version": run.versions.get(result.model, run.version),
        "as_of": run.as_of,
        "run_id": run.id,
        "reasons": reasons[:TOP_CONTRIBUTIONS],
        "more": max(len(reasons) - TOP_CONTRIBUTIONS, 0),
        "confirmed": bool(model and model.confirmed),
    }


@cache
def _geojson() -> bytes:
    return (resources.files("xinyong.evaluation") / "data" / "nanjing-districts.geojson").read_bytes()


@cache
def _district_names() -> dict[str, str]:
    data = json.loads(_geojson())
    return {str(f["properties"]["adcode"]): f["properties"]["name"] for f in data["features"]}


def office_figures(session: Session, run_id: int) -> dict[str, Any]:
    """Grade counts overall, by district and by industry, and the share of C+D per district (for the map)."""
    run = service.get_run(session, run_id)
    if run is None:
        raise NotFound(f"未找到评价批次 {run_id}", code="run_not_found")
    base, _overlay = rules.models().resolve(run.model)
    grades = [g.grade for g in base.grades]
    worst = set(grades[-2:])
    by_district: dict[str, Counter[str]] = defaultdict(Counter)
    by_industry: dict[str, Counter[str]] = defaultdict(Counter)
    for district, industry, grade, n in service.distribution(session, run_id):
        by_district[district or ""][grade] += n
        by_industry[industry or ""][grade] += n
    names, labels = _district_names(), get_catalog().code_labels("industry_section")

    def series(groups: dict[str, Counter[str]], label: Any) -> dict[str, Any]:
        keys = sorted(groups, key=lambda k: (k == "", k))
        return {
            "categories": [label(k) for k in keys],
            "series": [{"name": g, "data": [groups[k].get(g, 0) for k in keys]} for g in grades],
        }

    share, rows = [], []
    for code in sorted(by_district, key=lambda k: (k == "", k)):
        counts = by_district[code]
        total, bad = sum(counts.values()), sum(counts[g] for g in worst)
        value = round(100 * bad / total, 1) if total else 0.0
        rows.append({"name": names.get(code, code or "未知区域"), "total": total, "worst": bad, "share": value})
        if code in names:
            share.append({"name": names[code], "value": value})
    return {
        "grades": [
            {"grade": g.grade, "label": g.label, "count": run.grade_counts.get(g.grade, 0)} for g in base.grades
        ],
        "by_district": series(by_district, lambda k: names.get(k, k or "未知区域")),
        "by_industry": series(by_industry, lambda k: labels.get(k, k or "未知行业")),
        "map": share,
        "district_rows": rows,
        "worst": "+".join(grades[-2:]),
    }


@router.get("/office/evaluation")
def office_evaluation(request: Request, session: DbSession, user: OfficeUser, run_id: int | None = None) -> Any:
    run = service.get_run(session, run_id) if run_id else service.latest_run(session)
    if run_id and run is None:
        raise NotFound(f"未找到评价批次 {run_id}", code="run_not_found")
    figures = office_figures(session, run.id) if run else None
    audit.record(
        session,
        accounts.actor_for(user),
        "evaluation.read",
        "evaluation_run",
        run.id if run else "-",
        {"view": "office"},
    )
    return render(
        request,
        "evaluation/office.html",
        run=run,
        runs=service.list_runs(session),
        figures=figures,
        model=rules.models().effective(run.model) if run else None,
    )


@router.get("/office/evaluation/districts.geojson")
def district_map(user: OfficeUser) -> Response:
    """Illustrative boundaries (data/README.md): no 审图号, so for internal dashboards only."""
    return Response(_geojson(), media_type="application/geo+json")
