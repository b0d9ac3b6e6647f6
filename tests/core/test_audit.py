from __future__ import annotations

import itertools

from sqlalchemy import select, text, update
from typer.testing import CliRunner

from xinyong.cli import app as cli
from xinyong.core import audit
from xinyong.core.audit import Actor, AuditEvent


def _events(session):
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_events_are_written_only_when_the_transaction_commits(session):
    audit.record(session, Actor("user:1", "甲"), "thing.change", "thing", 1, {"a": 1})
    session.rollback()
    assert [e for e in _events(session) if e.action == "thing.change"] == []
    audit.record(session, Actor("user:1", "甲"), "thing.change", "thing", 1, {"a": 1})
    session.commit()
    [ev] = [e for e in _events(session) if e.action == "thing.change"]
    assert ev.details == {"a": 1}
    assert ev.actor_name == "甲"


def _seal(session) -> None:
    audit.seal(session)
    session.commit()


def test_chain_links_each_event_to_the_previous(session):
    for i in range(3):
        audit.record(session, audit.SYSTEM, "step", "thing", i, {"i": i})
        session.commit()
    _seal(session)
    events = _events(session)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for prev, ev in itertools.pairwise(events):
        assert ev.prev_hash == prev.hash
    assert events[0].prev_hash == audit.GENESIS
    assert audit.verify(session).ok


def test_verify_names_the_edited_event_and_cli_exits_non_zero(session):
    for i in range(5):
        audit.record(session, audit.SYSTEM, "step", "thing", i, {"i": i, "名称": "南京"})
    session.commit()
    runner = CliRunner()  # `audit verify` seals what is committed, then checks
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "完好" in ok.output

    session.rollback()
    target = _events(session)[2]
    assert target.seq == 3 and target.hash
    session.execute(text("UPDATE audit_events SET target_id = '999' WHERE seq = :s"), {"s": target.seq})
    session.commit()
    result = audit.verify(session)
    assert not result.ok and result.broken_seq == target.seq
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"第 {target.seq} 号事件" in bad.output


def test_verify_detects_a_deleted_event_and_a_rewritten_link(session):
    for i in range(4):
        audit.record(session, audit.SYSTEM, "step", "thing", i)
    session.commit()
    _seal(session)
    events = _events(session)
    session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": events[1].seq})
    session.commit()
    assert audit.verify(session).broken_seq == events[1].seq


def test_rehashing_an_edited_event_still_breaks_the_next_link(session):
    for i in range(3):
        audit.record(session, audit.SYSTEM, "step", "thing", i)
    session.commit()
    _seal(session)
    first = _events(session)[0]
    forged = audit.event_hash(
        first.prev_hash,
        first.seq,
        first.occurred_at,
        first.actor,
        first.actor_name,
        first.action,
        first.target_type,
        "forged",
        first.details,
    )
    session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(target_id="forged", hash=forged))
    session.commit()
    result = audit.verify(session)
    assert result.broken_seq == first.seq + 1


def test_unsealed_events_are_reported_and_sealing_twice_changes_nothing(session, clean_db):
    from xinyong.core.db import get_engine, make_sessionmaker

    factory = make_sessionmaker(get_engine(clean_db))
    audit.seal_all(factory)
    for i in range(3):
        audit.record(session, audit.SYSTEM, "late", "thing", i)
    session.commit()
    before = audit.verify(session)
    assert before.ok and before.unsealed == 3
    assert audit.seal_all(factory) == 3
    assert audit.seal_all(factory) == 0
    session.rollback()
    after = audit.verify(session)
    assert after.ok and after.unsealed == 0 and after.checked == before.checked + 3


def test_writers_do_not_wait_for_each_other_to_audit(session, clean_db):
    """Two transactions that each audit a change commit in either order; the chain orders them when sealed."""
    from xinyong.core.db import get_engine, make_sessionmaker

    factory = make_sessionmaker(get_engine(clean_db))
    concurrent = session.get_bind().dialect.name == "postgresql"  # SQLite has one writer at a time anyway
    with factory() as first, factory() as second:
        audit.record(first, audit.SYSTEM, "first", "thing", 1)
        audit.record(second, audit.SYSTEM, "second", "thing", 2)
        if concurrent:
            first.flush()
            second.flush()  # both hold open write transactions with their events at once: no chain lock
        second.commit()
        first.commit()
    audit.seal_all(factory)
    session.rollback()
    actions = [e.action for e in _events(session) if e.action in ("first", "second")]
    assert sorted(actions) == ["first", "second"] and audit.verify(session).ok
