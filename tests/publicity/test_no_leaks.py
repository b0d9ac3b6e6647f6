"""Acceptance: walk every public page and public API response of a generated city; no ID number of a person
appears unmasked anywhere (issue: public portal, "Done when")."""

from __future__ import annotations

import re

from sqlalchemy import select

from xinyong.archive.models import CreditRecord, Subject, SubjectIdentifier
from xinyong.core import clock
from xinyong.demo.builder import DemoResult, _load
from xinyong.demo.generator import generate_city

DISTRICTS = ["玄武", "秦淮", "建邺", "鼓楼", "浦口", "栖霞", "雨花台", "江宁", "六合", "溧水", "高淳"]


def _known_ids(session) -> set[str]:
    ids = set(session.scalars(select(SubjectIdentifier.value).where(SubjectIdentifier.scheme == "resident_id")))
    for payload in session.scalars(select(CreditRecord.payload)):
        for key in ("id_no", "legal_rep_id_no"):
            if payload.get(key) and len(str(payload[key])) == 18:
                ids.add(str(payload[key]))
    return ids


def _pages(client, first: str) -> list[str]:
    body = client.get(first).json()
    out = [first]
    pages = -(-body["total"] // body["size"])
    out += [f"{first}&page={p}" for p in range(2, pages + 1)]
    return out


def test_no_public_page_or_api_response_shows_a_full_id_number(session, client, clean_db, tmp_path):
    manifest = generate_city(400, 11, tmp_path / "city", as_of=clock.today())
    result = DemoResult(built=True)
    _load(clean_db, tmp_path / "city", manifest, result, lambda *_: None)
    assert result.mismatches == []
    session.rollback()
    known = _known_ids(session)
    assert len(known) > 20  # persons and legal representatives with ID numbers are in the data
    subject_ids = list(session.scalars(select(Subject.id)))
    persons = set(session.scalars(select(Subject.id).where(Subject.kind == "natural_person")))
    assert persons

    # Commitments signed by persons (their ID is in the signed text) and one breach (its record carries the ID).
    from xinyong.commitments import service as commitments
    from xinyong.core import audit

    for n, pid in enumerate(sorted(persons)[:3]):
        person = session.get(Subject, pid)
        signed = commitments.sign(
            session,
            audit.Actor(f"test:{pid}", person.name),
            person,
            template="industry_self_discipline",
            context={"industry": "餐饮"},
        )
        if n == 0:
            commitments.breach(session, signed, audit.SYSTEM, facts="未按承诺执行食品安全制度")
    session.commit()

    urls = [
        "/",
        "/commitments",
        "/api/v1/commitments",
        "/inspections",
        "/api/v1/inspections",
        "/search?q=南京",
        "/search?q=公司",
        "/api/v1/subjects?q=南京",
        "/openapi.json",
        "/lists",
        "/api/v1/lists",
    ]
    urls += [f"/lists/{t['code']}" for t in client.get("/api/v1/lists").json()["items"]]
    urls += [f"/api/v1/lists/{t['code']}/entries" for t in client.get("/api/v1/lists").json()["items"]]
    urls += [f"/search?q={d}" for d in DISTRICTS] + [f"/api/v1/subjects?q={d}" for d in DISTRICTS]
    for cls in ("admin_penalty", "admin_license"):
        api = f"/api/v1/records?info_class={cls}&size=100"
        urls += _pages(client, api)
        pages = -(-client.get(api).json()["total"] // 20)
        urls += [f"/publicity?info_class={cls}&page={p}" for p in range(1, pages + 1)]
    urls += [f"/subjects/{i}" for i in subject_ids] + [f"/api/v1/subjects/{i}" for i in subject_ids]

    pattern = re.compile(r"\d{17}[\dX]")
    walked = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        leaked = set(pattern.findall(response.text)) & known
        assert not leaked, f"{url} shows {leaked}"
        walked += 1
    assert walked > 2 * len(subject_ids)
    for pid in list(persons)[:3]:
        page = client.get(f"/subjects/{pid}").text
        assert "*" in page  # the masked ID / name is what is shown
