from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import select

from tests.evaluation.helpers import company
from xinyong.accounts import service as accounts
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.errors import Conflict, DomainError
from xinyong.evaluation.models import EvaluationResult, EvaluationRun
from xinyong.supervision import service
from xinyong.supervision.models import InspectionDraw

OFFICER = audit.Actor("user:1", "信用办经办人")
INSPECTORS = ["王执法", "李执法", "张执法", "赵执法", "陈执法"]
PER_GRADE = 40


@pytest.fixture
def graded(session) -> EvaluationRun:
    """40 subjects of each grade (A–D) in one run, half in 玄武区 and half in 江宁区."""
    subjects = [
        company(session, f"南京抽查{i}有限公司", district_code="320102" if i % 2 else "320115")
        for i in range(4 * PER_GRADE)
    ]
    run = EvaluationRun(
        model="general",
        version="t",
        versions={},
        as_of=clock.today(),
        subjects=len(subjects),
        grade_counts={},
        actor="system",
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    for i, s in enumerate(subjects):
        session.add(
            EvaluationResult(
                run_id=run.id, subject_id=s.id, model="general", score=0, grade="ABCD"[i % 4], contributions={}
            )
        )
    session.flush()
    return run


def _plan(session, **kw):
    values = {
        "name": "2026年第四季度食品安全双随机抽查",
        "department_id": accounts.find_department(session, "scjgj").id,
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 12, 31),
        "items": ["食品经营许可", "进货查验记录"],
        "inspectors": INSPECTORS,
        "ratios": {"A": 0.05, "B": 0.2, "C": 0.5, "D": 0.9},
    } | kw
    return service.create_plan(session, OFFICER, **values)


def test_the_seed_hash_published_before_the_draw_matches_the_revealed_seed(session, graded):
    plan = _plan(session)
    published = plan.seed_hash
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "inspection.plan")).one()
    assert event.details["seed_hash"] == published and plan.seed not in str(event.details)
    service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    revealed = session.scalars(select(AuditEvent).where(AuditEvent.action == "inspection.reveal")).one()
    assert service.seed_hash(revealed.details["seed"]) == published
    assert len(plan.seed) == 64


def test_rerunning_from_the_revealed_seed_gives_the_same_targets(session, graded):
    plan = _plan(session)
    rows = service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    session.commit()
    again = service.draw_targets(plan.seed, plan.eligible, plan.ratios, plan.inspectors)
    assert [(t.subject_id, t.grade, t.rank, t.inspector) for t in again] == [
        (r.subject_id, r.grade, r.rank, r.inspector) for r in rows
    ]
    result = service.verify(session, plan)
    assert result.ok and result.problems == [] and result.targets == len(rows)
    other = service.draw_targets("0" * 64, plan.eligible, plan.ratios, plan.inspectors)
    assert {t.subject_id for t in other} != {r.subject_id for r in rows}  # the seed decides


def test_ratios_by_grade_fall_within_the_configured_bounds(session, graded):
    plan = _plan(session)
    rows = service.draw(session, plan, OFFICER)
    bounds = service.sampling().grades
    for grade in "ABCD":
        n = len(plan.eligible[grade])
        drawn = [r for r in rows if r.grade == grade]
        assert n == PER_GRADE
        assert bounds[grade].min <= len(drawn) / n <= bounds[grade].max
        assert len(drawn) == round(plan.ratios[grade] * n)  # 2, 8, 20, 36
        assert sorted(r.rank for r in drawn) == list(range(len(drawn)))
    loads = [sum(1 for r in rows if r.inspector == i) for i in INSPECTORS]
    assert max(loads) - min(loads) <= 1


def test_a_tampered_draw_row_fails_verification(session, graded):
    plan = _plan(session)
    rows = service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    assert service.verify(session, plan).ok
    spared = next(sid for sid in plan.eligible["D"] if sid not in {r.subject_id for r in rows})
    victim = next(r for r in rows if r.grade == "D")
    session.execute(InspectionDraw.__table__.update().where(InspectionDraw.id == victim.id).values(subject_id=spared))
    session.expire_all()
    result = service.verify(session, plan)
    assert not result.ok and len(result.problems) == 2
    assert str(spared) in result.problems[1]


def test_a_changed_inspector_or_seed_fails_verification(session, graded):
    plan = _plan(session)
    rows = service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    rows[0].inspector = next(i for i in INSPECTORS if i != rows[0].inspector)
    session.flush()
    assert not service.verify(session, plan).ok
    rows[0].inspector = service.draw_targets(plan.seed, plan.eligible, plan.ratios, plan.inspectors)[0].inspector
    plan.seed = "f" * 64
    session.flush()
    assert "哈希不符" in service.verify(session, plan).problems[0]


def test_ratios_outside_the_bounds_are_refused(session, graded):
    with pytest.raises(DomainError, match="A 类抽查比例 10% 超出范围 0%–5%"):
        _plan(session, ratios={"A": 0.1})
    with pytest.raises(DomainError):
        _plan(session, ratios={"C": 0.2})
    plan = _plan(session, ratios=None)
    assert plan.ratios == {"A": 0.03, "B": 0.1, "C": 0.4, "D": 0.8}


def test_the_scope_limits_the_eligible_set(session, graded):
    plan = _plan(session, scope={"districts": ["320115"]})
    rows = service.draw(session, plan, OFFICER)
    assert sum(len(v) for v in plan.eligible.values()) == 2 * PER_GRADE
    districts = {company.district_code for company in _subjects(session, [r.subject_id for r in rows])}
    assert districts == {"320115"}


def _subjects(session, ids):
    from xinyong.archive.models import Subject

    return session.scalars(select(Subject).where(Subject.id.in_(ids))).all()


def test_steps_follow_the_order_plan_draw_reveal(session, graded):
    plan = _plan(session)
    with pytest.raises(Conflict):
        service.reveal(session, plan, OFFICER)
    with pytest.raises(Conflict):
        service.verify(session, plan)
    service.draw(session, plan, OFFICER)
    with pytest.raises(Conflict):
        service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    assert plan.state == "published" and plan.revealed_at is not None


def test_target_count_stays_within_bounds_for_small_groups():
    bounds = service.sampling().grades
    for n in range(0, 60):
        for grade, b in bounds.items():
            for ratio in (b.min, b.default, b.max):
                k = service.target_count(ratio, n, b)
                assert 0 <= k <= n
                if n and math.ceil(b.min * n - 1e-9) <= math.floor(b.max * n + 1e-9):
                    assert b.min <= k / n <= b.max, (grade, ratio, n, k)
