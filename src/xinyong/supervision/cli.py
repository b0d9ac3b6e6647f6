"""`xinyong inspection verify PLAN`: re-run a published draw from its seed. Registered in xinyong.cli."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from xinyong.core.errors import DomainError


def verify_command(plan_id: int, as_json: bool = False) -> None:
    """Exit 0 when the stored draw is exactly what the revealed seed gives, 1 otherwise."""
    from xinyong.core.db import unit_of_work
    from xinyong.supervision import service

    console, err = Console(), Console(stderr=True)
    try:
        with unit_of_work() as session:
            plan = service.get_or_raise(session, plan_id)
            result = service.verify(session, plan)
            name, digest = plan.name, plan.seed_hash
    except DomainError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    if as_json:
        print(
            json.dumps(
                {"plan_id": plan_id, "ok": result.ok, "targets": result.targets, "problems": result.problems},
                ensure_ascii=False,
            )
        )
    elif result.ok:
        console.print(
            f"抽查计划 #{plan_id}「{name}」核验通过：{result.targets} 个抽查对象与种子（哈希 {digest}）重算结果一致"
        )
    else:
        err.print(f"[red]抽查计划 #{plan_id}「{name}」核验不通过：[/red]")
        for p in result.problems:
            err.print(f"  {p}")
    if not result.ok:
        raise typer.Exit(1)
