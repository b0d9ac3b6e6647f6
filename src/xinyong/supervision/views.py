"""What the public and the office see of inspection plans (一公开), built once for the pages and the JSON API.

Public: a plan, its scope, items, ratios and seed hash from creation; the seed, the eligible set, the targets with
their grades, inspectors and current results only once the plan is published (before that, the targets are secret).
A natural person's name is masked and no identifier of a person is shown; resident IDs in findings are masked.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive import service as archive
from xinyong.archive.models import SUBJECT_KIND_LABELS, CreditRecord, Subject, SubjectKind
from xinyong.catalog.service import get_catalog
from xinyong.publicity.masking import mask_ids_in_text, mask_name
from xinyong.supervision import results, service
from xinyong.supervision.models import InspectionDraw, InspectionPlan
from xinyong.supervision.service import STATE_LABELS, PlanState

VERIFY_COMMAND = "xinyong inspection verify {plan_id}"


def district_choices() -> dict[str, str]:
    """Nanjing's current districts and 江北新区 (the abolished ones and the province/city codes left out)."""
    return {c: n for c, n in archive.regions().items() if c not in ("320000", "320100") and "撤销" not in n}


def industry_choices() -> dict[str, str]:
    code_list = get_catalog().code_lists.get("industry_section")
    return {v.code: v.label for v in code_list.values} if code_list else {}


def kind_choices() -> dict[str, str]:
    return {k.value: label for k, label in SUBJECT_KIND_LABELS.items()}


def scope_labels(scope: dict[str, Any]) -> dict[str, list[str]]:
    kinds, industries = kind_choices(), get_catalog().code_labels("industry_section")
    return {
        "industries": [industries.get(c, c) for c in scope.get("industries", [])],
        "districts": [archive.region_name(c) for c in scope.get("districts", [])],
        "subject_kinds": [kinds.get(c, c) for c in scope.get("subject_kinds", [])],
    }


def scope_text(scope: dict[str, Any]) -> str:
    labels = scope_labels(scope)
    parts = [
        f"行业：{'、'.join(labels['industries'])}" if labels["industries"] else "",
        f"区域：{'、'.join(labels['districts'])}" if labels["districts"] else "",
        f"主体类型：{'、'.join(labels['subject_kinds'])}" if labels["subject_kinds"] else "",
    ]
    return "；".join(p for p in parts if p) or "全市各类已评价主体"


def _counts(session: Session, plan_ids: list[int]) -> tuple[Counter[int], Counter[str]]:
    """Targets per plan and current results per plan number, in two grouped queries."""
    if not plan_ids:
        return Counter(), Counter()
    targets = Counter(
        dict(
            session.execute(
                select(InspectionDraw.plan_id, func.count())
                .where(InspectionDraw.plan_id.in_(plan_ids))
                .group_by(InspectionDraw.plan_id)
            ).all()
        )
    )
    plan_no = CreditRecord.payload["plan_no"].as_string()
    done = Counter(
        dict(
            session.execute(
                select(plan_no, func.count())
                .where(CreditRecord.info_class == results.INFO_CLASS, CreditRecord.is_current.is_(True))
                .where(plan_no.in_([str(i) for i in plan_ids]))
                .group_by(plan_no)
            ).all()
        )
    )
    return targets, done


def _departments(session: Session, ids: set[int | None]) -> dict[int, Department]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(wanted)))}


def plan_summary(plan: InspectionPlan, department: Department | None, targets: int, done: int) -> dict[str, Any]:
    """One plan as the public sees it; the seed only once published."""
    published = plan.state == PlanState.PUBLISHED.value
    bounds = service.sampling().grades
    return {
        "id": plan.id,
        "name": plan.name,
        "department": department.name if department else None,
        "scope": plan.scope or {},
        "scope_labels": scope_labels(plan.scope or {}),
        "scope_text": scope_text(plan.scope or {}),
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "items": list(plan.items),
        "ratios": [
            {"grade": g, "label": b.label, "ratio": plan.ratios.get(g, 0.0), "min": b.min, "max": b.max}
            for g, b in bounds.items()
        ],
        "evaluation_run_id": plan.evaluation_run_id,
        "seed_hash": plan.seed_hash,
        "seed": plan.seed if published else None,
        "state": plan.state,
        "state_label": STATE_LABELS.get(PlanState(plan.state), plan.state),
        "created_at": plan.created_at.isoformat(timespec="seconds"),
        "drawn_at": plan.drawn_at.isoformat(timespec="seconds") if plan.drawn_at else None,
        "revealed_at": plan.revealed_at.isoformat(timespec="seconds") if plan.revealed_at else None,
        "targets": targets if published else None,
        "results": done if published else None,
        "verify_command": VERIFY_COMMAND.format(plan_id=plan.id),
    }


def public_plans(session: Session, department_id: int | None = None) -> list[dict[str, Any]]:
    plans = service.list_plans(session, department_id)
    targets, done = _counts(session, [p.id for p in plans])
    depts = _departments(session, {p.department_id for p in plans})
    return [plan_summary(p, depts.get(p.department_id or 0), targets[p.id], done[str(p.id)]) for p in plans]


def _result_view(record: CreditRecord | None, public: bool) -> dict[str, Any] | None:
    if record is None:
        return None
    p = record.payload
    findings = str(p.get("findings", ""))
    return {
        "code": p.get("result_code"),
        "label": p.get("result"),
        "date": record.decision_date.isoformat() if record.decision_date else None,
        "inspector": p.get("inspector"),
        "findings": mask_ids_in_text(findings) if public else findings,
        "version": record.version,
        "record_id": record.id,
    }


def targets(session: Session, plan: InspectionPlan, *, public: bool) -> list[dict[str, Any]]:
    """The drawn targets in draw order (grade, then rank) with their current results. `public` masks persons."""
    draws = service.draws_of(session, plan.id)
    ids = [d.subject_id for d in draws]
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(ids)))} if ids else {}
    found = results.results_of(session, plan)
    bounds = service.sampling().grades
    order = {g: i for i, g in enumerate(bounds)}
    out = []
    for d in sorted(draws, key=lambda d: (order.get(d.grade, len(order)), d.rank)):
        s = subjects[d.subject_id]
        person = s.kind == SubjectKind.NATURAL_PERSON
        hide = public and person
        out.append(
            {
                "subject_id": None if hide else s.id,
                "name": mask_name(s.name) if hide else s.name,
                "kind": s.kind,
                "kind_label": SUBJECT_KIND_LABELS.get(SubjectKind(s.kind), s.kind),
                "uscc": None if person else s.uscc,
                "district": archive.region_name(s.district_code),
                "grade": d.grade,
                "grade_label": bounds[d.grade].label if d.grade in bounds else "",
                "rank": d.rank + 1,
                "inspector": d.inspector,
                "result": _result_view(found.get(s.id), public),
            }
        )
    return out


def public_plan(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """The plan page (一公开): the summary, and after the reveal the draw's inputs and the targets with results."""
    published = plan.state == PlanState.PUBLISHED.value
    department = session.get(Department, plan.department_id) if plan.department_id else None
    rows = targets(session, plan, public=True) if published else []
    view = plan_summary(plan, department, len(rows), sum(1 for r in rows if r["result"]))
    eligible: dict[str, Any] = plan.eligible or {}
    view |= {
        "inspectors": list(plan.inspectors) if published else None,
        "eligible_counts": {g: len(eligible.get(g, [])) for g in service.sampling().grades} if published else None,
        "eligible": {g: [int(i) for i in ids] for g, ids in eligible.items()} if published else None,
        "target_list": rows if published else None,
    }
    return view
