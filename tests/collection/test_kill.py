"""A batch becomes visible whole or not at all: SIGKILL at any moment, then the same command again, leaves
exactly the state of one clean run (issue: collection, item 8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from tests.collection.files import penalty, write_csv
from xinyong.archive.identifiers import make_uscc
from xinyong.archive.models import CreditRecord, Subject, SubjectIdentifier
from xinyong.collection.models import Batch, Rejection
from xinyong.collection.service import FAULT_KILL_ENV
from xinyong.core import audit

ROWS = 12000


def _big_file(tmp_path: Path) -> Path:
    rows = []
    for i in range(ROWS):
        uscc = make_uscc("9", "1", "320102", f"{70000000 + i // 2:08d}")
        overrides = {
            "行政处罚决定书文号": f"宁市监罚〔2026〕{i}号",
            "行政相对人名称": f"南京测试{i // 2}有限公司",
            "行政相对人代码_1（统一社会信用代码）": uscc,
        }
        if i % 50 == 0:
            overrides["处罚决定日期"] = "2026-02-30"
        rows.append(penalty(**overrides))
    return write_csv(tmp_path / "big.csv", rows, encoding="gbk")


def _command(path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "xinyong",
        "ingest",
        str(path),
        "--department",
        "scjgj",
        "--class",
        "admin_penalty",
        "--json",
    ]


def _run(path: Path, url: str) -> dict:
    done = subprocess.run(
        _command(path),
        env=os.environ | {"XINYONG_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _kill_after(path: Path, url: str, seconds: float, rows: int = 0, reader_process: bool = False) -> int:
    """SIGKILL the ingest after `seconds` from outside, or (rows > 0) from inside once that many rows are stored
    in the open transaction — the latter lands mid-batch whatever the machine's speed. With `reader_process` the
    file is read in a second process (collection.pipeline), as large files are."""
    env = os.environ | {"XINYONG_DATABASE_URL": url, "XINYONG_INGEST_WORKER_MIN_BYTES": "0" if reader_process else "-1"}
    if rows:
        env[FAULT_KILL_ENV] = str(rows)
    proc = subprocess.Popen(
        _command(path),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return proc.returncode


def _state(session) -> dict:
    """Everything a run leaves, without surrogate ids (sequences move on in a rolled-back transaction)."""
    session.rollback()
    state = {
        "batches": sorted(session.execute(select(Batch.rows, Batch.accepted, Batch.rejected, Batch.file_sha256)).all()),
        "records": sorted(
            session.execute(
                select(
                    CreditRecord.key_hash,
                    CreditRecord.version,
                    CreditRecord.content_hash,
                    CreditRecord.is_current,
                    CreditRecord.source_row,
                )
            ).all()
        ),
        "subjects": sorted(session.scalars(select(Subject.uscc)).all()),
        "identifiers": sorted(session.execute(select(SubjectIdentifier.scheme, SubjectIdentifier.value)).all()),
        "rejections": sorted(session.execute(select(Rejection.row_number, Rejection.error_code)).all()),
    }
    session.rollback()  # end the read snapshot: it would block TRUNCATE on PostgreSQL
    return state


def test_sigkill_at_any_moment_then_rerun_equals_one_clean_run(session, clean_db, tmp_path):
    from tests.conftest import _empty_tables

    path = _big_file(tmp_path)
    start = time.monotonic()
    clean = _run(path, clean_db)
    duration = time.monotonic() - start
    assert clean["accepted"] == ROWS - ROWS // 50 and clean["rejected"] == ROWS // 50
    reference = _state(session)

    _empty_tables(clean_db)
    from xinyong.accounts.service import seed_departments

    session.rollback()
    seed_departments(session)
    session.commit()
    # the last two: all stored, not committed; each way of reading the file is killed mid-batch
    kills = [(duration * 0.25, 0, False), (60, 2000, True), (60, 7000, False), (60, ROWS, False), (60, ROWS, True)]
    for seconds, rows, reader_process in kills:
        assert _kill_after(path, clean_db, seconds, rows, reader_process) == -signal.SIGKILL
        left = _state(session)
        assert left["batches"] == [] and left["records"] == [] and left["subjects"] == [], (
            seconds,
            rows,
            reader_process,
        )
    rerun = _run(path, clean_db)
    assert {k: rerun[k] for k in ("rows", "accepted", "rejected", "duplicates")} == {
        k: clean[k] for k in ("rows", "accepted", "rejected", "duplicates")
    }
    assert _state(session) == reference
    assert audit.verify(session).ok
