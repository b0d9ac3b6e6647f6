"""Build the demo city: migrate, seed, generate department files, load them through the collection pipeline
(exactly as departments would), create one login per role. Idempotent: an existing demo is served as it is."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from xinyong.accounts import service as accounts
from xinyong.accounts.models import ApiClient, Role, User
from xinyong.archive.models import CreditRecord, Subject
from xinyong.collection.service import ingest_file
from xinyong.config import Settings
from xinyong.core import audit, clock, migrate
from xinyong.core.audit import Actor
from xinyong.core.db import get_engine, unit_of_work
from xinyong.demo.generator import Manifest, generate_city
from xinyong.evaluation import service as evaluation

DEMO_PASSWORD = "xinyong-demo-2026"
DEMO_ACTOR = Actor("cli:demo", "演示数据构建")
Progress = Callable[[str, int, int | None], None]


@dataclass
class DemoResult:
    built: bool
    subjects: int = 0
    records: int = 0
    files: int = 0
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    mismatches: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    tokens: list[tuple[str, str]] = field(default_factory=list)
    listed: int = 0
    checks: int = 0
    graded: int = 0


def _remove_sqlite(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        get_engine(url).dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


def build_demo(
    settings: Settings,
    *,
    subjects: int,
    seed: int,
    rebuild: bool = False,
    progress: Progress | None = None,
    as_of: date | None = None,
) -> DemoResult:
    say = progress or (lambda *_: None)
    url = settings.database_url
    if rebuild:
        _remove_sqlite(url)
    say("升级数据库结构", 0, None)
    migrate.upgrade(url)
    with unit_of_work(url) as session:
        accounts.seed_departments(session, DEMO_ACTOR)
        existing = session.scalar(select(func.count()).select_from(Subject)) or 0
    result = DemoResult(built=existing == 0)
    started = time.monotonic()
    if result.built:
        out = settings.var_dir / "demo"
        shutil.rmtree(out, ignore_errors=True)
        manifest = generate_city(subjects, seed, out, as_of=as_of, progress=lambda d, t: say("生成部门报送文件", d, t))
        _load(url, out, manifest, result, say)
        with unit_of_work(url) as session:
            result.tokens = _create_accounts(session)
        with unit_of_work(url) as session:
            result.listed, result.checks = _lists_and_checks(session)
        with unit_of_work(url) as session:
            say("信用综合评价", 0, None)
            result.graded = evaluation.evaluate(session, "general", as_of, actor=DEMO_ACTOR).subjects
        with unit_of_work(url) as session:
            say("双随机抽查计划", 0, None)
            _inspections(session)
        with unit_of_work(url) as session:
            say("信用修复、异议和信用承诺", 0, None)
            _workflows(session)
    with unit_of_work(url) as session:
        result.subjects = session.scalar(select(func.count()).select_from(Subject)) or 0
        result.records = session.scalar(select(func.count()).select_from(CreditRecord)) or 0
        result.logins = _logins(session)
    result.seconds = time.monotonic() - started
    return result


def _load(url: str, out: Path, manifest: Manifest, result: DemoResult, say: Progress) -> None:
    order = sorted(manifest.files, key=lambda f: (f.info_class != "registration", f.submitted_on, f.path))
    now = clock.now()
    for i, f in enumerate(order, start=1):
        say(f"导入 {f.path}", i, len(order))
        submitted = datetime.combine(date.fromisoformat(f.submitted_on), dtime(10, 0), tzinfo=clock.local_tz())
        with unit_of_work(url) as session:
            dept = accounts.find_department(session, f.department)
            s = ingest_file(
                session,
                out / f.path,
                department=dept,
                info_class=f.info_class,
                actor=DEMO_ACTOR,
                channel="cli",
                submitted_at=min(submitted, now),
            )
        result.files += 1
        result.rows += s.rows
        result.accepted += s.accepted
        result.duplicates += s.duplicates
        result.rejected += s.rejected
        if (s.accepted + s.duplicates, s.rejected) != (f.expected_valid, f.expected_rejected):
            result.mismatches.append(
                f"{f.path}: 预期有效 {f.expected_valid}/退回 {f.expected_rejected}，"
                f"实际 {s.accepted + s.duplicates}/{s.rejected}"
            )


def _create_accounts(session: Any) -> list[tuple[str, str]]:
    """One login per role and two API clients; the subject login is the firm with the most records."""

    def user(username: str, role: Role, name: str, **kw: Any) -> None:
        accounts.create_user(
            session, DEMO_ACTOR, username=username, password=DEMO_PASSWORD, role=role, display_name=name, **kw
        )

    user("admin", Role.ADMIN, "系统管理员")
    user("xinyongban", Role.CREDIT_OFFICE, "市信用办 王主任")
    scjgj = accounts.find_department(session, "scjgj")
    user("scjgj", Role.DEPARTMENT, "市市场监管局 报送员", department_id=scjgj.id)
    firm = session.execute(
        select(CreditRecord.subject_id, func.count())
        .join(Subject, Subject.id == CreditRecord.subject_id)
        .where(Subject.kind == "legal_person", CreditRecord.is_current.is_(True))
        .group_by(CreditRecord.subject_id)
        .order_by(func.count().desc(), CreditRecord.subject_id)
        .limit(1)
    ).first()
    if firm:
        name = session.get(Subject, firm[0]).name
        user("qiye", Role.SUBJECT, name, subject_id=firm[0])
    check = accounts.create_client(session, DEMO_ACTOR, name="演示：政府采购系统", permissions=["check"])
    push = accounts.create_client(
        session, DEMO_ACTOR, name="演示：市市场监管局前置机", permissions=["submit"], department_id=scjgj.id
    )
    audit.record(session, DEMO_ACTOR, "demo.build", "platform", "demo", {})
    return [(check.client.name, check.token), (push.client.name, push.token)]


def _lists_and_checks(session: Any) -> tuple[int, int]:
    """Run the statutory listing procedure for the firms with the most serious penalties, enter some A-level
    taxpayers, and let the demo procurement system check a few subjects and report back — so the lists, measures
    and statistics pages have something real to show."""
    from xinyong.lists import service as lists
    from xinyong.measures import service as measures

    serious = list(
        session.scalars(
            select(CreditRecord.subject_id)
            .join(Subject, Subject.id == CreditRecord.subject_id)
            .where(
                CreditRecord.info_class == "admin_penalty",
                CreditRecord.is_current.is_(True),
                CreditRecord.severity == "serious",
                Subject.kind == "legal_person",
            )
            .group_by(CreditRecord.subject_id)
            .order_by(func.count().desc(), CreditRecord.subject_id)
            .limit(3)
        )
    )
    listed = 0
    for i, subject_id in enumerate(serious, start=1):
        subject = session.get(Subject, subject_id)
        entry = lists.propose(
            session,
            DEMO_ACTOR,
            list_type="samr_serious_illegal",
            subject=subject,
            reason="多次严重违法，经市场监管部门认定为严重违法失信行为",
        )
        lists.notify(session, entry, DEMO_ACTOR, doc_no=f"宁市监告〔2026〕{i}号")
        lists.record_statement(
            session,
            entry,
            DEMO_ACTOR,
            statement="当事人提交陈述申辩意见",
            reply="经复核，申辩理由不成立",
            doc_no=f"宁市监复〔2026〕{i}号",
        )
        lists.decide(session, entry, DEMO_ACTOR, doc_no=f"宁市监列〔2026〕{i}号")
        lists.publish(session, entry, DEMO_ACTOR)
        listed += 1
    clean = list(
        session.scalars(
            select(Subject)
            .where(Subject.kind == "legal_person", Subject.id.not_in(serious or [0]))
            .order_by(Subject.id)
            .limit(5)
        )
    )
    for subject in clean[:2]:
        lists.enter_incentive(
            session, DEMO_ACTOR, list_type="tax_a_level", subject=subject, reason="2025年度纳税信用评价为A级"
        )
        listed += 1
    client = session.scalar(select(ApiClient).where(ApiClient.name == "演示：政府采购系统"))
    checked = 0
    for subject_id in [*serious, *(s.id for s in clean)]:
        result = measures.check(session, session.get(Subject, subject_id), "government_procurement", client)
        checked += 1
        for m in result.measures[:1]:
            measures.feedback(session, result.check_id, m["code"], True, "已按规定执行", client)
    return listed, checked


def _inspections(session: Any) -> None:
    """One published 双随机 plan of the market-supervision bureau with a few results, and one drawn but not yet
    revealed, so /inspections shows both the seed-hash-first state and the published draw."""
    from datetime import timedelta

    from xinyong.supervision import results, service

    scjgj = accounts.find_department(session, "scjgj")
    today = clock.today()
    common = {
        "department_id": scjgj.id,
        "period_start": today - timedelta(days=60),
        "period_end": today + timedelta(days=30),
        "inspectors": ["王建国", "李志强", "陈晓燕", "周明", "吴海涛", "郑丽"],
    }
    plan = service.create_plan(
        session,
        DEMO_ACTOR,
        name=f"{today.year}年度企业年度报告公示信息双随机抽查",
        items=["年度报告公示信息", "登记事项"],
        scope={"subject_kinds": ["legal_person"]},
        **common,
    )
    targets = service.draw(session, plan, DEMO_ACTOR)
    service.reveal(session, plan, DEMO_ACTOR)
    outcomes = [
        ("no_problem", ""),
        ("rectification_ordered", "年度报告中从业人数与社保缴纳人数不一致，已责令限期改正"),
        ("no_problem", ""),
        ("case_filed", "年度报告公示信息隐瞒真实情况，已立案调查"),
        ("not_found", "通过登记的住所无法联系"),
    ]
    for i, (draw, (code, findings)) in enumerate(zip(targets, outcomes, strict=False)):
        results.record_result(
            session,
            plan,
            DEMO_ACTOR,
            subject_id=draw.subject_id,
            result=code,
            inspected_on=today - timedelta(days=10 - i),
            inspector=draw.inspector,
            findings=findings,
        )
    later = service.create_plan(
        session,
        DEMO_ACTOR,
        name="江宁区食品经营单位双随机抽查",
        items=["食品经营许可", "进货查验记录"],
        scope={"districts": ["320115"], "industries": ["accommodation_catering"]},
        **common,
    )
    service.draw(session, later, DEMO_ACTOR)


def _workflows(session: Any) -> None:
    """The demo firm (login `qiye`) signs commitments, applies to repair one penalty and disputes another; one more
    firm breaks an approval commitment — so the repair, objection, commitment and notice pages show real cases."""
    from xinyong.commitments import service as commitments
    from xinyong.core.errors import DomainError
    from xinyong.core.workflow import Upload
    from xinyong.objections import service as objections
    from xinyong.repair import service as repair

    user = session.scalar(select(User).where(User.username == "qiye"))
    if user is None:
        return
    firm = session.get(Subject, user.subject_id)
    me = accounts.actor_for(user)
    scjgj = accounts.find_department(session, "scjgj")
    commitments.sign(session, me, firm, template="repair")
    commitments.sign(
        session,
        me,
        firm,
        template="approval_notice",
        context={"item": "食品经营许可", "missing": "经营场所使用证明"},
        department=scjgj,
    )
    penalties = session.scalars(
        select(CreditRecord)
        .where(
            CreditRecord.subject_id == firm.id,
            CreditRecord.is_current.is_(True),
            CreditRecord.info_class == "admin_penalty",
            CreditRecord.state == "active",
        )
        .order_by(CreditRecord.decision_date.desc(), CreditRecord.id)
    ).all()
    proof = Upload("proof_of_performance", "罚款缴纳凭证.pdf", b"%PDF-1.4\n% demo receipt\n", "application/pdf")
    repaired = None
    for record in penalties:
        try:
            repaired = repair.submit(
                session,
                me,
                firm,
                statement="已足额缴纳罚款并完成整改，经复查合格。",
                record_id=record.id,
                uploads=[proof],
            )
            break
        except DomainError:
            continue
    for record in penalties:
        if repaired is not None and record.key_hash == repaired.record_key_hash:
            continue
        try:
            objections.submit(
                session,
                me,
                firm,
                record_id=record.id,
                reason="该处罚决定已经行政复议变更，罚款金额有误。",
                requested={"penalty_content": "罚款2万元（经复议变更）"},
            )
            break
        except DomainError:
            continue
    other = session.scalar(
        select(Subject).where(Subject.kind == "legal_person", Subject.id != firm.id).order_by(Subject.id).limit(1)
    )
    if other is not None:
        signer = Actor(f"demo:subject:{other.id}", other.name)
        broken = commitments.sign(
            session,
            signer,
            other,
            template="approval_notice",
            context={"item": "公共场所卫生许可", "missing": "卫生检测报告"},
            department=scjgj,
        )
        commitments.breach(session, broken, DEMO_ACTOR, facts="逾期未提交卫生检测报告，经核查承诺不实")


def _logins(session: Any) -> list[tuple[str, str, str]]:
    labels = {"admin": "系统管理员", "credit_office": "信用办", "department": "部门报送员", "subject": "信用主体"}
    users = session.scalars(
        select(User).where(User.username.in_(["admin", "xinyongban", "scjgj", "qiye"])).order_by(User.id)
    )
    return [(labels.get(u.role, u.role), u.username, DEMO_PASSWORD) for u in users]


def print_summary(console: Any, result: DemoResult) -> None:
    from rich.table import Table

    if result.built:
        console.print(
            f"演示城市已构建：{result.files} 个文件、{result.rows:,} 行，入库 {result.accepted:,}，"
            f"重复 {result.duplicates:,}，退回 {result.rejected:,}，用时 {result.seconds:.1f} 秒。"
        )
        for line in result.mismatches:
            console.print(f"[yellow]与生成清单不符：[/yellow]{line}")
    else:
        console.print("演示数据库已存在，直接启动（重建请用 xinyong demo --rebuild）。")
    console.print(f"信用主体 {result.subjects:,} 个，信用记录 {result.records:,} 条。")
    if result.built:
        console.print(
            f"名单条目 {result.listed} 个（经告知、陈述申辩、决定、公示程序），演示核查 {result.checks} 次，"
            f"信用综合评价 {result.graded} 个主体。"
        )
    table = Table("角色", "用户名", "密码", title="演示账号")
    for row in result.logins:
        table.add_row(*row)
    console.print(table)
    for name, token in result.tokens:
        console.print(f"接入系统令牌（{name}，只显示这一次）：{token}")
    console.print("门户地址：http://127.0.0.1:8000    API 文档：http://127.0.0.1:8000/docs")
