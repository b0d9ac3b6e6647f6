"""The reading process (collection.pipeline): a large file is read, validated and prepared in a second process.
Whichever process does it, a batch stores exactly the same thing; its errors reach the caller as they would in
one process; and the reader never outlives the ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.builders import make_subject
from tests.collection.files import penalty, write_csv, write_json, write_xlsx
from xinyong.accounts.service import find_department
from xinyong.archive.identifiers import make_resident_id, make_uscc
from xinyong.archive.models import CreditRecord, Subject, SubjectIdentifier
from xinyong.collection import pipeline, service
from xinyong.collection.models import Batch, LinkReview, Rejection
from xinyong.collection.readers import ReadError
from xinyong.config import get_settings
from xinyong.core import audit

USCC_HDR = "行政相对人代码_1（统一社会信用代码）"
DOC = "行政处罚决定书文号"


@pytest.fixture
def reader_process(monkeypatch):
    """Switch the reading process on (threshold 0 bytes) or off (-1) for one ingest."""

    def use(on: bool) -> None:
        monkeypatch.setattr(get_settings(), "ingest_worker_min_bytes", 0 if on else -1)

    return use


def _messy_rows() -> list[dict]:
    """Every path a row can take: new subjects, an existing one, a resident ID, name-only rows (one unique, one
    ambiguous), repeats within the file, withdrawals, and rows rejected for several reasons."""
    rid = make_resident_id("320102", date(1990, 1, 2), 17)
    rows = []
    for i in range(60):
        rows.append(
            penalty(
                **{
                    DOC: f"宁市监罚〔2026〕{500 + i}号",
                    "行政相对人名称": f"南京管道测试{i % 20}有限公司",
                    USCC_HDR: make_uscc("9", "1", "320105", f"{35000000 + i % 20:08d}"),
                    "处罚决定日期": ["2026-03-05", "2026/3/6", "2026年3月7日", "20260308"][i % 4],
                    "罚款金额（万元）": str(1 + i % 7),
                    "当前状态": "1" if i % 17 == 16 else "0",
                }
            )
        )
    rows += [penalty(**{DOC: "宁市监罚〔2026〕500号", "行政相对人名称": "南京管道测试0有限公司",
                        USCC_HDR: make_uscc("9", "1", "320105", "35000000"), "处罚决定日期": "2026-03-05",
                        "罚款金额（万元）": "1"})]  # fmt: skip
    person = {"行政相对人类别": "自然人", "行政相对人名称": "王小明", USCC_HDR: "", "法定代表人": "",
              "证件类型": "身份证", "证件号码": rid}  # fmt: skip
    rows += [penalty(**person, **{DOC: "P-1"}), penalty(**person, **{DOC: "P-2"})]
    name_only = {USCC_HDR: "00000000000000000X", "行政相对人类别": "个体工商户"}
    rows += [
        penalty(**name_only, **{DOC: "N-1", "行政相对人名称": "南京管道唯一商行"}),
        penalty(**name_only, **{DOC: "N-2", "行政相对人名称": "南京管道同名商行"}),
    ]
    rows += [
        penalty(**{DOC: "E-1", "处罚决定日期": "2026-02-30"}),
        penalty(**{DOC: "E-2", USCC_HDR: "91320100748204660X"}),
        penalty(**{DOC: "E-3", "罚款金额（万元）": "-3"}),
        penalty(**{DOC: "E-4", "处罚类别": "罚酒三杯"}),
        penalty(**{DOC: "", "处罚决定日期": "2099-01-01"}),
    ]
    return rows


def _ingest(session, path: Path):
    return service.ingest_file(
        session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
    )


def _stored(session) -> dict:
    """What a batch left, without ids or times."""
    subjects = {s.id: (s.uscc, s.name, s.name_key, s.name_initials, s.kind, s.district_code)
                for s in session.scalars(select(Subject))}  # fmt: skip
    return {
        "records": sorted(
            (
                r.key_hash,
                r.version,
                r.is_current,
                r.content_hash,
                r.state,
                r.link_method,
                r.source_row,
                subjects.get(r.subject_id),
                r.severity,
                r.publicity_rule,
                r.publicity_end,
            )
            for r in session.scalars(select(CreditRecord))
        ),
        "subjects": sorted(subjects.values(), key=repr),
        "identifiers": sorted(session.execute(select(SubjectIdentifier.scheme, SubjectIdentifier.value)).all()),
        "rejections": sorted(
            session.execute(select(Rejection.row_number, Rejection.error_code, Rejection.column, Rejection.message))
        ),
        "reviews": sorted(session.execute(select(LinkReview.subject_name, LinkReview.state)).all()),
    }


@pytest.mark.parametrize("fmt", ["gbk_csv", "xlsx", "jsonl"])
def test_reading_process_stores_exactly_what_one_process_stores(session, tmp_path, reader_process, monkeypatch, fmt):
    make_subject(session, name="南京管道唯一商行", uscc=make_uscc("9", "1", "320106", "35100001"))
    make_subject(session, name="南京管道同名商行", uscc=make_uscc("9", "1", "320106", "35100002"))
    make_subject(session, name="南京管道同名商行", uscc=make_uscc("9", "1", "320106", "35100003"))
    session.commit()
    monkeypatch.setattr(service, "CHUNK_ROWS", 16)  # several chunks: repeats and new subjects cross chunk borders
    rows = _messy_rows()
    path = {
        "gbk_csv": lambda: write_csv(tmp_path / "处罚.csv", rows, encoding="gbk"),
        "xlsx": lambda: write_xlsx(tmp_path / "处罚.xlsx", rows, title="南京市行政处罚信息（2026年3月）"),
        "jsonl": lambda: write_json(tmp_path / "处罚.jsonl", rows, lines=True),
    }[fmt]()

    outcomes = {}
    for on in (False, True):
        reader_process(on)
        summary = _ingest(session, path)
        session.flush()
        batch = session.get(Batch, summary.batch_id)
        assert batch.details["reader_process"] is on
        outcomes[on] = ({k: v for k, v in summary.to_dict().items() if k != "batch_id"}, _stored(session))
        session.rollback()
    one, two = outcomes[False], outcomes[True]
    assert one[0] == two[0]
    assert one[0]["rows"] == len(rows) and one[0]["rejected"] == 5 and one[0]["duplicates"] == 1
    assert one[0]["withdrawn"] > 0 and one[0]["review"] == 1
    assert one[1] == two[1]
    assert len(one[1]["records"]) == len(rows) - 6 and one[1]["reviews"] == [("南京管道同名商行", "open")]


def test_reader_errors_reach_the_caller_unchanged_and_nothing_is_stored(session, tmp_path, reader_process):
    # valid UTF-8 for the first megabyte (what the encoding sniffer reads), then a byte no encoding accepts
    good = write_csv(tmp_path / "head.csv", [penalty(**{DOC: f"D-{i}"}) for i in range(4000)])
    path = tmp_path / "broken.csv"
    path.write_bytes(good.read_bytes() + "南京,".encode() + b"\xff\xfe\xfa\r\n")
    codes = {}
    for on in (False, True):
        reader_process(on)
        with pytest.raises(ReadError) as caught:
            _ingest(session, path)
        codes[on] = (caught.value.code, caught.value.message)
        session.rollback()
        assert session.scalars(select(CreditRecord)).first() is None
        assert session.scalars(select(Batch)).first() is None
    assert codes[True] == codes[False] and codes[True][0] == "encoding_error"


def test_uses_worker_only_at_the_threshold_and_with_the_default_catalogue(monkeypatch):
    from xinyong.catalog.service import get_catalog, load_catalog

    monkeypatch.setattr(get_settings(), "ingest_worker_min_bytes", 1000)
    assert pipeline.uses_worker(1000, get_catalog()) and not pipeline.uses_worker(999, get_catalog())
    assert not pipeline.uses_worker(10**9, load_catalog([]))  # another catalogue cannot be handed to the reader
    monkeypatch.setattr(get_settings(), "ingest_worker_min_bytes", -1)
    assert not pipeline.uses_worker(10**9, get_catalog())


SCRIPT = """
import os, signal, sys
from pathlib import Path
from xinyong.accounts.service import find_department
from xinyong.collection.loader import ChunkLoader
from xinyong.core import audit
from xinyong.core.db import unit_of_work
from xinyong.collection.service import ingest_file

def load(self, staged):  # stop after the first chunk, as a kill -9 would: no cleanup of any kind
    me = os.getpid()
    print("reader", Path(f"/proc/{me}/task/{me}/children").read_text().strip(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

ChunkLoader.load = load
url = os.environ["XINYONG_DATABASE_URL"]
with unit_of_work(url) as session:
    ingest_file(session, Path(sys.argv[1]), department=find_department(session, "scjgj"),
                info_class="admin_penalty", actor=audit.SYSTEM)
"""


def test_reader_exits_when_the_ingesting_process_is_killed(clean_db, session, tmp_path):
    rows = [penalty(**{DOC: f"K-{i}"}) for i in range(20000)]  # far more than the pipe holds
    path = write_csv(tmp_path / "big.csv", rows)
    script = tmp_path / "killed.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = os.environ | {"XINYONG_DATABASE_URL": clean_db, "XINYONG_INGEST_WORKER_MIN_BYTES": "0"}
    done = subprocess.run(
        [sys.executable, str(script), str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    [line] = [ln for ln in done.stdout.splitlines() if ln.startswith("reader")]
    pids = [int(p) for p in line.split()[1:]]
    assert len(pids) == 1  # the reading process was running when the ingest died
    deadline = time.monotonic() + 30
    while _alive(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pids[0]), "the reading process outlived the ingest"
    assert session.scalars(select(CreditRecord)).first() is None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent (gone) would have reaped it
