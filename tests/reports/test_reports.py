"""Credit reports: the PDF states what the view holds, in the national section order, and can be verified by anyone.

The reports domain is imported inside the fixtures, not at collection time: until the lead's migration has the
`credit_reports` table, the `reports` fixture creates it (a no-op once the migration does) and adds the router
to the app if `api.mount_routers` does not yet include it.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select

from tests.builders import NANJING_STEEL, PASSWORD, make_subject, make_user, valid_uscc
from tests.collection.files import penalty, write_csv
from xinyong.accounts.service import find_department, seed_departments
from xinyong.archive.identifiers import make_resident_id
from xinyong.collection.service import ingest_file
from xinyong.core import audit
from xinyong.core.audit import AuditEvent
from xinyong.core.db import get_engine, make_sessionmaker

SECTION_HEADINGS = [
    "一、行政管理",
    "二、诚实守信",
    "三、严重失信主体名单",
    "四、经营异常",
    "五、信用承诺",
    "六、信用评价",
    "七、司法判决",
    "八、其他信息",
    "九、信用状况提升建议",
    "十、公共信用信息地方补充内容",
]
PERSON = "李小龙"
PERSON_RID = make_resident_id("320102", date(1988, 8, 8), 35)
RID_PATTERN = re.compile(r"\d{17}[\dX]")


@pytest.fixture(scope="module")
def reports(db_url):
    from xinyong.core.db import Base
    from xinyong.reports import cli, models, render, service

    engine = get_engine(db_url)
    if not inspect(engine).has_table(models.CreditReport.__tablename__):
        Base.metadata.create_all(engine, tables=[models.CreditReport.__table__])
    return SimpleNamespace(cli=cli, models=models, render=render, service=service)


@pytest.fixture
def app(app, reports):
    from xinyong.reports import pages

    if not any(getattr(route, "path", None) == "/verify/{code}" for route in app.router.routes):
        app.include_router(pages.router)
    return app


def _load(session, tmp_path: Path) -> None:
    """A firm with one penalty; a person with a public penalty and a withdrawn (no longer public) one."""
    person = {
        "行政相对人类别": "自然人",
        "行政相对人名称": PERSON,
        "行政相对人代码_1（统一社会信用代码）": "",
        "法定代表人": "",
        "证件类型": "身份证",
        "证件号码": PERSON_RID,
    }
    rows = [
        penalty(),
        penalty(**person, **{"行政处罚决定书文号": "宁市监罚〔2026〕7号"}),
        penalty(**person, **{"行政处罚决定书文号": "宁市监罚〔2025〕3号", "当前状态": "1"}),
    ]
    path = write_csv(tmp_path / "penalties.csv", rows)
    scjgj = find_department(session, "scjgj")
    ingest_file(session, path, department=scjgj, info_class="admin_penalty", actor=audit.SYSTEM)
    session.commit()


def _subjects(session):
    from xinyong.archive.models import Subject

    firm = session.scalar(select(Subject).where(Subject.uscc == NANJING_STEEL))
    person = session.scalar(select(Subject).where(Subject.kind == "natural_person"))
    return firm, person


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode()


def _issued(issued) -> SimpleNamespace:
    r = issued.report
    return SimpleNamespace(
        pdf=issued.pdf_bytes,
        text=pdf_text(issued.pdf_bytes),
        serial=r.serial,
        code=r.verification_code,
        digest=r.content_digest,
        summary=r.summary,
    )


@pytest.fixture(scope="module")
def pdfs(db_url, reports, tmp_path_factory):
    """Four reports rendered once for the module: the firm's public and review reports, the person's public and
    self reports. Tables are emptied first and again by the next test's clean_db; only the results stay."""
    from tests.conftest import _empty_tables

    _empty_tables(db_url)
    with make_sessionmaker(get_engine(db_url))() as session:
        seed_departments(session)
        session.commit()
        _load(session, tmp_path_factory.mktemp("reports"))
        firm, person = _subjects(session)
        issue = reports.service.issue
        result = SimpleNamespace(
            firm=_issued(issue(session, firm, "public", audit.SYSTEM)),
            review=_issued(issue(session, firm, "review", audit.SYSTEM, purpose="政府采购供应商资格审查")),
            person_public=_issued(issue(session, person, "public", audit.SYSTEM)),
            person_self=_issued(issue(session, person, "self", audit.SYSTEM)),
        )
        session.commit()
    _empty_tables(db_url)
    return result


def test_public_report_holds_name_sections_in_national_order_serial_and_code(pdfs, reports):
    text = pdfs.firm.text
    pages = [p for p in text.split("\f") if p.strip()]
    for number, page in enumerate(pages, 1):
        compact = re.sub(r"\s+", "", page)
        assert compact.startswith("南京市公共信用信息平台")
        assert f"第{number}页/共{len(pages)}页" in compact and f"报告编号：{pdfs.firm.serial}" in compact
    assert "南京钢铁联合有限公司" in text and NANJING_STEEL in text
    positions = [text.find(heading) for heading in SECTION_HEADINGS]
    assert -1 not in positions, dict(zip(SECTION_HEADINGS, positions, strict=True))
    assert positions == sorted(positions)
    assert re.fullmatch(r"XY\d{8}\d{6}", pdfs.firm.serial)
    assert reports.render.group_code(pdfs.firm.code) in text
    assert "宁市监罚〔2026〕101号" in text and "罚款" in text
    empty = text[text.find("二、诚实守信") : text.find("三、严重失信主体名单")]
    assert "暂无记录" in empty
    assert "审查用途" not in text


def test_qr_code_decodes_to_the_verify_url(pdfs, reports, tmp_path):
    url = f"http://127.0.0.1:8000/verify/{reports.render.group_code(pdfs.firm.code)}"
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # pragma: no cover - zxing-cpp is a dev dependency
        pytest.skip("zxing-cpp not installed")
    (tmp_path / "r.pdf").write_bytes(pdfs.firm.pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", "r.pdf", "page"], cwd=tmp_path, check=True)
    (png,) = tmp_path.glob("page*.png")
    decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.read_bytes())))]
    assert decoded == [url]


def test_pdf_carries_its_content_whose_sm3_is_the_registered_digest(pdfs, tmp_path):
    from cryptography.hazmat.primitives import hashes

    (tmp_path / "r.pdf").write_bytes(pdfs.firm.pdf)
    subprocess.run(["pdfdetach", "-save", "1", "-o", "content.json", "r.pdf"], cwd=tmp_path, check=True)
    h = hashes.Hash(hashes.SM3())
    h.update((tmp_path / "content.json").read_bytes())
    assert h.finalize().hex() == pdfs.firm.digest
    assert pdfs.firm.digest != pdfs.review.digest


def test_self_report_names_the_person_and_shows_withdrawn_records_public_report_masks(pdfs):
    public, own = pdfs.person_public.text, pdfs.person_self.text
    assert PERSON in own and "宁市监罚〔2025〕3号" in own and "已撤销" in own
    assert PERSON not in public and "李*龙" in public
    assert "宁市监罚〔2026〕7号" in public and "宁市监罚〔2025〕3号" not in public
    assert PERSON_RID not in public and PERSON_RID[:4] + "*" * 10 + PERSON_RID[-4:] in public
    assert "本主体查询版" in own and "本主体查询版" not in public
    assert pdfs.person_self.summary["subject_name"] == "李*龙"
    assert pdfs.person_public.summary["counts"][0] == ["行政管理", 1]
    assert pdfs.person_self.summary["counts"][0] == ["行政管理", 2]


def test_review_report_states_its_purpose(pdfs):
    text = pdfs.review.text
    assert "信用审查报告" in text and "审查用途" in text and "政府采购供应商资格审查" in text
    assert text.find("审查用途") < text.find("一、行政管理")


def test_download_is_audited_and_the_code_verifies_until_revoked(session, client, reports, tmp_path):
    _load(session, tmp_path)
    firm, _ = _subjects(session)
    session.commit()  # end the read transaction: SQLite would keep showing its snapshot
    response = client.get(f"/subjects/{firm.id}/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "filename*=UTF-8''" in response.headers["content-disposition"]
    report = session.scalar(select(reports.models.CreditReport))
    assert report.kind == "public" and report.view == "public" and report.issued_by == "anonymous"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "report.issue"))
    assert event.details["serial"] == report.serial and event.target_id == str(report.id)
    assert report.serial in pdf_text(response.content)

    grouped = reports.render.group_code(report.verification_code)
    page = client.get(f"/verify/{grouped}")
    assert page.status_code == 200 and "真实有效" in page.text and "已作废" not in page.text
    for fact in (report.serial, report.content_digest, "南京钢铁联合有限公司", NANJING_STEEL, "行政管理"):
        assert fact in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert client.get(f"/verify/{report.verification_code.lower()}").status_code == 200
    assert client.get("/verify", params={"code": grouped}, follow_redirects=False).status_code == 303

    made_up = client.get("/verify/ABCD-EFGH-JKMN-PQRS")
    assert made_up.status_code == 404 and "未找到" in made_up.text and report.serial not in made_up.text
    session.commit()
    verifications = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "report.verify").order_by(AuditEvent.seq)
    ).all()
    assert [e.details["found"] for e in verifications] == [True, True, False]
    assert {e.actor for e in verifications} == {"anonymous"}

    reports.service.revoke(session, report, audit.SYSTEM, "依据的处罚决定已被撤销")
    session.commit()
    revoked = client.get(f"/verify/{grouped}")
    assert revoked.status_code == 200 and "已作废" in revoked.text and "真实有效" not in revoked.text


def test_anonymous_downloads_are_limited_per_client_and_refusals_register_nothing(session, app, reports, tmp_path):
    from fastapi.testclient import TestClient

    from xinyong.core.ratelimit import SlidingWindow

    _load(session, tmp_path)
    firm, _ = _subjects(session)
    make_user(session, "clerk", role="credit_office")
    session.commit()
    app.state.report_limit = SlidingWindow(2, 3600)
    url = f"/subjects/{firm.id}/report.pdf"
    with TestClient(app) as client:
        assert [client.get(url).status_code for _ in range(2)] == [200, 200]
        refused = client.get(url)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 3500
        assert "信用报告下载过于频繁" in refused.text and "登录后下载不受此限制" in refused.text
        as_json = client.get(url, headers={"Accept": "application/json"})
        assert as_json.status_code == 429 and as_json.json()["error"] == "too_many_requests"
        session.rollback()
        assert len(session.scalars(select(reports.models.CreditReport)).all()) == 2
        client.post("/login", data={"username": "clerk", "password": PASSWORD})
        assert client.get(url).status_code == 200  # signed in: accountable, not limited


def test_verify_page_of_a_persons_self_report_shows_neither_full_name_nor_id(session, client, reports, tmp_path):
    _load(session, tmp_path)
    _, person = _subjects(session)
    make_user(session, "lixiaolong", role="subject", subject_id=person.id, display_name=PERSON)
    session.commit()
    client.post("/login", data={"username": "lixiaolong", "password": PASSWORD})
    response = client.get(f"/subjects/{person.id}/report.pdf", params={"kind": "self"})
    assert response.status_code == 200 and PERSON in pdf_text(response.content)
    report = session.scalar(select(reports.models.CreditReport))
    assert report.kind == "self" and report.view == "self" and report.issued_by_name == PERSON
    assert PERSON not in str(report.summary) and not RID_PATTERN.search(str(report.summary))

    client.post("/logout")  # the verifier is someone else (the nav would show the logged-in user's name)
    page = client.get(f"/verify/{report.verification_code}")
    assert page.status_code == 200 and "真实有效" in page.text and "李*龙" in page.text
    assert PERSON not in page.text and PERSON_RID not in page.text and not RID_PATTERN.search(page.text)


def test_self_report_only_for_the_subject_itself_or_the_credit_office(session, client, reports):
    own = make_subject(session)
    other = make_subject(session, name="南京示例贸易有限公司", uscc=valid_uscc(7))
    make_user(session, "firm", role="subject", subject_id=own.id)
    make_user(session, "clerk", role="department")
    session.commit()
    url = f"/subjects/{other.id}/report.pdf"

    anonymous = client.get(url, params={"kind": "self"}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for username in ("firm", "clerk"):
        client.post("/login", data={"username": username, "password": PASSWORD})
        refused = client.get(url, params={"kind": "self"})
        assert refused.status_code == 403 and "只有本主体或信用办" in refused.text
        client.post("/logout")
    assert client.get(url, params={"kind": "review"}).status_code == 422
    assert session.scalar(select(reports.models.CreditReport)) is None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "report.issue")) is None


def test_a_public_report_cannot_be_built_from_the_self_view(session, reports):
    from xinyong.core.errors import DomainError
    from xinyong.publicity.views import View

    firm = make_subject(session)
    with pytest.raises(DomainError, match="公开视图"):
        reports.service.issue(session, firm, "public", audit.SYSTEM, View.SELF)


def test_serials_count_per_shanghai_day(session, reports):
    firm = make_subject(session)
    CreditReport = reports.models.CreditReport
    for serial, code in (
        ("XY20260305000001", "A" * 16),
        ("XY20260305000002", "B" * 16),
        ("XY20260304000009", "C" * 16),
    ):
        session.add(
            CreditReport(
                serial=serial,
                kind="public",
                subject_id=firm.id,
                view="public",
                issued_at=datetime(2026, 3, 5, 2, tzinfo=UTC),
                issued_by="system",
                issued_by_name="系统",
                verification_code=code,
                content_digest="0" * 64,
                summary={},
            )
        )
    session.flush()
    late_utc = datetime(2026, 3, 4, 16, 30, tzinfo=UTC)  # 00:30 on 5 March in Nanjing
    assert reports.service._next_serial(session, late_utc) == "XY20260305000003"
    assert reports.service._next_serial(session, datetime(2026, 3, 6, 1, tzinfo=UTC)) == "XY20260306000001"


def test_verification_codes_are_unguessable_and_forgive_typing(reports):
    codes = {reports.service.new_verification_code() for _ in range(200)}
    assert len(codes) == 200 and all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", c) for c in codes)
    assert reports.service.normalize_code(" abcd-efgh-ijkl-mnoo ") == "ABCDEFGH1JK1MN00"


def test_cli_writes_a_pdf(session, reports, tmp_path):
    import typer

    firm = make_subject(session)
    session.commit()
    out = tmp_path / "out" / "report.pdf"
    reports.cli.report_command(NANJING_STEEL, "public", out)
    assert out.read_bytes().startswith(b"%PDF")
    report = session.scalar(
        select(reports.models.CreditReport).where(reports.models.CreditReport.subject_id == firm.id)
    )
    assert report.issued_by.startswith("cli:") and report.serial in pdf_text(out.read_bytes())
    with pytest.raises(typer.Exit):
        reports.cli.report_command(NANJING_STEEL, "internal", tmp_path / "x.pdf")
    with pytest.raises(typer.Exit):
        reports.cli.report_command("91320100000000000X", "public", tmp_path / "y.pdf")
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "y.pdf").exists()
