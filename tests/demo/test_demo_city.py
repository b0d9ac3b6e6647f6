"""Acceptance: the generated 10,000-subject city ingests with exactly the counts its manifest predicts, and
ingesting every file again adds nothing (issue: collection, "Done when")."""

from __future__ import annotations

from sqlalchemy import func, select

from xinyong.accounts.service import find_department
from xinyong.archive.models import CreditRecord, Subject
from xinyong.collection.service import ingest_file
from xinyong.core import audit, clock
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.demo.builder import DemoResult, _load
from xinyong.demo.generator import generate_city


def _counts(session) -> tuple[int, int, int]:
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(Subject)),
        session.scalar(select(func.count()).select_from(CreditRecord)),
        session.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.is_current.is_(True))),
    )


def test_ten_thousand_subject_city_ingests_as_predicted_and_again_adds_nothing(session, clean_db, tmp_path):
    # the validator judges 'future' by the platform clock, so the city is generated as of today
    manifest = generate_city(10_000, 2026, tmp_path / "city", as_of=clock.today())
    result = DemoResult(built=True)
    _load(clean_db, tmp_path / "city", manifest, result, lambda *_: None)
    assert result.mismatches == []
    assert result.rows == sum(f.rows for f in manifest.files) > 15_000
    assert result.rejected == sum(f.expected_rejected for f in manifest.files) > 0
    first = _counts(session)
    assert first[0] > 9_000 and first[1] == result.accepted

    factory = make_sessionmaker(get_engine(clean_db))
    again = 0
    for f in manifest.files:
        with factory() as s:
            summary = ingest_file(
                s,
                tmp_path / "city" / f.path,
                department=find_department(s, f.department),
                info_class=f.info_class,
                actor=audit.SYSTEM,
            )
            s.commit()
        again += summary.accepted
        assert (summary.duplicates, summary.rejected) == (f.expected_valid, f.expected_rejected), f.path
    assert again == 0
    assert _counts(session) == first
    assert audit.verify(session).ok
