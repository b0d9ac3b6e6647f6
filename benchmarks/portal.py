"""Portal throughput on PostgreSQL: the subject endpoint (GET /api/v1/subjects/{id}, random ids) and search
(GET /api/v1/subjects?q=…) under 50 concurrent clients (wrk), against a bare FastAPI endpoint on the same server
in the same run (measured before and after the others, so a machine busy with other work shows as a gap), and the
same subject document built the generic way (ORM views in a unit of work) as the before-figure.
Data: N subjects and M credit records generated server-side with SQL, vacuumed, then read once into the OS cache.

    .venv/bin/python benchmarks/portal.py [--subjects 1000000] [--records 10000000] [--seconds 15]
    .venv/bin/python benchmarks/portal.py --database postgresql+psycopg://…/db   # reuse a built database
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

PG_BASE = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
WORDS = [
    "鑫",
    "华",
    "宏",
    "达",
    "盛",
    "恒",
    "泰",
    "瑞",
    "博",
    "远",
    "金",
    "福",
    "嘉",
    "康",
    "新",
    "宁",
    "钟",
    "山",
    "秦",
    "淮",
]
TRADES = ["科技", "贸易", "餐饮", "建设", "物流", "医药", "文化", "电子", "环保", "食品"]
DISTRICTS = [
    "320102",
    "320104",
    "320105",
    "320106",
    "320111",
    "320113",
    "320114",
    "320115",
    "320116",
    "320117",
    "320118",
]
BARE = "request = function()\n  return wrk.format('GET', '/bench/bare')\nend\n"
BARE_ASYNC = BARE.replace("/bench/bare", "/bench/bare-async")
SEARCHES = ["南京", "鑫华", "科技", "宏达贸易", "钟山", "秦淮食品", "njxh", "恒泰", "博远物流", "宁康医药"]


def build(url: str, subjects: int, records: int) -> float:
    from xinyong.accounts.service import seed_departments
    from xinyong.core import migrate
    from xinyong.core.db import unit_of_work

    migrate.upgrade(url)
    with unit_of_work(url) as session:
        seed_departments(session)
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    trades = "ARRAY[" + ",".join(f"'{t}'" for t in TRADES) + "]"
    districts = "ARRAY[" + ",".join(f"'{d}'" for d in DISTRICTS) + "]"
    start = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            INSERT INTO subjects (kind, name, name_key, name_initials, uscc, district_code, industry, status,
                                  created_at)
            SELECT 'legal_person', n, n, 'nj', 'B' || lpad(g::text, 17, '0'), ({districts})[g % 11 + 1], 'C',
                   'active', now()
            FROM (SELECT g, '南京' || ({words})[g % 20 + 1] || ({words})[(g / 20) % 20 + 1] || g::text
                         || ({trades})[(g / 400) % 10 + 1] || '有限公司' AS n
                  FROM generate_series(1, :n) AS g) AS s"""),
            {"n": subjects},
        )
        dept = conn.execute(text("SELECT id FROM departments WHERE code = 'scjgj'")).scalar()
        conn.execute(
            text("""
            INSERT INTO credit_records (info_class, subject_id, link_method, link_confidence, source_department_id,
                natural_key, key_hash, version, is_current, content_hash, decision_no, decision_date, severity,
                publicity_rule, publicity_start, publicity_end, state, disputed, source_row, payload, created_at)
            SELECT CASE WHEN g % 4 = 0 THEN 'admin_penalty' ELSE 'admin_license' END, (g % :s) + 1, 'uscc', 1.0, :d,
                   'k' || g, md5(g::text) || md5((g * 7)::text), 1, true, md5((g * 13)::text),
                   '宁市监〔2026〕' || g || '号', date '2024-01-01' + (g % 1000), 'general', 'ndrc_order_36',
                   date '2024-01-01' + (g % 1000), date '2027-06-01', 'active', false, g,
                   jsonb_build_object('penalty_content', '罚款' || (g % 9 + 1) || '万元',
                                      'license_content', '食品经营许可', 'deciding_authority', '南京市市场监督管理局'),
                   now()
            FROM generate_series(1, :r) AS g"""),
            {"s": subjects, "d": dept, "r": records},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM, not only ANALYZE: freshly loaded rows carry no hint bits, so the first read of each page writes it
        # and autovacuum would start on the new table in the middle of a measurement
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - start


def prewarm(url: str) -> float:
    """Read the tables and their indexes once (pg_prewarm, into the OS cache): a server's working set is in memory,
    and every run then starts from the same state whatever the build or the previous run left cached."""
    start = time.perf_counter()
    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        conn.execute(
            text("""
            SELECT pg_prewarm(c.oid, 'read') FROM pg_class c
             WHERE c.relname IN ('subjects', 'credit_records', 'list_entries')
                OR c.oid IN (SELECT indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                              WHERE t.relname IN ('subjects', 'credit_records', 'list_entries'))""")
        )
    engine.dispose()
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# wrk's --latency table has no p95 (the search goal); its Lua `done` hook reads any percentile.
_PERCENTILES = """
done = function(summary, latency, requests)
  io.write(string.format("percentile95_us %d\\n", latency:percentile(95.0)))
end
"""


def wrk(url: str, script: str, seconds: int, workdir: Path) -> dict[str, float]:
    """One wrk run (2 threads, 50 connections): req/s, p50/p90/p95/p99 in ms and the count of non-2xx answers."""
    lua = workdir / "script.lua"
    lua.write_text(script + ("" if "done = function" in script else _PERCENTILES), encoding="utf-8")
    out = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "90", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p95 = re.search(r"percentile95_us (\d+)", out)
    return {
        "rps": rps,
        "p50": lat["50"],
        "p90": lat["90"],
        "p95": int(p95.group(1)) / 1000 if p95 else float("nan"),
        "p99": lat["99"],
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group(0))
    unit = value[len(re.match(r"[\d.]+", value).group(0)) :]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh PostgreSQL database (C.UTF-8, as pg_trgm needs) for one benchmark run, dropped afterwards."""
    name = f"xinyong_bench_{os.getpid()}_{int(time.time())}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def served(url: str, workers: int, startup: float = 60) -> Iterator[str]:
    """The portal plus the reference endpoints (portal_app.py) under uvicorn on a free loopback port. An existing
    PYTHONPATH stays in front, so the same script can measure another checkout's code
    (PYTHONPATH=/old/benchmarks:/old/src) for a before/after under the same conditions."""
    port = free_port()
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), str(Path(__file__).parent)) if p)
    env = os.environ | {"XINYONG_DATABASE_URL": url, "PYTHONPATH": path}
    command = [sys.executable, "-m", "uvicorn", "portal_app:create", "--factory", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", str(workers), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/bench/bare", startup)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database", help="an already built benchmark database (SQLAlchemy URL; kept): skips the build"
    )
    args = parser.parse_args()
    with _database(args.database) as url:
        built = build(url, args.subjects, args.records) if args.database is None else 0.0
        warmed = prewarm(url)
        print(
            f"portal benchmark: {args.subjects:,} subjects, {args.records:,} records (generated in {built:.0f} s),"
            f" prewarmed in {warmed:.0f} s, {args.workers} uvicorn workers, wrk 2 threads × 50 connections,"
            f" {args.seconds} s each;"
            f" load average before {os.getloadavg()[0]:.1f}"
        )
        with served(url, args.workers) as base, tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            subject = (
                "request = function()\n  return wrk.format('GET', '/api/v1/subjects/' .. "
                f"math.random(1, {args.subjects}))\nend\n"
            )
            generic = subject.replace("/api/v1/subjects/", "/bench/generic/subjects/")
            queries = ", ".join(f"'{quote(q)}'" for q in SEARCHES)
            search = (
                f"local qs = {{{queries}}}\nrequest = function()\n  return wrk.format('GET', "
                "'/api/v1/subjects?q=' .. qs[math.random(1, #qs)])\nend\n"
            )
            same = _same_documents(base, args.subjects, 50)
            print(f"fast and generic documents equal for {same} random subjects")
            for script in (BARE, BARE_ASYNC, subject, generic, search):  # warm-up: connections, statements, caches
                wrk(base, script, 3, work)
            results = {
                "bare": wrk(base, BARE, args.seconds, work),
                "bare_async": wrk(base, BARE_ASYNC, args.seconds, work),
                "subject": wrk(base, subject, args.seconds, work),
                "generic": wrk(base, generic, args.seconds, work),  # the same document the ORM way (portal_app.py)
                "search": wrk(base, search, args.seconds, work),
                "bare2": wrk(base, BARE, args.seconds, work),  # again: a machine busy with others shows as a gap
            }
    for label, r in results.items():
        print(
            f"{label:>10}: {r['rps']:>8,.0f} req/s  p50 {r['p50']:>6.1f} ms  p90 {r['p90']:>6.1f} ms"
            f"  p95 {r['p95']:>6.1f} ms  p99 {r['p99']:>6.1f} ms  non-2xx {r['errors']:.0f}"
        )
    bare = (results["bare"]["rps"] + results["bare2"]["rps"]) / 2
    ratio = results["subject"]["rps"] / bare
    print(f"generic path / bare endpoint: {results['generic']['rps'] / bare:.2f} (before publicity/fast.py)")
    print(
        f"subject endpoint / bare `async def` endpoint: {results['subject']['rps'] / results['bare_async']['rps']:.2f}"
        " (the framework's floor: a constant answer with no thread hand-off)"
    )
    print(
        f"subject endpoint / bare `def` endpoint (mean of both bare runs): {ratio:.2f} (goal ≥ 0.5);"
        f" subject p99 {results['subject']['p99']:.1f} ms (goal ≤ 50); search p95 {results['search']['p95']:.1f} ms"
        f" (goal ≤ 50); load average after {os.getloadavg()[0]:.1f}"
    )


def _same_documents(base: str, subjects: int, sample: int) -> int:
    """The endpoint measured returns what the generic path returns (random subjects), or the run stops."""
    import json
    import random
    import urllib.request

    for subject_id in random.sample(range(1, subjects + 1), min(sample, subjects)):
        fast, generic = (
            json.loads(urllib.request.urlopen(f"{base}{path}{subject_id}", timeout=30).read())
            for path in ("/api/v1/subjects/", "/bench/generic/subjects/")
        )
        if fast != generic:
            raise SystemExit(f"subject {subject_id}: the fast document differs from the generic one")
    return min(sample, subjects)


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with bench_database() as fresh:
            yield fresh


def _wait(url: str, seconds: float) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


if __name__ == "__main__":
    main()
