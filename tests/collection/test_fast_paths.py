"""The shortcuts that make ingestion fast give the same answers as the general code they stand in for: the USCC
check, the per-batch memos of the row validator and of the publicity judgement, and SQLite's executemany insert."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from tests.collection.files import PENALTY_HEADER, penalty
from tests.conftest import BACKEND
from xinyong.archive.identifiers import (
    USCC_ALPHABET,
    IdentifierError,
    load_uscc_authorities,
    make_uscc,
    validate_uscc,
)
from xinyong.archive.models import Subject
from xinyong.catalog.service import get_catalog
from xinyong.collection import validate as validate_module
from xinyong.collection.loader import RowPreparer
from xinyong.collection.validate import RowValidator, _is_canonical_uscc
from xinyong.core import clock
from xinyong.core.bulk import insert_rows
from xinyong.publicity import rules as publicity_rules

TYPES = frozenset(load_uscc_authorities(True).types)


def _slow(code: str) -> str | None:
    try:
        return validate_uscc(code)
    except IdentifierError:
        return None


def test_fast_uscc_check_accepts_exactly_the_canonical_valid_codes():
    rng = random.Random(7)
    pairs = sorted(TYPES)
    codes = []
    for _ in range(300):
        auth, typ = rng.choice(pairs)
        body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        codes.append(make_uscc(auth, typ, f"{rng.randrange(110000, 660000):06d}", body))
    samples = list(codes)
    for code in codes[:60]:  # every single-character change, and the spellings validate_uscc normalises
        for pos in range(18):
            samples += [code[:pos] + ch + code[pos + 1 :] for ch in USCC_ALPHABET + "IOZSV a-"]
        samples += [code.lower(), f" {code}", code[:17], code + "0", "".join(chr(ord(c) + 0xFEE0) for c in code)]
    accepted = 0
    for code in samples:
        fast = _is_canonical_uscc(code, TYPES)
        slow = _slow(code)
        if fast:
            accepted += 1
            assert slow == code, code  # never accepts what validate_uscc refuses or would change
        else:
            assert slow != code, code  # every canonical valid code takes the fast path
    assert accepted >= len(codes)


def _validator() -> RowValidator:
    catalog = get_catalog()
    cls = catalog.get("admin_penalty")
    return RowValidator(catalog, cls, PENALTY_HEADER, date(2026, 11, 1), ("某局", "11320100MB4561374J"))


def _row(i: int) -> list[str]:
    """Valid rows and rows with every kind of cell error, values repeating as in a real batch."""
    uscc = make_uscc("9", "1", "320102", f"{10000000 + i:08d}") if i % 7 else "9132010074820466"  # bad length
    cells = penalty(
        **{
            "行政相对人名称": f"公司{i}",
            "行政相对人代码_1（统一社会信用代码）": uscc,
            "行政处罚决定书文号": f"罚〔2026〕{i}号",
            "罚款金额（万元）": ["5", "5", "-1", "五万", "5000元", ""][i % 6],
            "处罚决定日期": ["2026-03-05", "2026/3/5", "2026-02-30", "2099-01-01", "20260305"][i % 5],
            "处罚类别": ["罚款", "罚款", "打板子", "警告", "罚款；没收违法所得", ""][i % 6],
        }
    )
    return [cells.get(h, "") for h in PENALTY_HEADER]


def _plain(row) -> tuple:
    return (row.number, row.values, row.raw, row.errors, row.placeholders)


def test_memoised_outcomes_equal_fresh_ones_and_the_memo_stays_small(monkeypatch):
    monkeypatch.setattr(validate_module, "MEMO_LIMIT", 8)
    memoised = _validator()
    results = [_plain(memoised.validate(i + 2, _row(i % 40))) for i in range(200)]
    for i, got in enumerate(results):
        assert got == _plain(_validator().validate(i + 2, _row(i % 40)))  # a fresh validator has no memo
    assert any(r[3] for r in results) and any(not r[3] for r in results)
    assert all(len(memo) <= 8 for _, _, memo, _ in memoised._plans)


def test_memoised_judgement_equals_judge():
    catalog = get_catalog()
    rng = random.Random(3)
    for code, dept in (("admin_penalty", "scjgj"), ("admin_penalty", "fgw"), ("admin_license", "scjgj")):
        cls = catalog.get(code)
        preparer = RowPreparer(cls, dept)
        for _ in range(400):
            start = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 3000))
            values = {
                "decision_date": start,
                "penalty_category": rng.choice([["fine"], ["warning"], ["fine", "revoke_license"], "fine", []]),
                "fine_amount": rng.choice([None, Decimal("0.5"), Decimal("5"), Decimal("120")]),
                "severity": rng.choice([None, None, "minor", "serious"]),
                "penalty_valid_until": rng.choice([None, date(2099, 12, 31), start + timedelta(days=900)]),
                "valid_to": rng.choice([None, date(2099, 12, 31), start + timedelta(days=400)]),
            }
            values = {k: v for k, v in values.items() if v not in (None, [])}
            assert preparer.judge(values) == publicity_rules.judge(code, values, dept), values


def _subject_rows(n: int, **extra) -> list[dict]:
    now = clock.now()
    return [
        {"kind": "legal_person", "name": f"公司{i}", "name_key": f"公司{i}", "name_initials": "gs"}
        | {"uscc": None, "district_code": None, "status": "active", "created_at": now}
        | extra
        for i in range(n)
    ]


def test_bulk_insert_ids_follow_rows_after_earlier_inserts(session):
    first = insert_rows(session, Subject, _subject_rows(3), return_ids=True)
    second = insert_rows(session, Subject, _subject_rows(4), return_ids=True)
    assert second == list(range(second[0], second[0] + 4)) and second[0] > first[-1]
    names = dict(session.execute(select(Subject.id, Subject.name)).all())
    assert [names[i] for i in first + second] == [f"公司{i}" for i in range(3)] + [f"公司{i}" for i in range(4)]


@pytest.mark.skipif(BACKEND != "sqlite", reason="COPY applies no Python-side defaults (see core.bulk)")
def test_bulk_insert_keeps_python_defaults_for_none(session):
    rows = _subject_rows(2)
    rows[1]["status"] = None  # the ORM leaves None out and the column's default ("active") applies
    ids = insert_rows(session, Subject, rows, return_ids=True)
    assert [session.get(Subject, i).status for i in ids] == ["active", "active"]


@pytest.mark.skipif(BACKEND != "sqlite", reason="the stored JSON text is SQLite's")
def test_sqlite_executemany_writes_the_text_the_orm_writes(session):
    from xinyong.accounts.service import find_department
    from xinyong.collection.models import Batch, Rejection

    batch = Batch(
        department_id=find_department(session, "scjgj").id,
        info_class="admin_penalty",
        channel="cli",
        file_name="x.csv",
        file_sha256="0" * 64,
        submitted_by="test",
        submitted_at=clock.now(),
    )
    session.add(batch)
    session.flush()
    row = {"batch_id": batch.id, "row_number": 2, "column": "列", "error_code": "x", "message": "第 2 行"}
    insert_rows(session, Rejection, [row | {"raw": {"名称": "南京", "n": 1}}, row | {"raw": None}])
    stored = session.execute(text("SELECT raw FROM rejections ORDER BY id")).scalars().all()
    assert stored == [json.dumps({"名称": "南京", "n": 1}), "null"]
