"""The credit report states the grade and why, and carries inspection results in 行政管理."""

from __future__ import annotations

from tests.evaluation.helpers import add_record, company, months_before
from tests.supervision.helpers import OFFICER, graded_city, published_plan
from xinyong.core import clock
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.pages import grade_view
from xinyong.publicity.views import View, subject_view
from xinyong.reports import render
from xinyong.reports.models import ReportKind
from xinyong.supervision import results


def _sections(content):
    return {s["code"]: s["records"] for s in content["sections"]}


def test_the_report_opens_its_evaluation_section_with_the_grade_and_why(session):
    today = clock.today()
    firm = company(session, "南京多罚餐饮有限公司", district_code="320115", industry="H")
    for months in (1, 2, 3):
        add_record(session, firm, months_before(today, months), severity="serious")
    evaluation.evaluate(session, as_of=today)
    grade = grade_view(session, firm.id)
    content = render.report_content(
        subject_view(session, firm, View.PUBLIC), ReportKind.PUBLIC, "XY1", clock.now(), grade=grade
    )
    [entry] = _sections(content)["evaluation"]
    fields = dict(entry["fields"])
    assert entry["class"] == "公共信用综合评价"
    assert fields["信用等级"] == "D（信用风险高）" and fields["评价日期"] == str(today)
    assert fields["主要因素1"] == "近36个月严重行政处罚：3项，扣600分"
    assert fields["评价模型"].startswith("住宿和餐饮业专用评价模型")
    html = render.report_html(content, "ABCD" * 4, "https://x/verify/ABCD", "https://x/verify")
    assert "公共信用综合评价" in html and "扣600分" in html
    ungraded = render.report_content(subject_view(session, firm, View.PUBLIC), ReportKind.PUBLIC, "XY2", clock.now())
    assert _sections(ungraded)["evaluation"] == []


def test_an_inspection_result_is_printed_in_the_administrative_section_by_its_label(session):
    city = graded_city(session)
    plan = published_plan(session)
    results.record_result(
        session,
        plan,
        OFFICER,
        subject_id=city.drawn[0].id,
        result="case_filed",
        inspected_on=clock.today(),
        inspector="王执法",
        findings="无证经营",
    )
    content = render.report_content(
        subject_view(session, city.drawn[0], View.PUBLIC), ReportKind.PUBLIC, "XY3", clock.now()
    )
    [entry] = _sections(content)["administrative"]
    fields = dict(entry["fields"])
    assert entry["class"] == "双随机抽查结果"
    assert fields["检查结果"] == "发现问题已立案查处" and fields["检查情况"] == "无证经营"
    assert fields["抽查计划名称"] == plan.name and fields["检查实施机关"] == "南京市市场监督管理局"
    assert "检查结果代码" not in fields and "case_filed" not in str(entry)
