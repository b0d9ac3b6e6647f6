"""Publicity windows from dated rules (527号, NDRC Orders 58 and 36, SAMR Order 45) and severity derivation."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from xinyong.publicity.rules import (
    SEVERITIES,
    PublicityRules,
    SeverityTable,
    add_months,
    derive_severity,
    judge,
    publicity_rules,
    severity_table,
)


def _yaml(package: str, *parts: str) -> Any:
    path = resources.files(package)
    for part in parts:
        path = path.joinpath(part)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def penalty(decided: date, *categories: str, fine: str | None = None, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "decision_date": decided,
        "penalty_category": list(categories) or ["fine"],
        "fine_amount": Decimal(fine) if fine is not None else None,
        "penalty_valid_until": date(2099, 12, 31),
    }
    values.update(extra)
    return values


def window(j) -> tuple[date | None, date | None, date | None]:
    return j.start, j.min_end, j.end


# ------------------------------------------------------------------------------------------- NDRC dated rules


def test_same_general_penalty_judged_under_order_58_before_and_order_36_after_april_2026():
    before = judge("admin_penalty", penalty(date(2026, 3, 20), fine="5"), "fgw")
    after = judge("admin_penalty", penalty(date(2026, 4, 2), fine="5"), "fgw")
    assert (before.rule, before.severity, before.severity_source) == ("ndrc_order_58", "general", "derived")
    assert window(before) == (date(2026, 3, 20), date(2026, 6, 20), date(2027, 3, 20))
    assert before.rule_name == "失信行为纠正后的信用信息修复管理办法（试行）"
    assert "国家发展和改革委员会令第58号" in before.legal_basis
    assert (after.rule, after.severity) == ("ndrc_order_36", "general")
    assert window(after) == (date(2026, 4, 2), date(2026, 7, 2), date(2027, 4, 2))
    assert "《信用修复管理办法》" in after.legal_basis and "2025年第36号" in after.legal_basis
    assert not before.never_early and not after.never_early


def test_minor_penalty_on_the_last_day_of_order_58_and_the_first_day_of_order_36():
    last = judge("admin_penalty", penalty(date(2026, 3, 31), "warning"), "sthjj")
    first = judge("admin_penalty", penalty(date(2026, 4, 1), "warning"), "sthjj")
    assert (last.rule, last.severity) == ("ndrc_order_58", "minor")
    # Order 58 knows no 轻微 class: judged as general (3 months – 1 year)
    assert window(last) == (date(2026, 3, 31), date(2026, 6, 30), date(2027, 3, 31))
    assert (first.rule, first.severity) == ("ndrc_order_36", "minor")
    # Order 36: minor publicity at most 3 months, repair possible at once
    assert window(first) == (date(2026, 4, 1), date(2026, 4, 1), date(2026, 7, 1))


def test_serious_penalty_across_the_527_to_order_58_boundary():
    old = judge("admin_penalty", penalty(date(2023, 4, 30), severity="serious"), "fgw")
    new = judge("admin_penalty", penalty(date(2023, 5, 1), severity="serious"), "fgw")
    assert (old.rule, old.min_end, old.end) == ("ndrc_2019_527", date(2023, 10, 30), date(2026, 4, 30))
    assert (new.rule, new.min_end, new.end) == ("ndrc_order_58", date(2024, 5, 1), date(2026, 5, 1))


def test_serious_penalty_of_august_2019_under_527_minimum_six_months_maximum_three_years():
    j = judge("admin_penalty", penalty(date(2019, 8, 15), "revoke_license"), "gaj")
    assert (j.rule, j.severity, j.severity_source) == ("ndrc_2019_527", "serious", "derived")
    assert window(j) == (date(2019, 8, 15), date(2020, 2, 15), date(2022, 8, 15))
    assert "发改办财金〔2019〕527号" in j.legal_basis
    assert not j.never_early  # never_early is SAMR Order 45's, not 527号's


def test_decision_before_2019_rule_falls_under_527():
    assert judge("admin_penalty", penalty(date(2018, 6, 1)), "fgw").rule == "ndrc_2019_527"


# ------------------------------------------------------------------------------------------- SAMR Order 45


@pytest.mark.parametrize(
    ("categories", "fine"),
    [
        (["public_criticism"], None),
        (["warning", "public_criticism"], None),
        (["fine"], "0.5"),
        (["fine"], "1"),  # 1 万元 is still a low fine (inclusive)
        (["warning", "fine"], "0.2"),
    ],
)
def test_market_supervision_criticism_or_low_fine_is_public_three_months(categories, fine):
    j = judge("admin_penalty", penalty(date(2026, 5, 10), *categories, fine=fine), "scjgj")
    assert j.rule == "samr_order_45"
    assert j.end == date(2026, 8, 10)
    assert j.min_end == j.end
    assert "国家市场监督管理总局令第45号" in j.legal_basis


@pytest.mark.parametrize(
    ("categories", "fine"),
    [
        (["fine"], "1.000001"),
        (["fine"], None),  # a fine of unknown amount is not shown to be low
        (["confiscate_illegal_gains"], None),
        (["public_criticism", "confiscate_illegal_property"], None),
    ],
)
def test_other_market_supervision_penalties_are_public_three_years(categories, fine):
    j = judge("admin_penalty", penalty(date(2026, 5, 10), *categories, fine=fine), "xw_scjgj")
    assert (j.rule, j.never_early) == ("samr_order_45", False)
    assert (j.min_end, j.end) == (date(2027, 5, 10), date(2029, 5, 10))


@pytest.mark.parametrize(
    "category",
    [
        "revoke_license",
        "order_suspend_business",
        "restrict_business",
        "restrict_practice",
        "lower_qualification",
        "suspend_or_revoke_license",
    ],
)
def test_market_supervision_penalties_that_never_end_early(category):
    j = judge("admin_penalty", penalty(date(2026, 5, 10), "fine", category, fine="3"), "jn_scjgj")
    assert (j.rule, j.never_early) == ("samr_order_45", True)
    assert j.min_end == j.end == date(2029, 5, 10)


def test_closure_and_licence_suspension_may_end_early_under_order_45():
    for category in ("order_closure", "suspend_license"):
        j = judge("admin_penalty", penalty(date(2026, 5, 10), category), "scjgj")
        assert not j.never_early and j.min_end < j.end


def test_restriction_longer_than_three_years_runs_its_actual_length():
    long = judge(
        "admin_penalty",
        penalty(date(2026, 5, 10), "restrict_practice", penalty_valid_until=date(2031, 6, 30)),
        "scjgj",
    )
    assert (long.rule, long.end, long.min_end, long.never_early) == (
        "samr_order_45",
        date(2031, 6, 30),
        date(2031, 6, 30),
        True,
    )
    short = judge(
        "admin_penalty",
        penalty(date(2026, 5, 10), "restrict_business", penalty_valid_until=date(2027, 5, 10)),
        "scjgj",
    )
    assert short.end == date(2029, 5, 10)
    placeholder = judge("admin_penalty", penalty(date(2026, 5, 10), "restrict_practice"), "scjgj")
    assert placeholder.end == date(2029, 5, 10)  # 2099-12-31 = long-term placeholder, not a real length
    not_restriction = judge(
        "admin_penalty",
        penalty(date(2026, 5, 10), "revoke_license", penalty_valid_until=date(2031, 6, 30)),
        "scjgj",
    )
    assert not_restriction.end == date(2029, 5, 10)


def test_restriction_from_a_non_market_department_follows_the_ndrc_rule():
    j = judge(
        "admin_penalty",
        penalty(date(2026, 5, 10), "restrict_practice", penalty_valid_until=date(2035, 1, 1)),
        "jtysj",
    )
    assert (j.rule, j.severity, j.never_early) == ("ndrc_order_36", "serious", False)
    assert (j.min_end, j.end) == (date(2027, 5, 10), date(2029, 5, 10))


def test_warning_only_is_not_an_order_45_record_and_falls_to_the_ndrc_rule():
    j = judge("admin_penalty", penalty(date(2026, 5, 10), "warning"), "scjgj")
    assert (j.rule, j.severity) == ("ndrc_order_36", "minor")


def test_order_45_only_for_market_supervision_codes_and_from_september_2021():
    assert judge("admin_penalty", penalty(date(2026, 5, 10)), "fgw").rule == "ndrc_order_36"
    assert judge("admin_penalty", penalty(date(2026, 5, 10)), "notscjgj").rule == "ndrc_order_36"
    assert judge("admin_penalty", penalty(date(2021, 8, 31)), "scjgj").rule == "ndrc_2019_527"
    assert judge("admin_penalty", penalty(date(2021, 9, 1)), "scjgj").rule == "samr_order_45"


def test_order_45_scope_is_exactly_the_market_supervision_departments():
    departments = _yaml("xinyong.accounts", "data", "departments.yaml")["departments"]
    market = {d["code"] for d in departments if "市场监督管理局" in d["name"]}
    assert len(market) >= 2
    for d in departments:
        rule = judge("admin_penalty", penalty(date(2026, 5, 10), "revoke_license"), d["code"]).rule
        assert (rule == "samr_order_45") == (d["code"] in market), d["code"]


# ------------------------------------------------------------------------------------------- severity


def test_submitted_severity_wins_over_derivation():
    j = judge("admin_penalty", penalty(date(2026, 5, 10), "revoke_license", severity="minor"), "fgw")
    assert (j.severity, j.severity_source) == ("minor", "submitted")
    assert (j.min_end, j.end) == (date(2026, 5, 10), date(2026, 8, 10))
    general = judge("admin_penalty", penalty(date(2026, 5, 10), "warning", severity="general"), "fgw")
    assert (general.severity, general.end) == ("general", date(2027, 5, 10))


def test_an_unknown_submitted_severity_is_ignored_and_derived():
    j = judge("admin_penalty", penalty(date(2026, 5, 10), "revoke_license", severity="严重"), "fgw")
    assert (j.severity, j.severity_source) == ("serious", "derived")


@pytest.mark.parametrize(
    ("categories", "fine", "expected"),
    [
        (["warning"], None, "minor"),
        (["public_criticism"], None, "minor"),
        (["warning", "public_criticism"], None, "minor"),
        (["fine"], "0.3", "minor"),  # 3000 元, summary-procedure ceiling, inclusive
        (["warning", "fine"], "0.1", "minor"),
        (["fine"], "0.300001", "general"),
        (["fine"], None, "general"),
        (["fine"], "100", "general"),
        (["fine"], "100.01", "serious"),
        (["warning", "fine"], "150", "serious"),
        (["confiscate_illegal_gains"], None, "general"),
        (["fine", "confiscate_gains_and_property"], "0.2", "general"),
        (["other"], None, "general"),
        (["revoke_license"], None, "serious"),
        (["suspend_license"], None, "serious"),
        (["lower_qualification"], None, "serious"),
        (["order_closure"], None, "serious"),
        (["order_suspend_business"], None, "serious"),
        (["restrict_business"], None, "serious"),
        (["restrict_practice"], None, "serious"),
        (["detention"], None, "serious"),
        (["fine", "detention"], "0.01", "serious"),
        ([], None, "general"),
        (["a_code_added_later"], None, "general"),
    ],
)
def test_derivation_table(categories, fine, expected):
    assert derive_severity(categories, Decimal(fine) if fine is not None else None) == expected


def test_severity_table_covers_every_penalty_category_and_rules_name_only_known_codes():
    code_lists = _yaml("xinyong.catalog", "data", "code_lists.yaml")["code_lists"]
    known = {v["code"] for cl in code_lists if cl["code"] == "penalty_category" for v in cl["values"]}
    severities = {v["code"] for cl in code_lists if cl["code"] == "severity" for v in cl["values"]}
    assert set(severity_table().categories) == known
    assert severities == set(SEVERITIES)
    samr = publicity_rules().get("samr_order_45")
    assert samr.short_when is not None and samr.long_restriction_runs_actual_length is not None
    named = {
        *samr.never_early,
        *samr.not_published_when_only,
        *samr.short_when.only_categories,
        samr.short_when.low_fine_category,
        *samr.long_restriction_runs_actual_length.categories,
    }
    assert named <= known


def test_thresholds_are_marked_unconfirmed():
    assert severity_table().confirmed is False
    assert severity_table().fine_bands.confirmed is False
    samr = publicity_rules().get("samr_order_45")
    assert samr.short_when is not None and samr.short_when.confirmed is False
    assert publicity_rules().get("ndrc_order_58").confirmed is False
    assert all(p.confirmed for p in publicity_rules().get("ndrc_order_36").periods.values())


# ------------------------------------------------------------------------------------------- other classes


def test_licence_public_while_valid():
    base = {"decision_date": date(2026, 2, 1), "valid_from": date(2026, 2, 1)}
    dated = judge("admin_license", {**base, "valid_to": date(2031, 1, 31)}, "scjgj")
    assert (dated.rule, dated.severity, dated.severity_source) == ("license_validity", None, "not_applicable")
    assert window(dated) == (date(2026, 2, 1), None, date(2031, 1, 31))
    assert judge("admin_license", {**base, "valid_to": date(2099, 12, 31)}, "scjgj").end is None
    assert judge("admin_license", base, "fgw").end is None


def test_registration_and_unknown_classes_have_no_window():
    reg = judge("registration", {"established_on": date(2010, 3, 4)}, "scjgj")
    assert (reg.rule, reg.severity, reg.start, reg.min_end, reg.end) == (
        "no_window",
        None,
        date(2010, 3, 4),
        None,
        None,
    )
    assert judge("honours", {}, "fgw").rule == "no_window"


def test_penalty_without_decision_date_is_refused():
    with pytest.raises(ValueError, match="决定日期"):
        judge("admin_penalty", {"penalty_category": ["fine"]}, "fgw")


# ------------------------------------------------------------------------------------------- month arithmetic


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2028, 2, 29), 3, date(2028, 5, 29)),
        (date(2026, 3, 31), 3, date(2026, 6, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 11, 30), 36, date(2029, 11, 30)),
        (date(2026, 5, 10), 0, date(2026, 5, 10)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_window_of_a_penalty_decided_on_29_february():
    j = judge("admin_penalty", penalty(date(2028, 2, 29), severity="general"), "fgw")
    assert (j.min_end, j.end) == (date(2028, 5, 29), date(2029, 2, 28))


@given(st.dates(date(1, 1, 1), date(9000, 12, 31)), st.integers(0, 600))
def test_add_months_lands_in_the_right_month_never_before(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day and later >= day


# ------------------------------------------------------------------------------------------- invariants


@given(st.dates(date(2019, 1, 1), date(2030, 12, 31)), st.sampled_from(SEVERITIES))
def test_start_min_end_end_are_ordered_for_any_date_and_severity(decided, severity):
    j = judge("admin_penalty", penalty(decided, severity=severity), "fgw")
    assert j.start == decided
    assert j.start <= j.min_end <= j.end
    assert j.severity == severity
    expected = "ndrc_2019_527" if decided < date(2023, 5, 1) else "ndrc_order_58"
    assert j.rule == (expected if decided < date(2026, 4, 1) else "ndrc_order_36")


_CATEGORIES = sorted(severity_table().categories)


@given(
    decided=st.dates(date(2019, 1, 1), date(2030, 12, 31)),
    severity=st.sampled_from([*SEVERITIES, None]),
    department=st.sampled_from(["fgw", "scjgj", "gl_scjgj", "sthjj"]),
    categories=st.lists(st.sampled_from(_CATEGORIES), max_size=3, unique=True),
    fine=st.one_of(st.none(), st.decimals(0, 1000, places=2)),
    until=st.dates(date(2019, 1, 1), date(2099, 12, 31)),
)
def test_every_penalty_window_is_ordered(decided, severity, department, categories, fine, until):
    values = {
        "decision_date": decided,
        "penalty_category": categories,
        "fine_amount": fine,
        "severity": severity,
        "penalty_valid_until": until,
    }
    j = judge("admin_penalty", values, department)
    assert j.start <= j.min_end <= j.end
    assert j.severity in SEVERITIES
    assert not j.never_early or j.min_end == j.end
    assert j.end <= max(add_months(decided, 36), until)


# ------------------------------------------------------------------------------------------- the data files


def _rules_data() -> dict[str, Any]:
    return copy.deepcopy(_yaml("xinyong.publicity", "data", "publicity_rules.yaml"))


def _rule(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["code"] == code)


def test_rule_file_refuses_a_gap_between_rule_versions():
    data = _rules_data()
    _rule(data, "ndrc_order_58")["effective_to"] = date(2026, 3, 30)
    with pytest.raises(ValidationError, match="不连续"):
        PublicityRules.model_validate(data)


def test_rule_file_refuses_two_rules_of_equal_priority_on_the_same_day():
    data = _rules_data()
    _rule(data, "samr_order_45")["priority"] = 10
    with pytest.raises(ValidationError, match="优先级相同"):
        PublicityRules.model_validate(data)


def test_rule_file_refuses_misspelt_keys_and_inverted_periods():
    data = _rules_data()
    _rule(data, "ndrc_order_36")["periods"]["general"]["max_month"] = 12
    with pytest.raises(ValidationError):
        PublicityRules.model_validate(data)
    data = _rules_data()
    _rule(data, "ndrc_order_36")["periods"]["serious"] = {"min_months": 40, "max_months": 36, "confirmed": True}
    with pytest.raises(ValidationError, match="min_months"):
        PublicityRules.model_validate(data)


def test_rule_file_refuses_a_severity_without_a_period():
    data = _rules_data()
    del _rule(data, "ndrc_order_36")["periods"]["minor"]
    with pytest.raises(ValidationError, match="minor"):
        PublicityRules.model_validate(data)


def test_severity_file_refuses_unordered_bands():
    data = copy.deepcopy(_yaml("xinyong.publicity", "data", "severity.yaml"))
    data["fine_bands"]["bands"][0]["up_to"] = "200"
    with pytest.raises(ValidationError, match="递增"):
        SeverityTable.model_validate(data)
