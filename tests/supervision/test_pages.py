from __future__ import annotations

import re

from sqlalchemy import select

from tests.builders import PASSWORD, make_user
from tests.supervision.helpers import OFFICER, graded_city, make_plan
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.archive import service as archive
from xinyong.archive.models import CreditRecord
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.supervision import results, service


def _login(client, session, username: str, role: Role, **kw) -> None:
    make_user(session, username, role, display_name=username, **kw)
    session.commit()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def _rid(session, subject) -> str:
    return next(i.value for i in archive.identifiers_of(session, subject.id) if i.scheme == "resident_id")


def test_public_pages_hide_the_targets_until_the_reveal_and_then_let_anyone_recompute_them(session, client):
    city = graded_city(session)
    plan = make_plan(session)
    service.draw(session, plan, OFFICER)
    session.commit()
    firm = city.drawn[0]

    listing = client.get("/inspections")
    assert listing.status_code == 200 and plan.name in listing.text and plan.seed_hash in listing.text
    assert plan.seed not in listing.text and "已抽取，待公开" in listing.text
    page = client.get(f"/inspections/{plan.id}").text
    assert plan.seed_hash in page and "食品经营许可情况" in page and "江宁区" not in page
    assert firm.name not in page and plan.seed not in page
    body = client.get(f"/api/v1/inspections/{plan.id}").json()
    assert body["seed"] is None and body["target_list"] is None and body["eligible"] is None
    assert body["seed_hash"] == plan.seed_hash and body["items"] == ["食品经营许可情况", "从业人员健康管理"]
    assert client.get("/api/v1/inspections").json()["items"][0]["targets"] is None

    service.reveal(session, plan, OFFICER)
    session.commit()
    page = client.get(f"/inspections/{plan.id}").text
    assert firm.name in page and plan.seed in page and f"xinyong inspection verify {plan.id}" in page
    assert "信用风险高" in page and city.spared[0].name not in page
    body = client.get(f"/api/v1/inspections/{plan.id}").json()
    assert service.seed_hash(body["seed"]) == body["seed_hash"]
    again = service.draw_targets(
        body["seed"], body["eligible"], {r["grade"]: r["ratio"] for r in body["ratios"]}, body["inspectors"]
    )
    shown = [(t["grade"], t["rank"], t["inspector"]) for t in body["target_list"]]
    assert shown == [(t.grade, t.rank + 1, t.inspector) for t in again]
    assert {t["subject_id"] for t in body["target_list"]} == {s.id for s in city.drawn} | {None}
    listed = client.get("/api/v1/inspections").json()["items"][0]
    assert (listed["seed"], listed["targets"], listed["results"]) == (plan.seed, 4, 0)
    assert client.get("/inspections/999").status_code == 404


def test_results_are_published_and_natural_persons_masked_everywhere_public(session, client):
    city = graded_city(session)
    plan = make_plan(session)
    service.draw(session, plan, OFFICER)
    service.reveal(session, plan, OFFICER)
    rid = _rid(session, city.person)
    results.record_result(
        session,
        plan,
        OFFICER,
        subject_id=city.person.id,
        result="rectification_ordered",
        inspected_on=clock.today(),
        inspector="王执法",
        findings=f"经营者（身份证号 {rid}）未办理健康证明",
    )
    results.record_result(
        session,
        plan,
        OFFICER,
        subject_id=city.drawn[0].id,
        result="no_problem",
        inspected_on=clock.today(),
        inspector="李执法",
    )
    session.commit()
    urls = ["/inspections", f"/inspections/{plan.id}", "/api/v1/inspections", f"/api/v1/inspections/{plan.id}"]
    urls += [f"/subjects/{city.person.id}", f"/api/v1/subjects/{city.person.id}"]
    for url in urls:
        text = client.get(url).text
        assert "张晓明" not in text and rid not in text, url
    page = client.get(f"/inspections/{plan.id}").text
    assert "张*明" in page and "发现问题已责令整改" in page and "未办理健康证明" in page and "未发现问题" in page
    assert f'href="/subjects/{city.person.id}"' not in page  # a person is not linked from the plan
    person = next(
        t for t in client.get(f"/api/v1/inspections/{plan.id}").json()["target_list"] if t["subject_id"] is None
    )
    assert person["name"] == "张*明" and person["uscc"] is None
    assert person["result"]["findings"] == f"经营者（身份证号 {rid[:4]}{'*' * 10}{rid[-4:]}）未办理健康证明"
    assert re.search(r"\d{17}[\dX]", person["result"]["findings"]) is None


def test_the_office_creates_draws_reveals_and_records_results_and_every_step_is_audited(session, client):
    city = graded_city(session)
    session.commit()
    assert client.get("/office/inspections", follow_redirects=False).status_code == 303  # login first
    _login(client, session, "xinyongban", Role.CREDIT_OFFICE)
    assert "制定抽查计划" in client.get("/office/inspections").text
    scjgj = accounts.find_department(session, "scjgj")
    today = clock.today()
    form = {
        "name": "餐饮单位双随机抽查",
        "department_id": str(scjgj.id),
        "period_start": f"{today.year}-01-01",
        "period_end": f"{today.year}-12-31",
        "items": "食品经营许可情况\n从业人员健康管理",
        "inspectors": "王执法\n李执法",
        "districts": ["320115", "320102"],
        "ratio_A": "0",
        "ratio_B": "5",
        "ratio_C": "21",
        "ratio_D": "100",
    }
    r = client.post("/office/inspections", data=form, follow_redirects=False)
    assert r.status_code == 303
    plan_id = int(r.headers["location"].rsplit("/", 1)[1])
    session.rollback()  # a fresh snapshot: the request committed in its own session
    plan = service.get_or_raise(session, plan_id)
    assert plan.scope == {"districts": ["320102", "320115"]} and plan.ratios["D"] == 1.0
    assert plan.department_id == scjgj.id and plan.items == ["食品经营许可情况", "从业人员健康管理"]
    assert client.post(f"/office/inspections/{plan_id}/reveal").status_code == 409
    assert client.post(f"/office/inspections/{plan_id}/draw", follow_redirects=False).status_code == 303
    office = client.get(f"/office/inspections/{plan_id}").text
    assert city.drawn[0].name in office and "张晓明" in office  # the office sees the targets before the reveal
    assert city.drawn[0].name not in client.get(f"/inspections/{plan_id}").text
    assert client.post(f"/office/inspections/{plan_id}/reveal", follow_redirects=False).status_code == 303
    result = {
        "result": "case_filed",
        "inspected_on": today.isoformat(),
        "inspector": "王执法",
        "findings": "超范围经营",
    }
    r = client.post(f"/office/inspections/{plan_id}/results", data=result | {"subject_id": city.drawn[1].id})
    assert r.status_code == 200 and "发现问题已立案查处" in r.text
    refused = client.post(f"/office/inspections/{plan_id}/results", data=result | {"subject_id": city.spared[0].id})
    assert refused.status_code == 409 and "不是抽查计划" in refused.text
    session.rollback()
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    steps = [a.removeprefix("inspection.") for a in actions if a.startswith("inspection.")]
    # the refused reveal and the refused result rolled back with their requests, leaving no event
    assert steps == ["plan", "draw", "read", "reveal", "result", "read"]
    stored = session.scalars(select(CreditRecord).where(CreditRecord.info_class == "inspection_result")).all()
    assert [(r.subject_id, r.payload["findings"]) for r in stored] == [(city.drawn[1].id, "超范围经营")]


def test_a_department_user_runs_only_its_own_units_plans(session, client):
    graded_city(session)
    own = make_plan(session)
    other = make_plan(session, name="税务抽查", department_id=accounts.find_department(session, "sw").id)
    session.commit()
    _login(client, session, "clerk", Role.DEPARTMENT)
    page = client.get("/office/inspections").text
    assert own.name in page and "税务抽查" not in page
    assert client.get(f"/office/inspections/{other.id}").status_code == 403
    assert client.post(f"/office/inspections/{other.id}/draw").status_code == 403
    assert client.post(f"/office/inspections/{own.id}/draw", follow_redirects=False).status_code == 303


def test_the_api_takes_results_from_the_inspecting_units_client_only(session, client):
    city = graded_city(session)
    plan = make_plan(session)
    service.draw(session, plan, OFFICER)
    scjgj = accounts.find_department(session, "scjgj")
    mine = accounts.create_client(
        session, audit.SYSTEM, name="市场监管前置机", permissions=["submit"], department_id=scjgj.id
    )
    theirs = accounts.create_client(
        session,
        audit.SYSTEM,
        name="税务前置机",
        permissions=["submit"],
        department_id=accounts.find_department(session, "sw").id,
    )
    session.commit()
    url = f"/api/v1/inspections/{plan.id}/results"
    body = {
        "subject_id": city.drawn[0].id,
        "result": "no_problem",
        "inspected_on": clock.today().isoformat(),
        "inspector": "王执法",
    }

    def post(token, data):
        return client.post(url, json=data, headers={"Authorization": f"Bearer {token}"})

    assert client.post(url, json=body).status_code == 401
    r = post(mine.token, body)
    assert r.status_code == 409 and r.json()["error"] == "plan_not_published"
    service.reveal(session, plan, OFFICER)
    session.commit()
    assert post(theirs.token, body).status_code == 403
    r = post(mine.token, body)
    assert r.status_code == 201 and r.json()["version"] == 1
    r = post(mine.token, body | {"subject_id": city.spared[0].id})
    assert r.status_code == 409 and r.json()["error"] == "not_drawn" and "不是抽查计划" in r.json()["message"]
    r = post(mine.token, body | {"result": "case_filed"})
    assert r.status_code == 400 and r.json()["error"] == "findings_required"
    assert post(mine.token, body | {"result": "case_filed", "findings": "无证"}).json()["version"] == 2
