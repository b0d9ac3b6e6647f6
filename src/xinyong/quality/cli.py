"""`xinyong quality report`: the monthly notice (通报) as XLSX, from the command line. Registered in xinyong.cli."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console

from xinyong.core import audit
from xinyong.core.audit import Actor
from xinyong.core.errors import DomainError


def report_command(month: str, department: str | None, out: Path) -> None:
    """Compute the month's quality rows (one department or all) and write the notice; the export is audited."""
    from xinyong.accounts import service as accounts
    from xinyong.core.db import unit_of_work
    from xinyong.quality import service

    console, err = Console(), Console(stderr=True)
    name = getpass.getuser()
    actor = Actor(f"cli:{name}", f"命令行用户 {name}")
    try:
        with unit_of_work() as session:
            dept = accounts.find_department(session, department) if department else None
            rows = service.compute_metrics(session, month, dept.id if dept else None)
            out.parent.mkdir(parents=True, exist_ok=True)
            service.write_notice(rows, out, month)
            audit.record(
                session,
                actor,
                "quality.read",
                "quality",
                month,
                {"view": "notice_cli", "month": month, "department": dept.code if dept else None, "rows": len(rows)},
            )
    except DomainError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    units = len({r.department_id for r in rows})
    console.print(f"{service.month_label(month)}质量通报：{units} 个单位、{len(rows)} 行，已写入 {out}")
    for year in service.fallback_years(rows):
        console.print(f"[yellow]{service.fallback_note(year)}[/yellow]")
