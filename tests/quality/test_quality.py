"""Quality metrics over a month of real ingested batches, the notice XLSX, and the dashboards' access rules."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.builders import NANJING_STEEL, PASSWORD, make_user, valid_uscc
from tests.collection.files import PENALTY_HEADER, penalty, write_csv
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.catalog.service import get_catalog
from xinyong.collection.service import ingest_file
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.core.errors import DomainError
from xinyong.quality import service
from xinyong.quality.service import QualityRow, compute_metrics, load_rules, write_notice

HEADER = [*PENALTY_HEADER, "信用严重程度"]
BAD_USCC = NANJING_STEEL[:-1] + ("R" if NANJING_STEEL[-1] != "R" else "T")  # wrong check character
INJECTION = '=HYPERLINK("http://evil.example","点我")'


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.local_tz())


def _ingest(session, tmp_path: Path, name: str, rows: list[dict], submitted_at: datetime, department: str = "scjgj"):
    path = write_csv(tmp_path / name, rows, header=HEADER)
    dept = accounts.find_department(session, department)
    return ingest_file(
        session, path, department=dept, info_class="admin_penalty", actor=audit.SYSTEM, submitted_at=submitted_at
    )


def _row(n: int, decided: str, **overrides) -> dict:
    return penalty(
        **{
            "行政相对人名称": f"南京测试{n}有限公司",
            "行政相对人代码_1（统一社会信用代码）": valid_uscc(n),
            "行政处罚决定书文号": f"宁市监罚〔2026〕{200 + n}号",
            "处罚决定日期": decided,
        }
        | overrides
    )


@pytest.fixture
def october(session, tmp_path):
    """市场监管局, one batch on Saturday 2026-10-10 (a make-up working day after National Day), 10 rows:
    r1–r3 decided 09-30 (3 working days before), r4–r5 decided 09-28 (5 working days; 9 if holidays were
    ignored), r6 decided 09-17 (12 working days: late), r7 name-only (no subject) decided 09-17 (late),
    r8 a repeat of r1 (duplicate), r9–r10 a USCC with a wrong check character (rejected).
    Severity (the one expected field of 行政处罚) is filled on r1, r2 and r6.
    生态环境局: 2 rows at 23:30 on 31 October (still October in Nanjing) and 3 rows at 00:30 on 1 November."""
    rows = [
        _row(1, "2026-09-30", 信用严重程度="一般"),
        _row(2, "2026-09-30", 信用严重程度="严重"),
        _row(3, "2026-09-30"),
        _row(4, "2026-09-28"),
        _row(5, "2026-09-28"),
        _row(6, "2026-09-17", 信用严重程度="轻微"),
        _row(
            7,
            "2026-09-17",
            **{
                "行政相对人名称": "南京某某小吃店",
                "行政相对人类别": "个体工商户",
                "行政相对人代码_1（统一社会信用代码）": "00000000000000000X",
            },
        ),
        _row(1, "2026-09-30", 信用严重程度="一般"),
        _row(9, "2026-09-30", **{"行政相对人代码_1（统一社会信用代码）": BAD_USCC}),
        _row(10, "2026-09-30", **{"行政相对人代码_1（统一社会信用代码）": BAD_USCC}),
    ]
    summary = _ingest(session, tmp_path, "scjgj-10.csv", rows, _local(2026, 10, 10, 10, 0))
    assert (summary.rows, summary.accepted, summary.duplicates, summary.rejected) == (10, 7, 1, 2)
    assert summary.review == 1
    late_night = [_row(20 + i, "2026-10-30", 信用严重程度="一般") for i in range(2)]
    _ingest(session, tmp_path, "sthjj-10.csv", late_night, _local(2026, 10, 31, 23, 30), "sthjj")
    november = [_row(30 + i, "2026-10-30") for i in range(3)]
    _ingest(session, tmp_path, "sthjj-11.csv", november, _local(2026, 11, 1, 0, 30), "sthjj")
    session.commit()
    return session


def _by_dept(rows: list[QualityRow]) -> dict[str, QualityRow]:
    return {r.department_code: r for r in rows}


def test_metrics_of_a_month_are_exact(october):
    rows = _by_dept(compute_metrics(october, "2026-10"))
    assert set(rows) == {"scjgj", "sthjj"}
    r = rows["scjgj"]
    assert (r.info_class, r.info_class_name, r.month) == ("admin_penalty", "行政处罚信息", "2026-10")
    assert r.department_name == "南京市市场监督管理局"
    assert (r.batches, r.rows, r.accepted, r.duplicates, r.rejected) == (1, 10, 7, 1, 2)
    assert r.bad_code_rows == 2
    assert r.compliance_rate == pytest.approx(8 / 10)
    assert r.deadline_working_days == 7
    assert (r.timely, r.timeliness_base) == (5, 7)
    assert r.timeliness_rate == pytest.approx(5 / 7)
    assert get_catalog().get("admin_penalty").expected_fields == ("severity",)
    assert r.completeness == pytest.approx(3 / 7)
    assert r.bad_code_rate == pytest.approx((2 + 1) / 10)
    assert r.linkage_rate == pytest.approx(6 / 7)
    assert r.workday_fallback_years == []
    # 30·0.8/0.95 + 25·(5/7)/0.95 + 15·(3/7)/0.95 + 15·0.7/0.95 + 15·(6/7)/0.95
    expected = (30 * 0.8 + 25 * 5 / 7 + 15 * 3 / 7 + 15 * 0.7 + 15 * 6 / 7) / 0.95
    assert r.score == pytest.approx(round(expected, 1)) and r.score == 75.4
    reasons = {x.error_code: x for x in r.reasons}
    assert reasons["uscc_check"].count == 2 and reasons["uscc_check"].label == "统一社会信用代码错误"
    assert reasons["uscc_check"].sample_value == BAD_USCC


def test_month_follows_nanjing_time(october):
    october_rows = _by_dept(compute_metrics(october, "2026-10"))["sthjj"]
    assert (october_rows.rows, october_rows.accepted) == (2, 2)
    assert october_rows.timeliness_rate == 1.0 and october_rows.compliance_rate == 1.0
    assert october_rows.score == 100.0
    november = compute_metrics(october, "2026-11")
    assert [(r.department_code, r.rows) for r in november] == [("sthjj", 3)]
    assert compute_metrics(october, "2026-09") == []
    assert service.latest_month(october) == "2026-11"
    assert service.latest_month(october, accounts.find_department(october, "scjgj").id) == "2026-10"


def test_department_filter_and_bad_month(october):
    scjgj = accounts.find_department(october, "scjgj")
    rows = compute_metrics(october, "2026-10", scjgj.id)
    assert [r.department_code for r in rows] == ["scjgj"]
    with pytest.raises(DomainError, match="YYYY-MM"):
        compute_metrics(october, "2026-13")


def test_metrics_use_a_fixed_handful_of_grouped_queries(october, tmp_path):
    statements: list[str] = []
    engine = october.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", count)
    try:
        compute_metrics(october, "2026-10")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 6


def test_score_rules_full_marks_at_threshold_and_proportional_below():
    rules = load_rules()
    assert sum(m.weight for m in rules.metrics.values()) == 100
    assert all(m.threshold == 0.95 for k, m in rules.metrics.items() if k != "bad_code_rate")
    perfect = dict.fromkeys(service.METRICS, 0.95) | {"bad_code_rate": 0.05}
    assert service.score(perfect, rules) == 100.0
    half = dict.fromkeys(service.METRICS, 1.0) | {"bad_code_rate": 0.0, "compliance_rate": 0.475}
    assert service.score(half, rules) == 85.0  # compliance earns 15 of its 30
    not_applicable = dict.fromkeys(service.METRICS, 1.0) | {"bad_code_rate": 0.0, "timeliness_rate": None}
    assert service.score(not_applicable, rules) == 100.0
    assert service.score(dict.fromkeys(service.METRICS), rules) is None


def test_class_without_deadline_has_no_timeliness_and_completeness_counts_every_expected_field(session, tmp_path):
    cls = get_catalog().get("registration")
    assert cls.deadline_working_days is None
    assert len(cls.expected_fields) == 6
    base = {
        "主体名称": "南京钢铁联合有限公司",
        "统一社会信用代码": NANJING_STEEL,
        "主体类型": "有限责任公司",
        "成立日期": "1999-03-15",
        "登记机关": "南京市市场监督管理局",
        "登记状态": "存续",
    }
    header = [*base, "法定代表人（负责人、经营者）", "住所", "注册资本（万元）", "所属区县"]
    rows = [
        base | {"法定代表人（负责人、经营者）": "王建国", "住所": "南京市六合区卸甲甸"},
        base
        | {
            "统一社会信用代码": valid_uscc(60),
            "主体名称": "南京测试60有限公司",
            "法定代表人（负责人、经营者）": "李四",
            "注册资本（万元）": "100",
            "所属区县": "玄武区",
        },
    ]
    path = write_csv(tmp_path / "reg.csv", rows, header=header)
    dept = accounts.find_department(session, "scjgj")
    summary = ingest_file(
        session,
        path,
        department=dept,
        info_class="registration",
        actor=audit.SYSTEM,
        submitted_at=_local(2026, 10, 12, 9, 0),
    )
    assert summary.accepted == 2
    (row,) = compute_metrics(session, "2026-10")
    assert row.info_class == "registration" and row.records == 2
    assert row.timeliness_rate is None
    assert "该信息类无报送时限，及时率不适用" in row.notes
    assert (row.filled, row.expected_slots) == (5, 12)
    assert row.completeness == pytest.approx(5 / 12)
    assert row.score is not None


def test_unknown_holiday_year_falls_back_to_weekdays_and_says_so(session, tmp_path):
    clock.move(datetime(2100, 2, 1, tzinfo=clock.local_tz()) - clock.now())
    rows = [_row(40, "2099-12-30"), _row(41, "2100-01-05")]
    _ingest(session, tmp_path, "2100.csv", rows, _local(2100, 1, 12, 10, 0))
    session.commit()
    (row,) = compute_metrics(session, "2100-01")
    assert row.workday_fallback_years == [2099, 2100]
    assert "2100年节假日安排未知，按周一至周五计算" in row.notes
    # 2099-12-30 → 2100-01-12 is 9 weekdays (late); 2100-01-05 → 2100-01-12 is 5 (on time)
    assert (row.timely, row.timeliness_base) == (1, 2)


def _rows_of(ws) -> list[list]:
    return [[c.value for c in line] for line in ws.iter_rows()]


def test_notice_xlsx_has_title_summary_and_problems(october, tmp_path):
    rows = compute_metrics(october, "2026-10")
    out = tmp_path / "notice.xlsx"
    write_notice(rows, out, "2026-10")
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "问题说明"]
    ws = wb["汇总"]
    assert ws["A1"].value == "南京市公共信用信息归集质量通报（2026年10月）"
    header = [c.value for c in ws[3]]
    assert header[:4] == ["序号", "信息提供单位", "单位代码", "信息类"]
    col = {name: i + 1 for i, name in enumerate(header)}
    line = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, col["单位代码"]).value == "scjgj")
    assert ws.cell(line, col["信息提供单位"]).value == "南京市市场监督管理局"
    assert ws.cell(line, col["信息类"]).value == "行政处罚信息"
    assert ws.cell(line, col["报送条数"]).value == 10
    compliance = ws.cell(line, col["合规率"])
    assert compliance.value == pytest.approx(0.8) and compliance.number_format == "0.0%"
    assert compliance.fill.fgColor.rgb.endswith("FFC7CE")  # below 95 %: highlighted
    assert ws.cell(line, col["重错码率"]).value == pytest.approx(0.3)
    assert ws.cell(line, col["重错码率"]).fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(line, col["关联率"]).value == pytest.approx(6 / 7)
    assert ws.cell(line, col["得分"]).value == 75.4
    other = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, col["单位代码"]).value == "sthjj")
    assert ws.cell(other, col["合规率"]).fill.fgColor.rgb in (None, "00000000")  # on target: not highlighted
    problems = _rows_of(wb["问题说明"])
    reasons = [p for p in problems[2:] if p[0] == "南京市市场监督管理局"]
    assert reasons[0][2:6] == ["uscc_check", "统一社会信用代码错误", 2, reasons[0][5]]
    assert reasons[0][7] == BAD_USCC


def test_formula_in_a_rejected_value_is_written_as_text(session, tmp_path):
    rows = [_row(50, "2026-10-09", 处罚类别=INJECTION), _row(51, "2026-10-09")]
    _ingest(session, tmp_path, "evil.csv", rows, _local(2026, 10, 12, 10, 0))
    session.commit()
    out = io.BytesIO()
    write_notice(compute_metrics(session, "2026-10"), out, "2026-10")
    wb = load_workbook(io.BytesIO(out.getvalue()))
    cells = [
        c for line in wb["问题说明"].iter_rows() for c in line if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    starting = [c for c in cells if c.value.startswith("=")]
    assert starting, "the raw value should be shown as written"
    assert all(c.data_type == "s" and c.quotePrefix for c in starting)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert not any(re.search(r"<f>|<f ", xml) for xml in sheets)


# --- pages ------------------------------------------------------------------------------------------------


def _login(client, session, username: str, role: Role, **kw) -> None:
    make_user(session, username, role, **kw)
    session.commit()
    response = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303


def _quality_reads(db_url: str) -> list[AuditEvent]:
    with make_sessionmaker(get_engine(db_url))() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "quality.read")))


def test_anonymous_is_sent_to_login(client):
    for url in ("/console/quality", "/office/quality", "/office/quality/notice.xlsx"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_department_sees_its_own_quality_only(october, client, clean_db):
    _login(client, october, "scjgj-clerk", Role.DEPARTMENT)
    page = client.get("/console/quality")
    assert page.status_code == 200
    assert "南京市市场监督管理局" in page.text and "2026年10月" in page.text  # latest month with its batches
    assert "80.0%" in page.text and "75.4" in page.text
    assert "南京市生态环境局" not in page.text
    assert client.get("/console/quality?department=scjgj&month=2026-10").status_code == 200
    reads = _quality_reads(clean_db)
    assert len(reads) == 2 and all(e.actor.startswith("user:") for e in reads)
    assert {e.details["department"] for e in reads} == {"scjgj"}


def test_department_is_refused_other_departments_and_the_office_pages(october, client, clean_db):
    _login(client, october, "scjgj-clerk", Role.DEPARTMENT)
    assert client.get("/console/quality?department=sthjj").status_code == 403
    assert client.get("/office/quality").status_code == 403
    assert client.get("/office/quality/notice.xlsx?month=2026-10").status_code == 403
    assert client.get("/console/quality?month=2026-1").status_code == 400
    assert _quality_reads(clean_db) == []


def test_office_sees_all_departments_with_chart_and_notice(october, client, clean_db):
    _login(client, october, "officer", Role.CREDIT_OFFICE)
    page = client.get("/office/quality?month=2026-10&sort=score&order=asc")
    assert page.status_code == 200
    assert "南京市市场监督管理局" in page.text and "南京市生态环境局" in page.text
    assert "/static/vendor/echarts.min.js" in page.text
    data = re.search(r'<script type="application/json" id="quality-chart-data">(.*?)</script>', page.text, re.S)
    chart = json.loads(data.group(1))
    assert set(chart["categories"]) == {"南京市市场监督管理局", "南京市生态环境局"}
    scores = dict(zip(chart["categories"], chart["series"][0]["data"], strict=True))
    assert scores == {"南京市市场监督管理局": 75.4, "南京市生态环境局": 100.0}
    assert page.text.index("南京市市场监督管理局</th>") < page.text.index("南京市生态环境局</th>")  # worst first
    desc = client.get("/office/quality?month=2026-10&sort=score&order=desc").text
    assert desc.index("南京市生态环境局</th>") < desc.index("南京市市场监督管理局</th>")
    notice = client.get("/office/quality/notice.xlsx?month=2026-10")
    assert notice.status_code == 200
    assert notice.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in notice.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(notice.content))
    assert wb["汇总"]["A1"].value == "南京市公共信用信息归集质量通报（2026年10月）"
    views = sorted(e.details["view"] for e in _quality_reads(clean_db))
    assert views == ["notice", "office", "office"]


def test_office_page_defaults_to_latest_month(october, client):
    _login(client, october, "officer", Role.CREDIT_OFFICE)
    page = client.get("/office/quality")
    assert page.status_code == 200 and "2026年11月" in page.text


def test_office_page_says_when_holidays_are_unknown(session, client, tmp_path):
    clock.move(datetime(2100, 2, 1, tzinfo=clock.local_tz()) - clock.now())
    _ingest(session, tmp_path, "2100.csv", [_row(40, "2099-12-30")], _local(2100, 1, 12, 10, 0))
    _login(client, session, "officer", Role.CREDIT_OFFICE)
    page = client.get("/office/quality?month=2100-01")
    assert page.status_code == 200
    assert "2099年节假日安排未知，按周一至周五计算" in page.text
    assert "2100年节假日安排未知，按周一至周五计算" in page.text


def test_cli_report_writes_the_notice(october, tmp_path, clean_db):
    from xinyong.quality.cli import report_command

    out = tmp_path / "out" / "notice.xlsx"
    report_command("2026-10", "scjgj", out)
    ws = load_workbook(out)["汇总"]
    codes = [ws.cell(r, 3).value for r in range(4, ws.max_row + 1)]
    assert codes == ["scjgj"]
    assert _quality_reads(clean_db)[-1].details["view"] == "notice_cli"


def test_cli_report_refuses_a_bad_month(october, tmp_path):
    import typer

    from xinyong.quality.cli import report_command

    with pytest.raises(typer.Exit):
        report_command("2026/10", None, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_rules_file_is_checked(tmp_path):
    text = service.RULES_FILE.read_text(encoding="utf-8").replace("weight: 30", "weight: 31", 1)
    bad = tmp_path / "rules.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="权重之和须为 100"):
        load_rules(bad)
    bad.write_text(text.replace("weight: 31", "wieght: 30", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="wieght"):
        load_rules(bad)


def test_month_helpers():
    assert service.month_label("2026-03") == "2026年3月"
    start, end = service.month_range("2026-12")
    assert (start.isoformat(), end.isoformat()) == ("2026-11-30T16:00:00+00:00", "2026-12-31T16:00:00+00:00")
