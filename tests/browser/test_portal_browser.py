"""A person on a phone: searches, opens a credit page (browser test, Debian chromium)."""

from __future__ import annotations

import pytest

from tests.collection.files import penalty, write_csv
from xinyong.accounts.service import find_department
from xinyong.collection.service import ingest_file
from xinyong.core import audit

pytestmark = pytest.mark.browser


def test_search_and_open_a_subject_page_on_a_phone(session, live_server, page, tmp_path):
    path = write_csv(tmp_path / "p.csv", [penalty()], encoding="gbk")
    ingest_file(
        session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
    )
    session.commit()
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "信用查询"
    page.fill("input[name=q]", "南京钢铁")
    page.click("button[type=submit]")
    page.wait_for_url("**/search?q=*")
    assert "共找到 1 个信用主体" in page.content()
    page.click("text=南京钢铁联合有限公司")
    page.wait_for_url("**/subjects/*")
    assert page.locator("h1").inner_text() == "南京钢铁联合有限公司"
    assert page.locator("table").inner_text().count("宁市监罚〔2026〕101号") == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must not scroll sideways on a phone"


def test_download_a_public_credit_report_and_read_its_chinese_text(session, live_server, page, tmp_path):
    import subprocess

    path = write_csv(tmp_path / "p.csv", [penalty()], encoding="gbk")
    ingest_file(
        session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
    )
    session.commit()
    page.goto(live_server + "/search?q=91320100748204660Q")
    page.click("text=南京钢铁联合有限公司")
    with page.expect_download() as info:
        page.click("text=下载信用报告（公示版）")
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "南京钢铁联合有限公司" in text and "行政管理" in text and "宁市监罚〔2026〕101号" in text
    code = next(line for line in text.splitlines() if line.count("-") == 3 and len(line.strip()) == 19).strip()
    page.goto(f"{live_server}/verify/{code}")
    assert "真实有效" in page.content()
