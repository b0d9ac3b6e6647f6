from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import event, select

from tests.evaluation.helpers import add_record, company, months_before
from tests.lists.helpers import OFFICER, list_through_procedure
from xinyong.core import clock
from xinyong.core.audit import AuditEvent
from xinyong.evaluation import rules, service
from xinyong.evaluation.models import EvaluationResult, EvaluationRun
from xinyong.lists import service as lists


def _result(session, run: EvaluationRun, subject) -> EvaluationResult:
    return service.results_of(session, run.id, [subject.id])[subject.id]


# --- model files --------------------------------------------------------------------------------------------


def test_packaged_models_load_and_every_number_is_marked_unconfirmed():
    models = rules.models()
    general = models.general["general"]
    assert [g.grade for g in general.grades] == ["A", "B", "C", "D"]
    assert [g.label for g in general.grades] == ["信用风险低", "信用风险一般", "信用风险较高", "信用风险高"]
    assert not general.confirmed and all(not i.confirmed for i in general.indicators.values())
    assert "accommodation_catering" in models.industry
    assert set(models.by_industry("general")) == {"H", "accommodation_catering"}


def test_model_files_refuse_unknown_keys_and_inconsistent_caps():
    doc = {
        "label": "x",
        "dimension": "y",
        "source": "records",
        "info_class": "admin_penalty",
        "per_unit": -10,
        "cap": -50,
        "confirmed": False,
    }
    rules.Indicator.model_validate(doc)
    with pytest.raises(ValidationError):
        rules.Indicator.model_validate(doc | {"weight": 3})
    with pytest.raises(ValidationError):
        rules.Indicator.model_validate(doc | {"cap": 50})
    with pytest.raises(ValidationError):
        rules.Indicator.model_validate(doc | {"source": "lists"})


def test_points_are_capped_with_the_sign_of_the_weight():
    ind = rules.models().general["general"].indicators["penalty_minor_recent"]
    assert [ind.points(n) for n in (0, 1, 5, 6, 100)] == [0, -10, -50, -50, -50]
    bonus = rules.models().general["general"].indicators["licences_valid"]
    assert [bonus.points(n) for n in (1, 6, 7)] == [5, 30, 30]


def test_grade_bands_and_grade_cap():
    general = rules.models().general["general"]
    assert [general.grade_for(s).grade for s in (1030, 1000, 999.5, 900, 899, 700, 699, -5)] == list("AABBCCDD")
    assert general.grade_for(1100, cap_index=general.grade_index("D")).grade == "D"


# --- scoring ------------------------------------------------------------------------------------------------


def test_grades_of_built_subjects_are_exactly_as_computed_by_hand(session):
    today = clock.today()
    clean = company(session, "南京清白科技有限公司", registered_on=months_before(today, 73))  # 6 full years
    heavy = company(session, "南京屡罚建材有限公司", registered_on=None)
    for months in (2, 30):
        add_record(session, heavy, months_before(today, months), severity="serious")
    add_record(session, heavy, months_before(today, 20), severity="general")
    mixed = company(session, "南京混合贸易有限公司", registered_on=months_before(today, 12 * 26))
    add_record(session, mixed, months_before(today, 1), severity="serious")
    for _ in range(8):
        add_record(session, mixed, months_before(today, 40), info_class="admin_license")
    old = company(session, "南京旧账物流有限公司", registered_on=None)
    add_record(session, old, months_before(today, 37), severity="serious")  # outside 36 months
    add_record(session, old, months_before(today, 13), severity="minor")  # outside 12 months
    add_record(session, old, months_before(today, 1), severity="serious", state="withdrawn")
    add_record(session, old, months_before(today, 1), severity="serious", is_current=False)
    add_record(session, old, today + timedelta(days=1), severity="serious")  # decided after as_of
    minor = company(session, "南京小错餐具有限公司", registered_on=None, industry="C")
    for _ in range(6):
        add_record(session, minor, months_before(today, 3), severity="minor")
    person = company(session, "张三", kind="natural_person", uscc=None)
    add_record(session, person, months_before(today, 1), severity="serious")

    run = service.evaluate(session, as_of=today)
    results = service.results_of(session, run.id)

    expected = {
        clean.id: (1030, "A"),  # 1000 + 6 years × 5
        heavy.id: (650, "D"),  # 1000 − 2 × 150 − 50
        mixed.id: (930, "B"),  # 1000 − 150 + 30 (8 licences, capped) + 50 (26 years, capped)
        old.id: (1000, "A"),  # nothing counts
        minor.id: (950, "B"),  # 1000 − 50 (6 minor, capped at 5)
    }
    assert {sid: (r.score, r.grade) for sid, r in results.items()} == expected
    assert person.id not in results  # natural persons are not graded
    assert run.subjects == 5 and run.grade_counts == {"A": 2, "B": 2, "C": 0, "D": 1}
    assert results[heavy.id].contributions["penalty_serious_recent"]["value"] == 2
    assert results[heavy.id].contributions["penalty_serious_recent"]["points"] == -300
    assert len(results[heavy.id].contributions["penalty_serious_recent"]["records"]) == 2
    assert results[old.id].contributions == {}


def test_a_subject_on_a_dishonesty_list_is_graded_d_whatever_its_score(session):
    today = clock.today()
    listed = company(session, "南京失信建设有限公司", registered_on=months_before(today, 12 * 30))
    list_through_procedure(session, listed, publicity_from=today)
    lists.enter_incentive(session, OFFICER, list_type="tax_a_level", subject=listed, reason="A级纳税人")
    run = service.evaluate(session, as_of=today)
    result = _result(session, run, listed)
    assert result.score == 700  # 1000 − 400 + 50 + 50: band C by score
    assert result.grade == "D"
    assert set(result.contributions) == {"dishonesty_list", "incentive_list", "registration_age"}


def test_changing_one_penalty_severity_moves_the_score_by_exactly_that_indicators_contribution(session):
    today = clock.today()
    subject = company(session, "南京变更测试有限公司", registered_on=months_before(today, 40))
    record = add_record(session, subject, months_before(today, 5), severity="general")
    add_record(session, subject, months_before(today, 6), severity="general")
    before = _result(session, service.evaluate(session, as_of=today), subject)

    record.severity = "serious"
    session.flush()
    after = _result(session, service.evaluate(session, as_of=today), subject)

    def points(result, code):
        return result.contributions.get(code, {}).get("points", 0)

    moved = sum(points(after, c) - points(before, c) for c in ("penalty_general_recent", "penalty_serious_recent"))
    assert after.score - before.score == moved == -150 + 50
    untouched = set(before.contributions) - {"penalty_general_recent", "penalty_serious_recent"}
    assert all(before.contributions[c] == after.contributions[c] for c in untouched)
    assert after.contributions["penalty_serious_recent"]["records"] == [record.id]


def _statements_during_evaluate(session) -> int:
    count = 0

    def listener(*_args, **_kw):
        nonlocal count
        count += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        service.evaluate(session, as_of=clock.today())
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return count


def _populate(session, n: int, offset: int) -> None:
    today = clock.today()
    for i in range(n):
        s = company(session, f"南京批量{offset + i}有限公司", registered_on=months_before(today, 30 + i))
        add_record(session, s, months_before(today, 1 + i % 30), severity=("minor", "general", "serious")[i % 3])
        add_record(session, s, months_before(today, 50), info_class="admin_license")
    session.flush()


def test_the_run_uses_the_same_number_of_statements_for_10_and_200_subjects(session):
    _populate(session, 10, 0)
    list_through_procedure(session, company(session, "南京失信甲有限公司"), publicity_from=clock.today())
    small = _statements_during_evaluate(session)
    _populate(session, 190, 10)
    large = _statements_during_evaluate(session)
    assert session.scalar(select(EvaluationRun.subjects).order_by(EvaluationRun.id.desc()).limit(1)) == 201
    assert small == large
    assert small <= 12


def test_industry_model_applies_only_to_its_industry(session):
    today = clock.today()
    factory = company(session, "南京两罚制造有限公司", industry="C")
    restaurant = company(session, "南京两罚餐饮有限公司", industry="H")
    hotel = company(session, "南京两罚酒店有限公司", industry="accommodation_catering")
    for s in (factory, restaurant, hotel):
        for months in (3, 4):
            add_record(session, s, months_before(today, months), severity="general")
    run = service.evaluate(session, as_of=today)
    results = service.results_of(session, run.id)
    assert (results[factory.id].score, results[factory.id].grade, results[factory.id].model) == (900, "B", "general")
    for s in (restaurant, hotel):
        # 1000 − 2 × 80 = 840 < 920 (the overlay's B cut-off)
        assert (results[s.id].score, results[s.id].grade, results[s.id].model) == (840, "C", "accommodation_catering")
    assert run.versions == {"general": "2026-11-28", "accommodation_catering": "2026-11-28"}

    only = service.evaluate(session, model="accommodation_catering", as_of=today)
    assert set(service.results_of(session, only.id)) == {restaurant.id, hotel.id}


def test_runs_are_history_both_kept_and_latest_result_is_the_newest(session):
    today = clock.today()
    subject = company(session, "南京历史测试有限公司")
    first = service.evaluate(session, as_of=today)
    add_record(session, subject, months_before(today, 1), severity="serious")
    second = service.evaluate(session, as_of=today)
    scores = session.execute(
        select(EvaluationResult.run_id, EvaluationResult.score).where(EvaluationResult.subject_id == subject.id)
    ).all()
    assert sorted(scores) == [(first.id, 1000), (second.id, 850)]
    result, run = service.latest_result(session, subject.id)
    assert run.id == second.id and result.grade == "C"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.run")).all()
    assert [e.target_id for e in events] == [str(first.id), str(second.id)]
    assert events[0].details["grade_counts"] == {"A": 1, "B": 0, "C": 0, "D": 0}


def test_an_unknown_model_is_refused(session):
    from xinyong.core.errors import NotFound

    with pytest.raises(NotFound):
        service.evaluate(session, model="nope")
