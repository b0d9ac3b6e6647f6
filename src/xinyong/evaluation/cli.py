"""`xinyong evaluate`: score every subject and store the run. Registered in xinyong.cli."""

from __future__ import annotations

import getpass
import json
import time
from datetime import date

import typer
from rich.console import Console

from xinyong.core.audit import Actor
from xinyong.core.errors import DomainError


def evaluate_command(model: str, as_of: str | None, as_json: bool) -> None:
    """Run the evaluation in one transaction; print the grade counts (or JSON)."""
    from xinyong.core.db import unit_of_work
    from xinyong.evaluation import service

    console, err = Console(), Console(stderr=True)
    name = getpass.getuser()
    actor = Actor(f"cli:{name}", f"命令行用户 {name}")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"[red]错误：[/red]日期格式应为 YYYY-MM-DD：{as_of}")
        raise typer.Exit(2) from None
    start = time.perf_counter()
    try:
        with unit_of_work() as session:
            run = service.evaluate(
                session, model=model, as_of=day, actor=actor, progress=None if as_json else err.print
            )
    except DomainError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    seconds = round(time.perf_counter() - start, 2)
    data = {
        "run_id": run.id,
        "model": run.model,
        "version": run.version,
        "as_of": run.as_of.isoformat(),
        "subjects": run.subjects,
        "grade_counts": run.grade_counts,
        "seconds": seconds,
    }
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    console.print(
        f"评价批次 #{run.id}：{run.model} {run.version}，评价日期 {run.as_of}，{run.subjects:,} 个主体，{seconds} 秒"
    )
    for grade, n in run.grade_counts.items():
        console.print(f"  {grade}: {n:,}")
