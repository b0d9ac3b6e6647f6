"""`xinyong report`: issue a subject's credit report as a PDF from the command line. Registered in xinyong.cli."""

from __future__ import annotations

from pathlib import Path

from xinyong.cli import cli_actor, console, fail
from xinyong.core.errors import DomainError


def report_command(subject: str, kind: str, out: Path, purpose: str | None = None) -> None:
    """Issue one report (public | self | review) for the subject named by USCC or id and write it to `out`;
    `purpose` is printed in a review report's 审查用途 block. The issue is registered and audited like a download;
    the file is written only after the commit."""
    from xinyong.archive import service as archive
    from xinyong.core.db import unit_of_work
    from xinyong.reports import render, service
    from xinyong.reports.models import ReportKind

    if kind not in set(ReportKind):
        fail(f"报告类型应为 public、self 或 review，而不是 {kind}")
    try:
        with unit_of_work() as session:
            found = archive.subject_by_key(session, subject)
            issued = service.issue(session, found, ReportKind(kind), cli_actor(), purpose=purpose)
            serial, code = issued.report.serial, issued.report.verification_code
    except DomainError as exc:
        fail(exc.message)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(issued.pdf_bytes)
    console.print(f"已出具报告 {serial}（验证码 {render.group_code(code)}），写入 {out}")
