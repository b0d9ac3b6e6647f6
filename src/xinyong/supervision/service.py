"""Random inspection plans (双随机、一公开): a committed seed, a reproducible draw, the seed revealed afterwards.

Procedure, one function per step (each writes an audit event in the caller's transaction; services flush):

    create_plan  → planned    seed = secrets.token_hex(32); only seed_hash = sha256(seed) is published
    draw         → drawn      eligible set recorded; targets and inspectors drawn from the seed
    reveal       → published  the seed is published; anyone can re-run `draw_targets` and compare (`verify`)
    record_result (published) one target's result, stored as a credit record (`results.py`)

The draw (`draw_targets`), exactly, so that anyone can reproduce it from the published seed and eligible set:

1. For each grade in the model's band order (A, B, C, D), take the eligible subject ids of that grade in
   ascending order, n of them, and the plan's ratio r for the grade.
2. k = floor(r × n + 0.5), then raised to ceil(min × n) and lowered to floor(max × n) when that range is not
   empty (min, max: the grade's bounds in data/sampling.yaml), so the drawn share stays within the bounds.
3. rng = random.Random(int(sha256((seed + grade).encode("utf-8")).hexdigest(), 16)) (CPython's Mersenne
   Twister); rng.shuffle(ids); the first k ids are the targets, `rank` = position 0..k-1.
4. Inspectors: pool = sorted(inspectors); random.Random(int(sha256((seed + "inspectors").encode("utf-8"))
   .hexdigest(), 16)).shuffle(pool); the j-th target overall (grades in band order, then rank) gets pool[j mod
   len(pool)], so inspectors' loads differ by at most one.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.bulk import insert_rows
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.evaluation import service as evaluation
from xinyong.supervision.models import InspectionDraw, InspectionPlan


class PlanState(StrEnum):
    PLANNED = "planned"
    DRAWN = "drawn"
    PUBLISHED = "published"


STATE_LABELS = {PlanState.PLANNED: "已制定，待抽取", PlanState.DRAWN: "已抽取，待公开", PlanState.PUBLISHED: "已公开"}


class GradeBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)
    default: float = Field(ge=0, le=1)
    frequency: str
    default_confirmed: bool

    @model_validator(mode="after")
    def _ordered(self) -> GradeBounds:
        if not self.min <= self.default <= self.max:
            raise ValueError("need min ≤ default ≤ max")
        return self


class Sampling(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    source: str
    source_url: str
    bounds_confirmed: bool
    bounds_scope: str
    grades: dict[str, GradeBounds]


@cache
def sampling() -> Sampling:
    text = (resources.files("xinyong.supervision") / "data" / "sampling.yaml").read_text(encoding="utf-8")
    return Sampling.model_validate(yaml.safe_load(text))


def seed_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _rng(seed: str, salt: str) -> random.Random:
    return random.Random(int(hashlib.sha256((seed + salt).encode("utf-8")).hexdigest(), 16))


def target_count(ratio: float, n: int, bounds: GradeBounds) -> int:
    k = math.floor(ratio * n + 0.5)
    low, high = math.ceil(bounds.min * n - 1e-9), math.floor(bounds.max * n + 1e-9)
    if low <= high:
        k = min(max(k, low), high)
    return min(max(k, 0), n)


@dataclass(frozen=True)
class Target:
    subject_id: int
    grade: str
    rank: int
    inspector: str


def draw_targets(
    seed: str, eligible: dict[str, list[int]], ratios: dict[str, float], inspectors: list[str]
) -> list[Target]:
    """The draw as a pure function of the seed, the eligible set and the plan (algorithm in the module docstring)."""
    bounds = sampling().grades
    chosen: list[tuple[int, str, int]] = []
    for grade in bounds:
        ids = sorted(eligible.get(grade, []))
        k = target_count(ratios.get(grade, 0.0), len(ids), bounds[grade])
        _rng(seed, grade).shuffle(ids)
        chosen.extend((sid, grade, rank) for rank, sid in enumerate(ids[:k]))
    pool = sorted(inspectors)
    _rng(seed, "inspectors").shuffle(pool)
    return [Target(sid, grade, rank, pool[j % len(pool)]) for j, (sid, grade, rank) in enumerate(chosen)]


def get_or_raise(session: Session, plan_id: int) -> InspectionPlan:
    plan = session.get(InspectionPlan, plan_id)
    if plan is None:
        raise NotFound(f"未找到抽查计划 {plan_id}", code="plan_not_found")
    return plan


def _check_ratios(ratios: dict[str, float] | None) -> dict[str, float]:
    bounds = sampling().grades
    unknown = set(ratios or {}) - set(bounds)
    if unknown:
        raise DomainError(f"未知等级：{'、'.join(sorted(unknown))}", code="unknown_grade")
    chosen = {g: float((ratios or {}).get(g, b.default)) for g, b in bounds.items()}
    for g, r in chosen.items():
        b = bounds[g]
        if not b.min <= r <= b.max:
            raise DomainError(
                f"{g} 类抽查比例 {r:.0%} 超出范围 {b.min:.0%}–{b.max:.0%}（{sampling().source}）",
                code="ratio_out_of_bounds",
            )
    return chosen


def create_plan(
    session: Session,
    actor: Actor,
    *,
    name: str,
    department_id: int,
    period_start: date,
    period_end: date,
    items: list[str],
    inspectors: list[str],
    scope: dict[str, list[str]] | None = None,
    ratios: dict[str, float] | None = None,
    evaluation_run_id: int | None = None,
) -> InspectionPlan:
    """A plan of one inspecting unit on one evaluation run's grades (the latest by default); publishes
    sha256(seed), keeps the seed."""
    if not name.strip():
        raise DomainError("请填写抽查计划名称", code="name_required")
    department = session.get(Department, department_id)
    if department is None or not department.active:
        raise NotFound(f"未找到检查实施单位 {department_id}", code="department_not_found")
    items = [i.strip() for i in items if i.strip()]
    if not items:
        raise DomainError("请填写抽查事项", code="items_required")
    if period_end < period_start:
        raise DomainError("抽查期间的结束日期早于开始日期", code="bad_period")
    pool = sorted({i.strip() for i in inspectors if i.strip()})
    if not pool:
        raise DomainError("请提供执法检查人员名录", code="inspectors_required")
    scope = {k: sorted(set(v)) for k, v in (scope or {}).items() if v}
    if set(scope) - {"industries", "districts", "subject_kinds"}:
        raise DomainError("抽查范围只能按行业、区域、主体类型限定", code="bad_scope")
    run = evaluation.get_run(session, evaluation_run_id) if evaluation_run_id else evaluation.latest_run(session)
    if run is None:
        raise DomainError("尚无信用评价结果，无法按等级抽查", code="no_evaluation")
    seed = secrets.token_hex(32)
    plan = InspectionPlan(
        name=name.strip(),
        department_id=department.id,
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        items=items,
        ratios=_check_ratios(ratios),
        inspectors=pool,
        evaluation_run_id=run.id,
        seed_hash=seed_hash(seed),
        seed=seed,
        state=PlanState.PLANNED.value,
        created_at=clock.now(),
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor,
        "inspection.plan",
        "inspection_plan",
        plan.id,
        {
            "name": plan.name,
            "department_id": department.id,
            "seed_hash": plan.seed_hash,
            "ratios": plan.ratios,
            "evaluation_run_id": run.id,
        },
    )
    return plan


def _require(plan: InspectionPlan, state: PlanState, doing: str) -> None:
    if plan.state != state.value:
        label = STATE_LABELS.get(PlanState(plan.state), plan.state)
        raise Conflict(f"抽查计划当前状态为“{label}”，不能{doing}", code="bad_plan_state")


def draw(session: Session, plan: InspectionPlan, actor: Actor) -> list[InspectionDraw]:
    """Record the eligible set and the targets drawn from the seed."""
    _require(plan, PlanState.PLANNED, "抽取")
    scope = plan.scope or {}
    eligible = evaluation.graded_subjects(
        session,
        plan.evaluation_run_id,
        industries=scope.get("industries"),
        districts=scope.get("districts"),
        kinds=scope.get("subject_kinds"),
    )
    targets = draw_targets(plan.seed, eligible, plan.ratios, plan.inspectors)
    insert_rows(
        session,
        InspectionDraw,
        [
            {"plan_id": plan.id, "subject_id": t.subject_id, "grade": t.grade, "rank": t.rank, "inspector": t.inspector}
            for t in targets
        ],
    )
    plan.eligible = eligible
    plan.state = PlanState.DRAWN.value
    plan.drawn_at = clock.now()
    counts = {g: sum(1 for t in targets if t.grade == g) for g in sampling().grades}
    audit.record(
        session,
        actor,
        "inspection.draw",
        "inspection_plan",
        plan.id,
        {"eligible": {g: len(v) for g, v in eligible.items()}, "targets": counts},
    )
    session.flush()
    return draws_of(session, plan.id)


def reveal(session: Session, plan: InspectionPlan, actor: Actor) -> InspectionPlan:
    """Publish the seed (一公开): from now on anyone can re-run the draw."""
    _require(plan, PlanState.DRAWN, "公开种子")
    plan.state = PlanState.PUBLISHED.value
    plan.revealed_at = clock.now()
    audit.record(
        session,
        actor,
        "inspection.reveal",
        "inspection_plan",
        plan.id,
        {"seed": plan.seed, "seed_hash": plan.seed_hash},
    )
    session.flush()
    return plan


def list_plans(session: Session, department_id: int | None = None) -> list[InspectionPlan]:
    """Newest first; `department_id` limits to one inspecting unit's plans (a department user's view)."""
    stmt = select(InspectionPlan).order_by(InspectionPlan.id.desc())
    if department_id is not None:
        stmt = stmt.where(InspectionPlan.department_id == department_id)
    return list(session.scalars(stmt))


def draws_of(session: Session, plan_id: int) -> list[InspectionDraw]:
    return list(
        session.scalars(select(InspectionDraw).where(InspectionDraw.plan_id == plan_id).order_by(InspectionDraw.id))
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    problems: list[str]
    targets: int


def verify(session: Session, plan: InspectionPlan) -> VerifyResult:
    """Recompute the draw from the revealed seed and the recorded eligible set; compare with the stored rows."""
    _require(plan, PlanState.PUBLISHED, "核验（种子尚未公开）")
    problems: list[str] = []
    if seed_hash(plan.seed) != plan.seed_hash:
        problems.append("公开的种子与事先公布的哈希不符")
    expected = {(t.subject_id, t.grade, t.rank, t.inspector) for t in _recompute(plan)}
    stored = {(d.subject_id, d.grade, d.rank, d.inspector) for d in draws_of(session, plan.id)}
    for sid, grade, rank, inspector in sorted(expected - stored):
        problems.append(f"应抽中主体 {sid}（{grade} 类第 {rank + 1} 位，检查人员 {inspector}），记录不符或缺失")
    for sid, grade, rank, inspector in sorted(stored - expected):
        problems.append(f"记录中的主体 {sid}（{grade} 类第 {rank + 1} 位，检查人员 {inspector}）不是按种子抽出的")
    return VerifyResult(not problems, problems, len(stored))


def _recompute(plan: InspectionPlan) -> list[Target]:
    eligible: dict[str, Any] = plan.eligible or {}
    return draw_targets(
        plan.seed, {g: [int(i) for i in ids] for g, ids in eligible.items()}, plan.ratios, plan.inspectors
    )
