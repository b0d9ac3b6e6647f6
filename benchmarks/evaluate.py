"""Evaluation throughput on PostgreSQL: `xinyong.evaluation.service.evaluate` over N subjects with 10×N credit
records (generated server-side with SQL by portal.build, then given mixed severities, decision dates, registration
dates and some 住宿和餐饮业 subjects), against a plain aggregate over the same records in the same run:

    SELECT subject_id, severity, count(*) FROM credit_records GROUP BY 1, 2

Ours includes everything a run does: three grouped reads, scoring, and writing one result row per subject (COPY).

    .venv/bin/python benchmarks/evaluate.py [--subjects 1000000] [--records-per-subject 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))

from portal import bench_database, build

AS_OF = date(2026, 11, 28)


def vary(url: str) -> float:
    """Records spread over subjects pseudo-randomly (portal.build gives each subject one class and one severity);
    severities 60% general / 25% minor / 15% serious, decision dates over 2021–2026, registration dates, and one
    subject in seven in section H (the industry overlay)."""
    start = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("""
            UPDATE credit_records SET
                subject_id = (id * 48271 % 2147483647) % (SELECT count(*) FROM subjects) + 1,
                severity = CASE WHEN info_class <> 'admin_penalty' THEN NULL
                                WHEN id % 20 < 12 THEN 'general' WHEN id % 20 < 17 THEN 'minor' ELSE 'serious' END,
                decision_date = date '2021-01-01' + (id * 7919 % 2150)::int""")
        )
        conn.execute(
            text("""
            UPDATE subjects SET registered_on = date '1995-01-01' + (id * 104729 % 11000)::int,
                                industry = CASE WHEN id % 7 = 0 THEN 'H' ELSE 'C' END""")
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE credit_records"))
        conn.execute(text("VACUUM ANALYZE subjects"))
    engine.dispose()
    return time.perf_counter() - start


def baseline(url: str) -> tuple[float, int]:
    engine = create_engine(url)
    start = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT subject_id, severity, count(*) FROM credit_records GROUP BY 1, 2")).all()
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds, len(rows)


def ours(url: str) -> tuple[float, dict[str, int], dict[str, float]]:
    from xinyong.core.db import get_sessionmaker
    from xinyong.evaluation import service

    stages: dict[str, float] = {}
    last = [time.perf_counter(), "start"]

    def progress(message: str) -> None:
        now = time.perf_counter()
        stages[last[1]] = now - last[0]
        last[0], last[1] = now, message

    session = get_sessionmaker(url)()
    start = time.perf_counter()
    run = service.evaluate(session, as_of=AS_OF, progress=progress)
    session.commit()
    seconds = time.perf_counter() - start
    stages[last[1]] = time.perf_counter() - last[0]
    counts = dict(run.grade_counts)
    session.close()
    return seconds, counts, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records-per-subject", type=int, default=10)
    args = parser.parse_args()
    records = args.subjects * args.records_per_subject
    with bench_database() as url:
        built = build(url, args.subjects, records) + vary(url)
        print(f"evaluation benchmark: {args.subjects:,} subjects, {records:,} records (generated in {built:.0f} s)")
        base_s, groups = baseline(url)
        our_s, counts, stages = ours(url)
        base2_s, _ = baseline(url)  # once more, after ours, to see caching effects
    best_base = min(base_s, base2_s)
    print(f"baseline aggregate: {best_base:.2f} s ({groups:,} groups; runs {base_s:.2f} s / {base2_s:.2f} s)")
    print(f"evaluate (read, score, write {args.subjects:,} results): {our_s:.2f} s")
    for stage, s in stages.items():
        if stage != "start":
            print(f"  {stage}: {s:.2f} s")
    print(f"grades: {counts}")
    print(f"ratio ours/baseline: {our_s / best_base:.1f}×  (goal: ≤ 60 s at 1,000,000 subjects)")


if __name__ == "__main__":
    main()
