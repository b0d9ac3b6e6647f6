from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from tests.builders import PASSWORD, make_person, make_subject, make_user
from tests.lists.helpers import OFFICER, list_through_procedure
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.db import get_engine
from xinyong.core.errors import Conflict
from xinyong.lists import rules
from xinyong.lists import service as lists
from xinyong.lists.rules import TRANSITIONS, Action, EntryState

STATUTORY_PATH = [
    (EntryState.PROPOSED, Action.NOTIFY, EntryState.NOTICED),
    (EntryState.NOTICED, Action.RECORD_STATEMENT, EntryState.STATEMENT_PERIOD),
    (EntryState.STATEMENT_PERIOD, Action.DECIDE, EntryState.DECIDED),
    (EntryState.DECIDED, Action.PUBLISH, EntryState.IN_PUBLICITY),
    (EntryState.IN_PUBLICITY, Action.REMOVE, EntryState.REMOVED),
]


# --- the transition table (pure) ---------------------------------------------------------------------------


def test_transition_table_allows_the_statutory_order():
    for state, action, target in STATUTORY_PATH:
        assert rules.transition(state, action) == target


@pytest.mark.parametrize("state", list(EntryState))
@pytest.mark.parametrize("action", list(Action))
def test_transition_table_refuses_every_step_it_does_not_list(state, action):
    sources, target = TRANSITIONS[action]
    if state in sources:
        assert rules.transition(state, action) == target
    else:
        with pytest.raises(Conflict) as exc:
            rules.transition(state, action)
        assert exc.value.status_code == 409
        assert rules.STATE_LABELS[state] in exc.value.message


def test_publicity_is_reachable_only_from_a_decision_and_a_decision_only_after_notice():
    assert TRANSITIONS[Action.PUBLISH][0] == {EntryState.DECIDED}
    assert EntryState.PROPOSED not in TRANSITIONS[Action.DECIDE][0]
    assert not {EntryState.REMOVED, EntryState.WITHDRAWN} & set().union(*(s for s, _ in TRANSITIONS.values()))


def test_every_dishonesty_list_requires_the_procedure_and_states_its_basis():
    types = rules.catalogue().types
    assert {"samr_serious_illegal", "tax_major_violation", "procurement_serious_dishonesty"} <= set(types)
    assert {"court_dishonest_executee", "tax_a_level", "honest_citizen", "demonstration_enterprise"} <= set(types)
    for t in types.values():
        assert t.legal_basis and t.removal_conditions and t.authority
        assert t.procedure_required == (t.kind == "dishonesty")
    assert types["samr_serious_illegal"].term_months == 36


def test_add_months_clamps_to_month_end():
    assert rules.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert rules.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# --- the procedure -----------------------------------------------------------------------------------------


def test_publishing_without_notice_and_decision_is_refused(session):
    entry = lists.propose(
        session, OFFICER, list_type="samr_serious_illegal", subject=make_subject(session), reason="虚假材料"
    )
    with pytest.raises(Conflict, match="拟列入"):
        lists.publish(session, entry, OFFICER)
    lists.notify(session, entry, OFFICER, doc_no="告〔2026〕1号")
    with pytest.raises(Conflict, match="已告知"):
        lists.publish(session, entry, OFFICER)
    assert entry.publicity_from is None and entry.state == EntryState.NOTICED


def test_decision_waits_for_the_end_of_the_statement_period(session):
    entry = lists.propose(
        session, OFFICER, list_type="tax_major_violation", subject=make_subject(session), reason="逃避追缴欠税"
    )
    lists.notify(session, entry, OFFICER, doc_no="税告〔2026〕1号")
    assert entry.statement_deadline > clock.today()
    with pytest.raises(Conflict, match="陈述申辩期"):
        lists.decide(session, entry, OFFICER, doc_no="税决〔2026〕1号")
    clock.move(timedelta(days=15))  # 5 working days have surely passed
    lists.decide(session, entry, OFFICER, doc_no="税决〔2026〕1号")
    assert entry.state == EntryState.DECIDED


def test_a_subject_is_listed_through_the_whole_procedure_with_its_papers_and_audit(session):
    subject = make_subject(session)
    entry = list_through_procedure(session, subject)
    session.commit()

    assert entry.state == EntryState.IN_PUBLICITY
    assert [d["step"] for d in entry.documents] == ["notice", "statement_reply", "decision"]
    decision = entry.documents[-1]
    assert decision["doc_no"] == "宁市监列〔2026〕1号" and "移出" in decision["removal_conditions"]
    assert "第44号" in entry.documents[0]["basis"] and "陈述" in entry.documents[0]["rights"]
    assert entry.notice_at and entry.decided_at and entry.statement_reply
    assert entry.term_end == rules.add_months(clock.today(), 36)
    steps = [(e.action, e.from_state, e.to_state) for e in lists.history(session, entry.id)]
    assert steps == [
        ("propose", None, "proposed"),
        ("notify", "proposed", "noticed"),
        ("record_statement", "noticed", "statement_period"),
        ("decide", "statement_period", "decided"),
        ("publish", "decided", "in_publicity"),
    ]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert [a for a in actions if a.startswith("list.")] == [
        "list.propose",
        "list.notify",
        "list.record_statement",
        "list.decide",
        "list.publish",
    ]
    assert audit.verify(session).ok
    assert [e.id for e in lists.active_entries(session, [subject.id], clock.today())[subject.id]] == [entry.id]


def test_a_second_open_case_on_the_same_list_is_refused(session):
    subject = make_subject(session)
    lists.propose(session, OFFICER, list_type="samr_serious_illegal", subject=subject, reason="一")
    with pytest.raises(Conflict, match="未结束"):
        lists.propose(session, OFFICER, list_type="samr_serious_illegal", subject=subject, reason="二")


def test_incentive_lists_are_entered_directly_and_dishonesty_lists_never(session):
    subject = make_subject(session)
    entry = lists.enter_incentive(session, OFFICER, list_type="tax_a_level", subject=subject, reason="2025年度A级")
    assert entry.state == EntryState.IN_PUBLICITY and entry.term_end == rules.add_months(clock.today(), 12)
    with pytest.raises(Conflict, match="告知"):
        lists.enter_incentive(session, OFFICER, list_type="samr_serious_illegal", subject=subject, reason="x")


def test_withdrawal_is_possible_before_publicity_only(session):
    subject = make_subject(session)
    entry = lists.propose(session, OFFICER, list_type="samr_serious_illegal", subject=subject, reason="x")
    lists.notify(session, entry, OFFICER, doc_no="告1")
    lists.withdraw(session, entry, OFFICER, reason="申辩理由成立")
    assert entry.state == EntryState.WITHDRAWN
    listed = list_through_procedure(session, make_subject(session, uscc=None, name="另一公司"))
    with pytest.raises(Conflict, match="公示中"):
        lists.withdraw(session, listed, OFFICER, reason="x")


def test_early_removal_by_repair_waits_a_year_on_the_samr_list(session):
    entry = list_through_procedure(session, make_subject(session))
    with pytest.raises(Conflict, match="12个月"):
        lists.remove(session, entry, OFFICER, reason="repair")
    clock.move(timedelta(days=370))
    lists.remove(session, entry, OFFICER, reason="repair", doc_no="移〔2027〕1号")
    assert entry.state == EntryState.REMOVED and entry.removal_reason == "repair"


def test_expire_terms_removes_ended_entries_once(session):
    subject = make_subject(session)
    entry = list_through_procedure(session, subject)
    term_end = entry.term_end
    assert lists.expire_terms(session, term_end - timedelta(days=1)) == []
    clock.move(timedelta(days=(term_end - clock.today()).days))
    removed = lists.expire_terms(session, clock.today())
    assert [e.id for e in removed] == [entry.id]
    assert entry.state == EntryState.REMOVED and entry.removal_reason == "term_end"
    assert lists.expire_terms(session, clock.today()) == []
    assert lists.active_entries(session, [subject.id], clock.today()) == {}
    session.commit()
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "list.remove")).all() == ["list.remove"]


def test_active_entries_is_one_query_for_many_subjects(session):
    subjects = [make_subject(session, uscc=None, name=f"公司{i}") for i in range(30)]
    for s in subjects[:10]:
        list_through_procedure(session, s)
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = get_engine(session.get_bind().url.render_as_string(hide_password=False))
    event.listen(engine, "before_cursor_execute", count)
    try:
        found = lists.active_entries(session, [s.id for s in subjects], clock.today())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert set(found) == {s.id for s in subjects[:10]}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


# --- API and pages -----------------------------------------------------------------------------------------


def test_list_types_api_shows_legal_basis(client):
    body = client.get("/api/v1/lists").json()
    samr = next(t for t in body["items"] if t["code"] == "samr_serious_illegal")
    assert samr["name"] == "市场监督管理严重违法失信名单" and "第44号" in samr["legal_basis"]
    assert samr["procedure_required"] is True


def test_public_entries_show_only_entries_in_publicity_and_mask_persons(client, session):
    firm = make_subject(session)
    person = make_person(session, name="张晓明")
    list_through_procedure(session, firm, "court_dishonest_executee")
    list_through_procedure(session, person, "court_dishonest_executee")
    pending = lists.propose(
        session,
        OFFICER,
        list_type="court_dishonest_executee",
        subject=make_subject(session, uscc=None, name="待定公司"),
        reason="x",
    )
    session.commit()
    body = client.get("/api/v1/lists/court_dishonest_executee/entries").json()
    assert body["total"] == 2
    names = {i["subject_name"] for i in body["items"]}
    assert names == {"南京钢铁联合有限公司", "张*明"}
    firm_item = next(i for i in body["items"] if i["uscc"])
    assert firm_item["listing_authority"] == "南京市中级人民法院" and firm_item["decision_no"] == "宁市监列〔2026〕1号"
    assert "张晓明" not in client.get("/api/v1/lists/court_dishonest_executee/entries").text
    assert pending.id not in {i["entry_id"] for i in body["items"]}
    assert client.get("/api/v1/lists/nope/entries").status_code == 404


def _login(client, session, role="credit_office"):
    make_user(session, "officer", role)
    session.commit()
    assert (
        client.post("/login", data={"username": "officer", "password": PASSWORD}, follow_redirects=False).status_code
        == 303
    )


def test_office_page_runs_the_procedure_step_by_step(client, session):
    subject = make_subject(session)
    _login(client, session)
    r = client.post(
        "/office/lists",
        data={"list_type": "samr_serious_illegal", "subject": subject.uscc, "reason": "虚假材料"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.expire_all()
    entry_id = lists.list_entries(session)[0][0].id
    assert client.post(f"/office/lists/{entry_id}/publish", follow_redirects=False).status_code == 409
    assert (
        client.post(f"/office/lists/{entry_id}/notify", data={"doc_no": "告1"}, follow_redirects=False).status_code
        == 303
    )
    r = client.post(
        f"/office/lists/{entry_id}/decide", data={"doc_no": "决1", "waived": "true"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.post(f"/office/lists/{entry_id}/publish", follow_redirects=False).status_code == 303
    page = client.get("/office/lists?state=in_publicity")
    assert page.status_code == 200 and "公示中" in page.text and "决1" in page.text and "移出" in page.text


def test_office_page_is_for_the_credit_office_only(client, session):
    assert client.get("/office/lists", follow_redirects=False).status_code == 303
    _login(client, session, role="department")
    assert client.get("/office/lists").status_code == 403
