"""Ingestion throughput: N generated penalty rows through the real pipeline (read, validate, link, version, store)
into PostgreSQL and SQLite, against loading the same rows raw in the same run (PostgreSQL COPY; SQLite executemany
in one transaction). Prints rows/s, the ratio ours/raw and the peak memory of each run.

A second baseline, "stored": what the pipeline stored (records, subjects, identifiers), read back and loaded the
same raw way into empty tables shaped like ours (`LIKE … INCLUDING ALL`: the same indexes, unique keys, trigram
index). It is the floor of keeping an indexed archive at all, without reading, validating, linking or versioning:
the gap between it and the raw text load is the archive's, the gap between ours and it is the pipeline's.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--backends postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BASE = os.environ.get("XINYONG_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
AUTHORITY = ("南京市市场监督管理局", "11320100MB4561374J")
HEADER = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "法定代表人",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "处罚决定日期",
    "处罚有效期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "当前状态",
]


def write_rows(path: Path, n: int) -> None:
    """N valid penalty rows, two per subject, like a large department's back catalogue."""
    from xinyong.archive.identifiers import make_uscc

    districts = ["320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            s = i // 2
            uscc = make_uscc("9", "1", districts[s % len(districts)], f"{10000000 + s:08d}")
            day = 1 + i % 28
            w.writerow(
                [
                    f"南京测试{s}科技有限公司",
                    "法人及非法人组织",
                    uscc,
                    "张三",
                    f"宁市监罚〔2026〕{i}号",
                    "违反产品质量法",
                    "生产销售不合格产品，经抽样检验不合格。",
                    "《中华人民共和国产品质量法》第四十九条",
                    "罚款",
                    f"罚款{1 + i % 9}万元",
                    str(1 + i % 9),
                    f"2026-03-{day:02d}",
                    "2099-12-31",
                    *AUTHORITY,
                    *AUTHORITY,
                    "0",
                ]
            )


def fresh_database(backend: str, workdir: Path) -> str:
    from sqlalchemy import create_engine, text

    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"xinyong_bench_{os.getpid()}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(
            text(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        )
    admin.dispose()
    return f"{PG_BASE}/{name}"


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        return
    name = url.rsplit("/", 1)[1]
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_ours(url: str, path: Path) -> dict:
    """In a child process: migrate, then time the real ingest of the file as one batch."""
    from xinyong.accounts.service import find_department, seed_departments
    from xinyong.collection.service import ingest_file
    from xinyong.core import audit, migrate
    from xinyong.core.db import unit_of_work

    migrate.upgrade(url)
    with unit_of_work(url) as session:
        seed_departments(session)
    start = time.perf_counter()
    with unit_of_work(url) as session:
        summary = ingest_file(
            session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
        )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": summary.rows,
        "accepted": summary.accepted,
        "stored_seconds": _store_floor(url),
    }


FLOOR_TABLES = ("subjects", "subject_identifiers", "credit_records")
_FLOOR_NAMES = re.compile(r"\b(subjects_fts\w*|subjects|subject_identifiers|credit_records|(?:ix|uq|pk|fk|ck)_\w+)\b")


def _store_floor(url: str) -> float:
    """Seconds to load what the ingest stored, raw, into copies of its tables with the same indexes."""
    return _store_floor_sqlite(url) if url.startswith("sqlite") else _store_floor_pg(url)


def _store_floor_sqlite(url: str) -> float:
    """The tables, their indexes, the trigram FTS table and the triggers that feed it, renamed floor_*; then the
    rows read back and written with executemany in one transaction (the raw baseline's way)."""
    import pysqlite3.dbapi2 as sqlite3

    path = url.removeprefix("sqlite:///")
    reader, writer = sqlite3.connect(path), sqlite3.connect(path)
    ddl = reader.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?, 'subjects_fts') AND sql IS NOT NULL"
        " ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END",
        FLOOR_TABLES,
    ).fetchall()
    for (sql,) in ddl:
        writer.execute(_FLOOR_NAMES.sub(r"floor_\1", sql))
    start = time.perf_counter()
    with writer:
        for table in FLOOR_TABLES:
            rows = reader.execute(f"SELECT * FROM {table}")
            marks = ", ".join("?" for _ in rows.description)
            writer.executemany(f"INSERT INTO floor_{table} VALUES ({marks})", rows)
    seconds = time.perf_counter() - start
    reader.close()
    writer.close()
    return seconds


def _store_floor_pg(url: str) -> float:
    """`LIKE … INCLUDING ALL` copies (indexes, unique keys, the trigram index), loaded by COPY in one transaction
    from COPY text dumped to temporary files first (memory stays flat)."""
    import psycopg

    with (
        psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn,
        contextlib.ExitStack() as files,
    ):
        dumps = {}
        for table in FLOOR_TABLES:
            conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
            dumps[table] = files.enter_context(tempfile.TemporaryFile())
            with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    dumps[table].write(block)
            dumps[table].seek(0)
        start = time.perf_counter()
        with conn.transaction():
            for table, dump in dumps.items():
                with conn.cursor().copy(f"COPY floor_{table} FROM STDIN") as copy:
                    while block := dump.read(1 << 20):
                        copy.write(block)
        return time.perf_counter() - start


def run_raw(url: str, path: Path) -> dict:
    """In a child process: the same rows parsed and loaded as text, the fastest way each database offers."""
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        columns = ", ".join(f"c{i} text" for i in range(len(header)))
        if url.startswith("sqlite"):
            import pysqlite3.dbapi2 as sqlite3

            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            conn.execute(f"CREATE TABLE raw_rows ({columns})")
            marks = ", ".join("?" for _ in header)
            with conn:
                conn.executemany(f"INSERT INTO raw_rows VALUES ({marks})", reader)
            rows = conn.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
            conn.close()
        else:
            import psycopg

            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                conn.execute(f"CREATE TABLE raw_rows ({columns})")
                with conn.cursor().copy("COPY raw_rows FROM STDIN") as copy:
                    for row in reader:
                        copy.write_row(row)
                rows = conn.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def child(kind: str, url: str, path: str) -> None:
    result = (run_ours if kind == "ours" else run_raw)(url, Path(path))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, url: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, url, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"XINYONG_DATABASE_URL": url},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    """The machine's load, printed with the figures: on a shared machine only same-run ratios compare."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "penalties.csv"
        write_rows(path, args.rows)
        size_mb = path.stat().st_size / 2**20
        print(f"ingest benchmark: {args.rows:,} penalty rows, {size_mb:.0f} MB CSV; {_load()}")
        for backend in args.backends.split(","):
            url = fresh_database(backend, workdir)
            try:
                raw = measure("raw", url, path)
                ours = measure("ours", url, path)
            finally:
                drop_database(url)
                (workdir / "bench.db").unlink(missing_ok=True)
            assert ours["accepted"] == args.rows, ours
            ours_rate, raw_rate = ours["rows"] / ours["seconds"], raw["rows"] / raw["seconds"]
            stored_rate = ours["rows"] / ours["stored_seconds"]
            print(
                f"{backend:>10}: ours {ours_rate:>9,.0f} rows/s ({ours['seconds']:.1f} s,"
                f" peak {ours['peak_rss_mb']:.0f} MB)"
                f" | raw {raw_rate:>9,.0f} rows/s ({raw['seconds']:.1f} s, peak {raw['peak_rss_mb']:.0f} MB)"
                f" | ratio ours/raw {ours_rate / raw_rate:.3f}; {_load()}"
            )
            print(
                f"{'':>10}  stored {stored_rate:>9,.0f} rows/s ({ours['stored_seconds']:.1f} s: what ours stored,"
                f" loaded raw into tables with our indexes) | raw/stored {raw_rate / stored_rate:.1f}×"
                f" (the archive's share) | ratio ours/stored {ours_rate / stored_rate:.3f} (the pipeline's share)"
            )


if __name__ == "__main__":
    main()
