"""The check API's fast paths: a check resolved and gathered in one statement and written with Core, the JSON
assembled from parts, and API clients cached for a few seconds. Each must behave exactly as the plain path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from tests.builders import NANJING_STEEL, make_subject
from tests.lists.helpers import list_through_procedure
from xinyong.accounts import service as accounts
from xinyong.accounts.deps import CLIENT_CACHE_SECONDS, ClientCache
from xinyong.accounts.models import ApiClient
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.db import get_engine
from xinyong.core.errors import NotFound
from xinyong.measures import service as measures
from xinyong.measures.models import Check

SCENARIO = "government_procurement"


def _client(session, name="政府采购交易系统", permissions=("check",)):
    return accounts.create_client(session, audit.SYSTEM, name=name, permissions=list(permissions))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- check_key ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        NANJING_STEEL,
        NANJING_STEEL.lower(),
        f"  {NANJING_STEEL} ",
        "９１３２０１００７４８２０４６６０Ｑ",
        "91320100-748204660Q",
    ],
)
def test_check_key_finds_the_subject_as_subject_by_key_does(session, key):
    subject = make_subject(session)
    result = measures.check_key(session, key, SCENARIO)
    assert (result.subject_id, result.uscc, result.subject_name) == (subject.id, subject.uscc, subject.name)
    assert measures.check_key(session, str(subject.id), SCENARIO).subject_id == subject.id


def test_check_key_of_an_unknown_subject_is_not_found_and_stores_nothing(session):
    make_subject(session)
    for key in ("91320100000000000X", "9999999", " 不存在 "):
        with pytest.raises(NotFound, match=f"未找到信用主体“{key.strip()}”"):
            measures.check_key(session, key, SCENARIO)
    assert session.scalars(select(Check)).all() == []


def test_a_check_writes_its_row_and_its_event_in_the_callers_transaction(session):
    subject = make_subject(session)
    entry = list_through_procedure(session, subject)
    client = _client(session).client
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement != "BEGIN":  # SQLite's deferred BEGIN (core.db)
            statements.append(statement)

    engine = get_engine(session.get_bind().url.render_as_string(hide_password=False))
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = measures.check_key(session, subject.uscc, SCENARIO, client)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # SQLite: the read, the check, its event; PostgreSQL runs its two (the read; the check with its event) on the
    # driver connection, unseen here
    assert len(statements) <= 3, statements
    stored = session.get(Check, result.check_id)
    assert stored.result == result.body() and stored.client_id == client.id and stored.actor == f"client:{client.id}"
    assert stored.result["measures"][0]["because"][0]["entry_id"] == entry.id
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "check.run"))
    assert (ev.target_type, ev.target_id, ev.actor, ev.actor_name) == (
        "check",
        str(result.check_id),
        stored.actor,
        client.name,
    )
    assert ev.details == {
        "subject_id": subject.id,
        "scenario": SCENARIO,
        "standing": "on_dishonesty_list",
        "measures": ["samr_list_procurement_restriction"],
    }
    session.rollback()  # a rolled-back check leaves neither its row nor its event
    assert session.scalars(select(Check)).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "check.run")).all() == []


# --- JSON assembled from parts --------------------------------------------------------------------------------


def test_the_json_of_a_check_and_of_a_batch_is_their_dict(session):
    odd = make_subject(session, name='南京"引号\\反斜杠\n换行有限公司')
    list_through_procedure(session, odd)
    session.commit()
    single = measures.check_key(session, odd.uscc, SCENARIO)
    assert json.loads(single.to_json()) == json.loads(json.dumps(single.to_dict()))
    assert single.measures and json.loads(single.body_json()) == single.body()
    keys = [odd.uscc, str(odd.id), 'x"\\y', "不存在", odd.uscc]
    batch = measures.check_batch(session, keys, SCENARIO)
    assert json.loads(batch.to_json()) == json.loads(json.dumps(batch.to_dict()))
    body = batch.to_dict()
    assert (body["total"], body["found"], body["unknown"]) == (5, 3, 2)
    assert len({i["check_id"] for i in body["items"] if i["found"]}) == 3  # one check row per key found
    for item in body["items"]:
        if item["found"]:
            assert session.get(Check, item["check_id"]).result == {
                k: v for k, v in item.items() if k not in ("key", "found", "check_id", "request_id")
            }


def test_the_batch_over_http_answers_per_item(client, session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    token = _client(session).token
    session.commit()
    r = client.post(
        "/api/v1/checks/batch",
        json={"subjects": [subject.uscc, "不存在", str(subject.id)], "scenario": SCENARIO},
        headers=_auth(token),
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert (body["total"], body["found"], body["unknown"]) == (3, 2, 1)
    first, unknown, by_id = body["items"]
    assert first["standing"] == "严重失信主体名单内" and first["measures"] == by_id["measures"]
    assert unknown == {"key": "不存在", "found": False, "message": "未找到信用主体“不存在”"}
    session.expire_all()
    assert {c.request_id for c in session.scalars(select(Check))} == {body["request_id"]}


# --- the API client cache -------------------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _check(client, token):
    return client.post("/api/v1/checks", json={"subject": NANJING_STEEL, "scenario": SCENARIO}, headers=_auth(token))


def test_revoking_a_client_takes_effect_within_the_cache_bound(app, client, session):
    monotonic = FakeMonotonic()
    app.state.client_cache = ClientCache(monotonic=monotonic)
    make_subject(session)
    made = _client(session)
    session.commit()
    assert _check(client, made.token).status_code == 200
    session.execute(update(ApiClient).where(ApiClient.id == made.client.id).values(active=False))
    session.commit()
    monotonic.now += CLIENT_CACHE_SECONDS - 0.5
    assert _check(client, made.token).status_code == 200  # the documented bound: up to 5 s more
    monotonic.now += 1
    r = _check(client, made.token)
    assert r.status_code == 401 and r.json()["error"] == "token_invalid"


def test_a_withdrawn_permission_takes_effect_within_the_cache_bound(app, client, session):
    monotonic = FakeMonotonic()
    app.state.client_cache = ClientCache(monotonic=monotonic)
    make_subject(session)
    made = _client(session)
    session.commit()
    assert _check(client, made.token).status_code == 200
    session.execute(update(ApiClient).where(ApiClient.id == made.client.id).values(permissions=["submit"]))
    session.commit()
    monotonic.now += CLIENT_CACHE_SECONDS + 0.1
    r = _check(client, made.token)
    assert r.status_code == 403 and r.json()["error"] == "permission_missing"


def test_bad_tokens_are_refused_and_never_cached(app, client, session):
    make_subject(session)
    made = _client(session)
    session.commit()
    wrong = made.token[:-4] + ("AAAA" if not made.token.endswith("AAAA") else "BBBB")
    for headers in ({}, {"Authorization": "Basic x"}, _auth(wrong)):
        r = client.post("/api/v1/checks", json={"subject": NANJING_STEEL, "scenario": SCENARIO}, headers=headers)
        assert r.status_code == 401
    assert getattr(app.state, "client_cache", None) is None or app.state.client_cache._entries == {}


def _last_used(session, client_id):
    session.rollback()  # a snapshot taken now (SQLite keeps the transaction's)
    return session.scalar(select(ApiClient.last_used_at).where(ApiClient.id == client_id))


def test_last_used_at_is_written_at_most_every_few_minutes(app, client, session):
    monotonic = FakeMonotonic()
    app.state.client_cache = ClientCache(monotonic=monotonic)
    make_subject(session)
    made = _client(session)
    session.commit()
    assert _check(client, made.token).status_code == 200
    first = _last_used(session, made.client.id)
    assert first is not None
    monotonic.now += CLIENT_CACHE_SECONDS + 1  # looked up again, but too soon to write
    clock.move(timedelta(minutes=1))
    assert _check(client, made.token).status_code == 200
    assert _last_used(session, made.client.id) == first
    monotonic.now += CLIENT_CACHE_SECONDS + 1
    clock.move(timedelta(minutes=5))
    assert _check(client, made.token).status_code == 200
    assert _last_used(session, made.client.id) > first
