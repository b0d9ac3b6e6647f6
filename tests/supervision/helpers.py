"""Story helpers for inspection results: a small graded city whose draw is known in advance.

Grade A gets ratio 0 (nobody drawn) and grade D ratio 1 (everybody drawn), so tests know who was drawn without
depending on the seed: 南京甲级… firms are never targets, 南京丁级… firms and the person 张晓明 always are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from tests.builders import make_person
from tests.evaluation.helpers import company
from xinyong.accounts import service as accounts
from xinyong.archive.models import Subject
from xinyong.core import audit, clock
from xinyong.evaluation.models import EvaluationResult, EvaluationRun
from xinyong.supervision import service
from xinyong.supervision.models import InspectionPlan

OFFICER = audit.Actor("user:1", "市场监管局 王科长")
INSPECTORS = ["王执法", "李执法", "张执法"]
RATIOS = {"A": 0.0, "B": 0.05, "C": 0.21, "D": 1.0}


@dataclass
class City:
    run: EvaluationRun
    spared: list[Subject]  # grade A: never drawn
    drawn: list[Subject]  # grade D firms: always drawn
    person: Subject  # grade D natural person: always drawn


def graded_city(session: Session) -> City:
    spared = [company(session, f"南京甲级{i}贸易有限公司", district_code="320102") for i in range(3)]
    drawn = [company(session, f"南京丁级{i}餐饮有限公司", district_code="320115") for i in range(3)]
    person = make_person(session, name="张晓明")
    run = EvaluationRun(
        model="general",
        version="t",
        versions={},
        as_of=clock.today(),
        subjects=7,
        grade_counts={"A": 3, "D": 4},
        actor="system",
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    for subject, grade in [*((s, "A") for s in spared), *((s, "D") for s in [*drawn, person])]:
        session.add(
            EvaluationResult(
                run_id=run.id, subject_id=subject.id, model="general", score=0, grade=grade, contributions={}
            )
        )
    session.flush()
    return City(run, spared, drawn, person)


def make_plan(session: Session, **overrides: object) -> InspectionPlan:
    today = clock.today()
    values: dict[str, object] = {
        "name": "2026年餐饮服务食品安全双随机抽查",
        "department_id": accounts.find_department(session, "scjgj").id,
        "period_start": date(today.year, 1, 1),
        "period_end": date(today.year, 12, 31),
        "items": ["食品经营许可情况", "从业人员健康管理"],
        "inspectors": INSPECTORS,
        "ratios": RATIOS,
    } | overrides
    return service.create_plan(session, OFFICER, **values)  # type: ignore[arg-type]


def published_plan(session: Session) -> InspectionPlan:
    plan = make_plan(session)
    service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    return plan
