"""xinyong command line: each command is a thin call into a service. Everything reads XINYONG_DATABASE_URL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from xinyong.config import get_settings
from xinyong.core.audit import Actor
from xinyong.core.errors import DomainError

app = typer.Typer(help="xinyong 公共信用信息平台命令行", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库结构（迁移）", no_args_is_help=True)
user_app = typer.Typer(help="用户账号", no_args_is_help=True)
dept_app = typer.Typer(help="信息提供单位", no_args_is_help=True)
client_app = typer.Typer(help="接入系统（API 客户端）", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(dept_app, name="department")
app.add_typer(client_app, name="client")
app.add_typer(audit_app, name="audit")
quality_app = typer.Typer(help="数据质量", no_args_is_help=True)
app.add_typer(quality_app, name="quality")
batch_app = typer.Typer(help="报送批次", no_args_is_help=True)
jobs_app = typer.Typer(help="定时任务", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(batch_app, name="batch")

console = Console()
err = Console(stderr=True)


def cli_actor() -> Actor:
    import getpass

    name = getpass.getuser()
    return Actor(f"cli:{name}", f"命令行用户 {name}")


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]错误：[/red]{message}")
    raise typer.Exit(code)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int, typer.Option(help="进程数（PostgreSQL 时可大于 1）")] = 1,
) -> None:
    """启动门户网站与 API。"""
    import uvicorn

    uvicorn.run("xinyong.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库升级到最新结构，并补充预置的信息提供单位。"""
    from xinyong.accounts.service import seed_departments
    from xinyong.core import migrate
    from xinyong.core.db import unit_of_work

    url = get_settings().database_url
    migrate.upgrade(url)
    with unit_of_work(url) as session:
        added = seed_departments(session, cli_actor())
    console.print(f"数据库已是最新结构（{migrate.current(url)}），新增预置单位 {added} 个。")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="输出目录")],
    subjects: Annotated[int, typer.Option(help="主体数量")] = 1000,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同文件）")] = 2026,
    error_rate: Annotated[float, typer.Option(help="错误行比例")] = 0.03,
    as_of: Annotated[str | None, typer.Option(help="基准日期 YYYY-MM-DD（默认今天）")] = None,
) -> None:
    """生成演示城市的部门报送文件（CSV/GBK/XLSX/JSON）及清单 manifest.json。"""
    from datetime import date

    from xinyong.demo.generator import generate_city

    with progress_bar() as bar:
        task = bar.add_task("生成主体与报送文件", total=subjects)
        manifest = generate_city(
            subjects,
            seed,
            out,
            error_rate=error_rate,
            as_of=date.fromisoformat(as_of) if as_of else None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    rows = sum(f.rows for f in manifest.files)
    console.print(f"已生成 {len(manifest.files)} 个文件、{rows:,} 行，位于 {out}")


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[str, typer.Option(help="subject | department | credit_office | admin")],
    password: Annotated[str | None, typer.Option(help="密码（不填则交互输入）")] = None,
    name: Annotated[str | None, typer.Option(help="显示名称")] = None,
    department: Annotated[str | None, typer.Option(help="所属单位：单位代码或统一社会信用代码")] = None,
    subject: Annotated[str | None, typer.Option(help="关联主体：统一社会信用代码或主体编号")] = None,
) -> None:
    """新增用户。"""
    from xinyong.accounts import service
    from xinyong.archive import service as archive
    from xinyong.core.db import unit_of_work

    if password is None:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as session:
            dept_id = service.find_department(session, department).id if department else None
            subject_id = archive.subject_by_key(session, subject).id if subject else None
            user = service.create_user(
                session,
                cli_actor(),
                username=username,
                password=password,
                role=role,
                display_name=name,
                department_id=dept_id,
                subject_id=subject_id,
            )
            console.print(f"已创建用户 {user.username}（{role}）")
    except (DomainError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))


@dept_app.command("add")
def department_add(
    name: str,
    uscc: Annotated[str, typer.Option(help="单位统一社会信用代码")],
    code: Annotated[str | None, typer.Option(help="单位简码，如 scjgj（不填则用代码后六位生成）")] = None,
    short_name: Annotated[str | None, typer.Option(help="简称")] = None,
    level: Annotated[str, typer.Option(help="municipal | district | zone | public_service")] = "municipal",
    region: Annotated[str, typer.Option(help="行政区划代码")] = "320100",
) -> None:
    """新增信息提供单位。"""
    from xinyong.accounts import service
    from xinyong.core.db import unit_of_work

    try:
        with unit_of_work() as session:
            dept = service.add_department(
                session,
                cli_actor(),
                name=name,
                uscc=uscc,
                code=code,
                short_name=short_name,
                level=level,
                region_code=region,
            )
            console.print(f"已新增单位 {dept.name}（{dept.code}，{dept.uscc}）")
    except DomainError as exc:
        fail(exc.message)


@dept_app.command("list")
def department_list() -> None:
    """列出信息提供单位。"""
    from xinyong.accounts import service
    from xinyong.core.db import unit_of_work

    with unit_of_work() as session:
        table = Table("代码", "名称", "统一社会信用代码", "层级", "报送信息类")
        for d in service.list_departments(session):
            table.add_row(d.code, d.name, d.uscc, d.level, ", ".join(d.submits))
    console.print(table)


@client_app.command("add")
def client_add(
    name: str,
    permission: Annotated[list[str], typer.Option(help="权限：check submit query lending subscribe，可重复")],
    department: Annotated[str | None, typer.Option(help="代表的单位（报送用）")] = None,
) -> None:
    """新增接入系统，令牌只显示这一次。"""
    from xinyong.accounts import service
    from xinyong.core.db import unit_of_work

    try:
        with unit_of_work() as session:
            dept_id = service.find_department(session, department).id if department else None
            issued = service.create_client(
                session, cli_actor(), name=name, permissions=permission, department_id=dept_id
            )
    except DomainError as exc:
        fail(exc.message)
    err.print(f"已创建接入系统 {name}，权限：{', '.join(sorted(set(permission)))}。令牌只显示这一次，请妥善保存：")
    print(issued.token)


@audit_app.command("verify")
def audit_verify() -> None:
    """校验审计日志哈希链；发现篡改时指出第一处并以非零状态退出。"""
    from xinyong.core import audit
    from xinyong.core.db import get_sessionmaker

    sealed = audit.seal_all(get_sessionmaker())
    with get_sessionmaker()() as session:
        result = audit.verify(session)
    if result.ok:
        console.print(f"审计日志完好：共校验 {result.checked:,} 条事件（本次新封存 {sealed:,} 条）。")
        return
    err.print(
        f"[red]审计日志被篡改：[/red]第 {result.broken_seq} 号事件 — {result.reason}（此前 {result.checked:,} 条完好）"
    )
    raise typer.Exit(1)


@jobs_app.command("run-once")
def jobs_run_once() -> None:
    """执行一次全部定时任务：名单期满移出、订阅推送、逾期提醒、公示期满通知、月度评价、封存审计日志。"""
    from xinyong.core.db import get_sessionmaker
    from xinyong.jobs import run_once

    report = run_once(get_sessionmaker())
    d = report.deliveries
    console.print(
        f"期满移出 {report.expired} 条；推送 {d['attempted']} 次：成功 {d['delivered']}，"
        f"待重试 {d['retrying']}，失败 {d['failed']}；逾期提醒 {report.reminders} 条；"
        f"公示期满通知 {report.publicity_ended} 条；封存审计事件 {report.sealed} 条。"
    )


@audit_app.command("seal")
def audit_seal() -> None:
    """把已提交、尚未链接的审计事件按顺序封存进哈希链（网站进程每隔几秒自动执行）。"""
    from xinyong.core import audit
    from xinyong.core.db import get_sessionmaker

    console.print(f"已封存 {audit.seal_all(get_sessionmaker()):,} 条审计事件。")


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
    """平台数据量统计。"""
    from sqlalchemy import func, select

    from xinyong.archive import service as archive
    from xinyong.collection.models import Batch
    from xinyong.core.db import get_sessionmaker

    with get_sessionmaker()() as session:
        s = archive.stats(session)
        batches = session.scalar(select(func.count()).select_from(Batch)) or 0
    data = {"subjects": s.subjects, "records": s.records, "current_records": s.current_records, "batches": batches}
    if as_json:
        print(json.dumps(data))
    else:
        for k, v in data.items():
            console.print(f"{k}: {v:,}")


@quality_app.command("report")
def quality_report(
    month: Annotated[str, typer.Option(help="统计月份 YYYY-MM（按报送时间，北京时间）")],
    out: Annotated[Path, typer.Option(help="输出的 XLSX 文件")],
    department: Annotated[str | None, typer.Option(help="只统计一个单位：单位代码或统一社会信用代码")] = None,
) -> None:
    """生成月度数据质量通报（XLSX）。"""
    from xinyong.quality.cli import report_command

    report_command(month, department, out)


@app.command()
def report(
    subject: Annotated[str, typer.Argument(help="信用主体：统一社会信用代码或主体编号")],
    out: Annotated[Path, typer.Option(help="输出的 PDF 文件")],
    kind: Annotated[
        str, typer.Option(help="报告类型：public（公示版）| self（本主体查询版）| review（信用审查报告）")
    ] = "public",
    purpose: Annotated[str | None, typer.Option(help="审查用途（仅信用审查报告）")] = None,
) -> None:
    """出具信用报告（PDF，含报告编号、验证码和核验二维码）；出具记入审计日志。"""
    from xinyong.reports.cli import report_command

    report_command(subject, kind, out, purpose)


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="评价模型：general 或行业模型代码")] = "general",
    as_of: Annotated[str | None, typer.Option("--as-of", help="评价日期 YYYY-MM-DD（默认今天）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """对全部主体进行公共信用综合评价并保存结果（一次集合运算，保留历史）。"""
    from xinyong.evaluation.cli import evaluate_command

    evaluate_command(model, as_of, as_json)


inspection_app = typer.Typer(help="双随机抽查", no_args_is_help=True)
app.add_typer(inspection_app, name="inspection")


@inspection_app.command("verify")
def inspection_verify(
    plan: Annotated[int, typer.Argument(help="抽查计划编号")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """用公开的种子重算抽查结果并与记录比对（不一致时退出码 1）。"""
    from xinyong.supervision.cli import verify_command

    verify_command(plan, as_json)


@batch_app.command("rejections")
def batch_rejections(
    batch_id: int,
    out: Annotated[Path, typer.Option(help="输出文件，.xlsx 或 .csv")],
) -> None:
    """导出一个批次的退回明细。"""
    from xinyong.collection import report, service
    from xinyong.core import audit
    from xinyong.core.db import unit_of_work

    fmt = "xlsx" if out.suffix.lower() == ".xlsx" else "csv"
    try:
        with unit_of_work() as session:
            batch = service.get_batch_for(session, batch_id, None)
            content, _, _ = report.render(session, batch, fmt)
            audit.record(session, cli_actor(), "batch.rejections.read", "batch", batch.id, {"format": fmt})
    except DomainError as exc:
        fail(exc.message)
    out.write_bytes(content)
    console.print(f"已导出批次 {batch_id} 的退回明细：{out}")


def main() -> None:  # pragma: no cover - console entry
    try:
        app()
    except DomainError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        sys.exit(1)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="报送文件：CSV（UTF-8/GBK/GB18030）、XLSX 或 JSON")],
    department: Annotated[str, typer.Option(help="报送单位：单位代码或统一社会信用代码")],
    info_class: Annotated[str, typer.Option("--class", help="信息类，如 admin_penalty、admin_license、registration")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出批次结果")] = False,
    submitted_at: Annotated[str | None, typer.Option(help="历史数据补录时的原报送日期 YYYY-MM-DD")] = None,
) -> None:
    """导入一个报送文件：校验、关联主体、版本化入库；整批成功或整批不生效。"""
    from xinyong.accounts import service as accounts
    from xinyong.collection import service
    from xinyong.core.db import unit_of_work

    if not path.is_file():
        fail(f"找不到文件：{path}")
    when = _local_noon(submitted_at) if submitted_at else None
    try:
        with unit_of_work() as session, progress_bar() as bar:
            task = bar.add_task(f"导入 {path.name}", total=None)
            dept = accounts.find_department(session, department)
            summary = service.ingest_file(
                session,
                path,
                department=dept,
                info_class=info_class,
                actor=cli_actor(),
                channel="cli",
                submitted_at=when,
                progress=lambda n: bar.update(task, completed=n),
            )
            bar.update(task, total=summary.rows, completed=summary.rows)
    except DomainError as exc:
        fail(exc.message)
    if as_json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    console.print(
        f"批次 {summary.batch_id}：共 {summary.rows:,} 行，入库 {summary.accepted:,}"
        f"（其中新版本 {summary.new_versions:,}，撤销 {summary.withdrawn:,}），"
        f"重复 {summary.duplicates:,}，退回 {summary.rejected:,}。"
    )
    if summary.unknown_columns:
        console.print(f"[yellow]未识别的列（已忽略）：[/yellow]{'、'.join(summary.unknown_columns)}")
    if summary.rejected:
        console.print(f"退回明细：xinyong batch rejections {summary.batch_id} --out 退回明细.xlsx")


def _local_noon(day: str):
    from datetime import date, datetime, time

    from xinyong.core import clock

    try:
        d = date.fromisoformat(day)
    except ValueError:
        fail(f"日期格式应为 YYYY-MM-DD：{day}")
        raise
    return datetime.combine(d, time(10, 0), tzinfo=clock.local_tz())


@app.command()
def demo(
    subjects: Annotated[int, typer.Option(help="演示城市的主体数量")] = 2000,
    seed: Annotated[int, typer.Option(help="随机种子")] = 2026,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="构建后启动网站")] = True,
    rebuild: Annotated[bool, typer.Option(help="删除已有演示库后重建")] = False,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """构建演示城市（升级数据库、生成并导入部门报送文件、创建演示账号），然后启动网站。"""
    from xinyong.demo import builder

    settings = get_settings()
    if settings.environment == "production":
        fail("生产环境不能构建演示数据")
    with progress_bar() as bar:
        task = bar.add_task("构建演示城市", total=None)

        def step(label: str, done: int, total: int | None) -> None:
            bar.update(task, description=label, completed=done, total=total)

        result = builder.build_demo(settings, subjects=subjects, seed=seed, rebuild=rebuild, progress=step)
    builder.print_summary(console, result)
    if serve_after:
        serve(host=host, port=port, workers=1)
