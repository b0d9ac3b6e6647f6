"""The three channels share one service: CLI, HTTP push with department credentials, console upload page."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.builders import PASSWORD, make_user
from tests.collection.files import penalty, write_csv
from xinyong.accounts import service as accounts
from xinyong.archive.models import CreditRecord
from xinyong.cli import app as cli
from xinyong.core import audit
from xinyong.core.audit import AuditEvent

DOC = "行政处罚决定书文号"


def _client_token(session, dept_code: str = "scjgj", permissions=("submit",)) -> str:
    dept = accounts.find_department(session, dept_code)
    issued = accounts.create_client(
        session, audit.SYSTEM, name=f"{dept_code}-前置机", permissions=list(permissions), department_id=dept.id
    )
    session.commit()
    return issued.token


def test_cli_ingest_prints_json_summary_and_stats(session, tmp_path):
    path = write_csv(tmp_path / "p.csv", [penalty(), penalty(**{DOC: "X-2", "处罚决定日期": "2026-13-01"})], "gbk")
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(path), "--department", "scjgj", "--class", "admin_penalty", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("rows", "accepted", "new_versions", "duplicates", "withdrawn", "rejected")} == {
        "rows": 2,
        "accepted": 1,
        "new_versions": 0,
        "duplicates": 0,
        "withdrawn": 0,
        "rejected": 1,
    }
    assert isinstance(summary["batch_id"], int)
    stats = runner.invoke(cli, ["stats", "--json"])
    assert json.loads(stats.stdout) == {"subjects": 1, "records": 1, "current_records": 1, "batches": 1}


def test_cli_ingest_unknown_department_or_class_fails_clearly(session, tmp_path):
    path = write_csv(tmp_path / "p.csv", [penalty()])
    runner = CliRunner()
    bad = runner.invoke(cli, ["ingest", str(path), "--department", "nope", "--class", "admin_penalty"])
    assert bad.exit_code == 1 and "找不到单位" in bad.output
    bad = runner.invoke(cli, ["ingest", str(path), "--department", "scjgj", "--class", "no_such_class"])
    assert bad.exit_code == 1 and "no_such_class" in bad.output


def test_api_push_needs_submit_permission_and_a_department(session, client, tmp_path):
    path = write_csv(tmp_path / "p.csv", [penalty()])
    files = {"file": ("处罚.csv", path.read_bytes(), "text/csv")}
    assert client.post("/api/v1/batches", files=files, data={"info_class": "admin_penalty"}).status_code == 401
    checker = accounts.create_client(session, audit.SYSTEM, name="采购系统", permissions=["check"]).token
    session.commit()
    r = client.post(
        "/api/v1/batches",
        files=files,
        data={"info_class": "admin_penalty"},
        headers={"Authorization": f"Bearer {checker}"},
    )
    assert r.status_code == 403 and "数据报送" in r.json()["message"]


def test_api_push_stores_batch_and_serves_its_report_and_lineage(session, client, tmp_path):
    token = _client_token(session)
    auth = {"Authorization": f"Bearer {token}"}
    bad = penalty(
        **{
            DOC: "X-9",
            "行政相对人代码_1（统一社会信用代码）": "91320100748204660A",
            "违法事实": '=HYPERLINK("http://evil","点我")',
        }
    )
    path = write_csv(tmp_path / "p.csv", [penalty(), bad], "gbk")
    r = client.post(
        "/api/v1/batches",
        files={"file": ("三月处罚.csv", path.read_bytes(), "text/csv")},
        data={"info_class": "admin_penalty"},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["rows"], body["accepted"], body["rejected"], body["encoding"]) == (2, 1, 1, "gbk")
    batch_id = body["batch_id"]
    assert client.get(f"/api/v1/batches/{batch_id}", headers=auth).json()["rejected"] == 1

    report = client.get(f"/api/v1/batches/{batch_id}/rejections?format=csv", headers=auth)
    assert report.status_code == 200 and report.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["原文件行号", "出错列", "错误代码"] and rows[1][2] == "uscc_check"
    assert '\'=HYPERLINK("http://evil","点我")' in rows[1]

    xlsx = client.get(f"/api/v1/batches/{batch_id}/rejections?format=xlsx", headers=auth)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)

    record_id = session.scalar(select(CreditRecord.id))
    lineage = client.get(f"/api/v1/records/{record_id}/lineage", headers=auth).json()
    assert lineage["batch"]["file_name"] == "三月处罚.csv" and lineage["source_row"] == 2
    assert lineage["batch"]["submitted_by"].startswith("client:")
    session.rollback()  # end the test's read snapshot to see what the app committed
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"batch.ingest", "batch.rejections.read", "record.lineage.read"} <= actions


def test_api_other_department_cannot_see_the_batch(session, client, tmp_path):
    mine = _client_token(session, "scjgj")
    theirs = _client_token(session, "sthjj")
    path = write_csv(tmp_path / "p.csv", [penalty()])
    batch_id = client.post(
        "/api/v1/batches",
        files={"file": ("p.csv", path.read_bytes(), "text/csv")},
        data={"info_class": "admin_penalty"},
        headers={"Authorization": f"Bearer {mine}"},
    ).json()["batch_id"]
    r = client.get(f"/api/v1/batches/{batch_id}", headers={"Authorization": f"Bearer {theirs}"})
    assert r.status_code == 404


def test_api_bad_file_is_refused_whole_with_a_chinese_message(session, client, tmp_path):
    token = _client_token(session)
    r = client.post(
        "/api/v1/batches",
        files={"file": ("p.csv", "名称,备注\n某公司,x\n".encode(), "text/csv")},
        data={"info_class": "admin_penalty"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 400 and r.json()["error"] == "missing_columns" and "缺少必填列" in r.json()["message"]
    empty = client.post(
        "/api/v1/batches",
        files={"file": ("p.csv", b"", "text/csv")},
        data={"info_class": "admin_penalty"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert empty.status_code == 400 and empty.json()["error"] == "file_empty"
    assert session.scalar(select(func.count()).select_from(CreditRecord)) == 0


def _login(client, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def test_console_upload_shows_outcome_and_rejection_download(session, client, tmp_path):
    make_user(session, "clerk", role="department")
    session.commit()
    assert client.get("/console", follow_redirects=False).status_code == 303
    _login(client, "clerk")
    page = client.get("/console")
    assert page.status_code == 200 and "南京市市场监督管理局" in page.text
    path = write_csv(tmp_path / "p.csv", [penalty(), penalty(**{DOC: "X-2", "处罚决定日期": "明天"})], "gbk")
    r = client.post(
        "/console/upload",
        files={"file": ("处罚.csv", path.read_bytes(), "text/csv")},
        data={"info_class": "admin_penalty"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "退回明细" in r.text and "bad_date" in r.text
    assert "无法识别的日期" in r.text
    link = f"/console/batches/{r.url.path.rsplit('/', 1)[-1]}/rejections.xlsx"
    assert client.get(link).headers["content-type"].startswith("application/vnd.openxmlformats")


def test_console_refuses_public_and_other_roles(session, client):
    make_user(session, "officer2", role="credit_office")
    session.commit()
    _login(client, "officer2")
    assert client.get("/console").status_code == 200
    client.post("/logout")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_office_overview_counts_rejections_and_open_reviews(session, client, tmp_path):
    make_user(session, "officer3", role="credit_office")
    make_user(session, "clerk3", role="department")
    session.commit()
    from xinyong.accounts.service import find_department
    from xinyong.collection.service import ingest_file

    rows = [
        penalty(),
        penalty(**{DOC: "X-2", "处罚决定日期": "bad"}),
        penalty(
            **{
                DOC: "X-3",
                "行政相对人名称": "无名商行",
                "行政相对人类别": "个体工商户",
                "行政相对人代码_1（统一社会信用代码）": "00000000000000000X",
            }
        ),
    ]
    ingest_file(
        session,
        write_csv(tmp_path / "p.csv", rows),
        department=find_department(session, "scjgj"),
        info_class="admin_penalty",
        actor=audit.SYSTEM,
    )
    session.commit()
    _login(client, "clerk3")
    assert client.get("/office").status_code == 403
    client.post("/logout")
    _login(client, "officer3")
    page = client.get("/office").text
    assert "信用办工作台" in page
    assert [int(n) for n in __import__("re").findall(r"<strong>([\d,]+)</strong>", page)] == [1, 3, 1, 1]


def test_office_resolves_a_name_only_record_as_a_new_version(session, client, tmp_path):
    from tests.builders import make_subject
    from xinyong.accounts.service import find_department
    from xinyong.archive.identifiers import make_uscc
    from xinyong.collection.models import LinkReview
    from xinyong.collection.service import ingest_file

    a = make_subject(session, name="南京同名商行", uscc=make_uscc("9", "2", "320102", "88000001"))
    make_subject(session, name="南京同名商行", uscc=make_uscc("9", "2", "320104", "88000002"))
    make_user(session, "officer4", role="credit_office")
    rows = [
        penalty(
            **{
                DOC: "N-1",
                "行政相对人名称": "南京同名商行",
                "行政相对人类别": "个体工商户",
                "行政相对人代码_1（统一社会信用代码）": "00000000000000000X",
            }
        )
    ]
    ingest_file(
        session,
        write_csv(tmp_path / "p.csv", rows),
        department=find_department(session, "scjgj"),
        info_class="admin_penalty",
        actor=audit.SYSTEM,
    )
    session.commit()
    review = session.scalar(select(LinkReview))
    _login(client, "officer4")
    page = client.get("/office/reviews").text
    assert "南京同名商行" in page and a.uscc in page
    r = client.post(f"/office/reviews/{review.id}", data={"subject_id": a.uscc}, follow_redirects=False)
    assert r.status_code == 303
    session.rollback()
    versions = session.scalars(
        select(CreditRecord).where(CreditRecord.decision_no == "N-1").order_by(CreditRecord.version)
    ).all()
    assert [(v.version, v.is_current, v.subject_id, v.link_method) for v in versions] == [
        (1, False, None, "review"),
        (2, True, a.id, "manual"),
    ]
    assert versions[0].content_hash == versions[1].content_hash
    assert client.post(f"/office/reviews/{review.id}", data={"subject_id": a.uscc}).status_code == 409
    assert "没有待关联的记录" in client.get("/office/reviews").text


def test_batch_page_names_derived_and_uncheckable_columns_of_a_v1_file(session, client, tmp_path):
    make_user(session, "clerk5", role="department")
    session.commit()
    v1 = {
        "CF_WSH": "宁市监罚〔2026〕7号",
        "CF_CFMC": "销售不合格产品",
        "CF_CFLB1": "罚款",
        "CF_SY": "销售不合格产品",
        "CF_YJ": "产品质量法第四十九条",
        "CF_XDR_MC": "南京钢铁联合有限公司",
        "CF_XDR_SHXYM": "91320100748204660Q",
        "CF_FR": "王建国",
        "CF_JG": "罚款2万元",
        "CF_JDRQ": "2026-03-05",
        "CF_XZJG": "南京市市场监督管理局",
    }
    _login(client, "clerk5")
    r = client.post(
        "/console/upload",
        files={"file": ("v1.csv", write_csv(tmp_path / "v1.csv", [v1]).read_bytes(), "text/csv")},
        data={"info_class": "admin_penalty"},
    )
    assert r.status_code == 200 and "已按目录规则补全" in r.text and "数据来源单位" in r.text
    assert "无法逐行校验" in r.text and "罚款金额" in r.text
