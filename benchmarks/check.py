"""Credit check latency on PostgreSQL: single checks over HTTP under 50 concurrent clients (wrk, goal p99 ≤ 10 ms)
and a 10,000-subject batch (goal ≤ 1 s), against a bare endpoint on the same server in the same run.

    .venv/bin/python benchmarks/check.py [--subjects 100000] [--records 1000000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from portal import BARE, bench_database, build, served, wrk

LUA_CHECK = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  local body = '{"subject": "B' .. string.format("%017d", math.random(1, SUBJECTS)) ..
               '", "scenario": "government_procurement"}'
  return wrk.format(nil, "/api/v1/checks", nil, body)
end
"""


def token_and_listings(url: str, listed: int) -> str:
    """An API client with the `check` permission; `listed` subjects on the serious-dishonesty list."""
    from xinyong.accounts.service import create_client
    from xinyong.archive.models import Subject
    from xinyong.core import audit
    from xinyong.core.db import unit_of_work
    from xinyong.lists import service as lists

    actor = audit.Actor("cli:bench", "基准测试")
    with unit_of_work(url) as session:
        token = create_client(session, actor, name="基准：采购系统", permissions=["check"]).token
        for subject_id in range(1, listed + 1):
            subject = session.get(Subject, subject_id)
            entry = lists.propose(session, actor, list_type="samr_serious_illegal", subject=subject, reason="基准")
            lists.notify(session, entry, actor, doc_no=f"告{subject_id}")
            lists.record_statement(session, entry, actor, statement="无", reply="不成立", doc_no=f"复{subject_id}")
            lists.decide(session, entry, actor, doc_no=f"决{subject_id}")
            lists.publish(session, entry, actor)
    return token


def post(url: str, token: str, body: dict) -> tuple[float, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        data = json.loads(response.read())
    return time.perf_counter() - start, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with bench_database() as url:
        build(url, args.subjects, args.records)
        token = token_and_listings(url, 100)
        print(f"check benchmark: {args.subjects:,} subjects, {args.records:,} records, 100 listed; 2 workers")
        with served(url, 2) as base, tempfile.TemporaryDirectory() as tmp:
            single = LUA_CHECK.replace("TOKEN", token).replace("SUBJECTS", str(args.subjects))
            wrk(base, BARE, 3, Path(tmp))
            results = {
                "bare": wrk(base, BARE, args.seconds, Path(tmp)),
                "check": wrk(base, single, args.seconds, Path(tmp)),
            }
            keys = [f"B{i:017d}" for i in range(1, 10_001)]
            times = []
            for _ in range(3):
                seconds, data = post(
                    base + "/api/v1/checks/batch", token, {"subjects": keys, "scenario": "government_procurement"}
                )
                times.append(seconds)
    for label, r in results.items():
        print(
            f"{label:>6}: {r['rps']:>8,.0f} req/s  p50 {r['p50']:>6.1f} ms  p90 {r['p90']:>6.1f} ms"
            f"  p99 {r['p99']:>6.1f} ms  non-2xx {r['errors']:.0f}"
        )
    listed = sum(1 for item in data["items"] if item.get("measures"))
    print(
        f" batch: 10,000 subjects in {min(times):.2f} s best / {max(times):.2f} s worst of 3 "
        f"({listed} with measures); goal ≤ 1 s"
    )
    print(
        f"single check / bare endpoint: {results['check']['rps'] / results['bare']['rps']:.2f};"
        f" single-check p99 {results['check']['p99']:.1f} ms (goal ≤ 10)"
    )


if __name__ == "__main__":
    main()
