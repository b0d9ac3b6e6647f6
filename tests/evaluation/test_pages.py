from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, make_user
from tests.evaluation.helpers import add_record, company, months_before
from xinyong.accounts.models import Role
from xinyong.core import clock
from xinyong.core.audit import AuditEvent
from xinyong.core.web import templates
from xinyong.evaluation import pages, service


@pytest.fixture
def office_client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def _login(client, session, username: str, role: Role) -> None:
    make_user(session, username, role)
    session.commit()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (200, 303)


def _graded(session):
    today = clock.today()
    good = company(session, "南京守信电子有限公司", district_code="320102", registered_on=months_before(today, 25))
    bad = company(session, "南京多罚餐饮有限公司", district_code="320115", industry="H")
    for months in (1, 2, 3):
        add_record(session, bad, months_before(today, months), severity="serious")
    add_record(session, bad, months_before(today, 4), severity="minor")
    service.evaluate(session, as_of=today)
    session.commit()
    return good, bad


def test_grade_view_explains_the_grade_in_chinese_largest_first(session):
    good, bad = _graded(session)
    view = pages.grade_view(session, bad.id)
    assert (view["grade"], view["label"], view["score"]) == ("D", "信用风险高", 390)
    assert view["model_name"] == "住宿和餐饮业专用评价模型"
    assert [r["text"] for r in view["reasons"]] == [
        "近36个月严重行政处罚：3项，扣600分",
        "近12个月轻微行政处罚：1项，扣10分",
    ]
    html = templates().env.get_template("evaluation/_grade.html").render(grade=view, _=lambda s, **k: s % k if k else s)
    assert "为什么是这个等级" in html and "扣600分" in html and "信用风险高" in html
    assert pages.grade_view(session, good.id)["reasons"][0]["text"] == "成立年限（整年）：2年，加10分"
    assert pages.grade_view(session, company(session, "南京未评有限公司").id) is None


def test_office_page_shows_distribution_and_map_and_is_audited(session, office_client):
    _graded(session)
    for url in ("/office/evaluation", "/office/evaluation/districts.geojson"):
        assert office_client.get(url, follow_redirects=False).status_code == 303
    _login(office_client, session, "officer", Role.CREDIT_OFFICE)
    page = office_client.get("/office/evaluation")
    assert page.status_code == 200, page.text
    assert "信用风险高" in page.text and '<th scope="row">江宁区</th><td>1</td><td>1</td><td>100.0%</td>' in page.text
    assert "\\u4f4f\\u5bbf\\u548c\\u9910\\u996e\\u4e1a" in page.text  # 住宿和餐饮业 in the chart data
    assert "registerMap" in page.text and "/static/vendor/echarts.min.js" in page.text
    geo = office_client.get("/office/evaluation/districts.geojson")
    assert geo.status_code == 200 and len(geo.json()["features"]) == 11
    reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.read")).all()
    assert len(reads) == 1


def test_office_figures_give_the_share_of_c_and_d_by_district(session):
    _graded(session)
    run = service.latest_run(session)
    figures = pages.office_figures(session, run.id)
    assert {m["name"]: m["value"] for m in figures["map"]} == {"玄武区": 0.0, "江宁区": 100.0}
    assert figures["worst"] == "C+D"
    assert [g["count"] for g in figures["grades"]] == [1, 0, 0, 1]


def test_other_roles_cannot_see_the_office_page(session, office_client):
    _login(office_client, session, "clerk", Role.DEPARTMENT)
    assert office_client.get("/office/evaluation").status_code == 403
    assert office_client.get("/office/evaluation/districts.geojson").status_code == 403
