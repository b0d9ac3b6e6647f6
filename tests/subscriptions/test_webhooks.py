"""Subscriptions and signed webhooks, sent for real to a local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.builders import make_person, make_subject, valid_uscc
from tests.lists.helpers import OFFICER, list_through_procedure
from xinyong.accounts import service as accounts
from xinyong.core import audit, clock
from xinyong.core.errors import DomainError, NotFound
from xinyong.lists import rules
from xinyong.lists import service as lists
from xinyong.subscriptions import service as subs
from xinyong.subscriptions.models import WebhookDelivery

SUBSCRIBER = audit.Actor("client:test", "风控系统")


# --- a real receiver -----------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 (free port) that records every request and answers `receiver.status`."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/xinyong"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def verify_as_documented(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's recipe from the service docstring, written out independently of the service."""
    timestamp = headers["x-xinyong-timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(clock.now().timestamp() - int(timestamp)) <= 300
    return fresh and hmac.compare_digest(expected, headers["x-xinyong-signature"])


def make_client(session, name: str = "风控系统", permissions: tuple[str, ...] = ("subscribe",)):
    return accounts.create_client(session, audit.SYSTEM, name=name, permissions=list(permissions))


def deliveries(session) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


# --- the outbox and delivery ---------------------------------------------------------------------------------


def test_a_listed_subject_is_pushed_once_with_a_signature_that_verifies(session, receiver):
    subject = make_subject(session)
    client = make_client(session).client
    subscription, secret = subs.subscribe(session, client, "subject", subject.uscc, receiver.url, SUBSCRIBER)
    assert subscription.target == str(subject.id) and secret.startswith("whsec_")
    entry = list_through_procedure(session, subject)
    session.commit()

    [pending] = deliveries(session)
    assert (pending.state, pending.event_type, pending.attempts) == ("pending", "list.entered", 0)

    stats = subs.deliver_due(session, clock.now())
    session.commit()
    assert (stats.attempted, stats.delivered) == (1, 1)
    [request] = receiver.requests
    assert request.path == "/hooks/xinyong"
    assert request.headers["x-xinyong-event"] == "list.entered"
    assert request.headers["x-xinyong-delivery"] == pending.event_id
    assert verify_as_documented(secret, request.headers, request.body)
    assert subs.verify_signature(
        secret,
        request.headers["x-xinyong-timestamp"],
        request.body,
        request.headers["x-xinyong-signature"],
        now=clock.now().timestamp(),
    )
    event = request.json
    assert event["id"] == pending.event_id and event["type"] == "list.entered"
    assert event["data"]["entry_id"] == entry.id and event["data"]["list_type"] == "samr_serious_illegal"
    assert event["data"]["subject"] == {
        "id": subject.id,
        "kind": "legal_person",
        "name": subject.name,
        "uscc": subject.uscc,
    }
    assert event["data"]["term_end"] == entry.term_end.isoformat()

    session.expire_all()
    [done] = deliveries(session)
    assert (done.state, done.attempts, done.last_status_code) == ("delivered", 1, 200)
    assert done.delivered_at is not None and done.next_attempt_at is None

    clock.move(timedelta(days=1))
    assert subs.deliver_due(session, clock.now()).attempted == 0  # a delivered row is never resent
    assert len(receiver.requests) == 1


def test_a_tampered_body_or_a_wrong_secret_or_an_old_timestamp_fails_verification(session, receiver):
    subject = make_subject(session)
    _, secret = subs.subscribe(
        session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER
    )
    list_through_procedure(session, subject)
    subs.deliver_due(session, clock.now())
    [request] = receiver.requests
    assert verify_as_documented(secret, request.headers, request.body)

    tampered = request.body.replace(b'"list.entered"', b'"list.left"')
    assert tampered != request.body
    assert not verify_as_documented(secret, request.headers, tampered)
    assert not verify_as_documented("whsec_someone-else", request.headers, request.body)
    ts, sig = request.headers["x-xinyong-timestamp"], request.headers["x-xinyong-signature"]
    assert not subs.verify_signature(secret, ts, tampered, sig, now=int(ts))
    assert not subs.verify_signature(secret, ts, request.body, sig, now=int(ts) + 301)  # a replay, too late
    assert subs.verify_signature(secret, ts, request.body, sig, now=int(ts) + 299)


def test_persons_names_are_not_pushed(session, receiver):
    person = make_person(session)
    subs.subscribe(session, make_client(session).client, "subject", str(person.id), receiver.url, SUBSCRIBER)
    list_through_procedure(session, person)
    subs.deliver_due(session, clock.now())
    data = receiver.requests[0].json["data"]
    assert data["subject"] == {"id": person.id, "kind": "natural_person", "name": None, "uscc": None}
    assert "张晓明" not in receiver.requests[0].body.decode()


def test_a_failing_receiver_is_retried_with_backoff_then_the_delivery_fails(session, receiver):
    receiver.status = 500
    subject = make_subject(session)
    subs.subscribe(session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER)
    list_through_procedure(session, subject)
    session.commit()
    assert subs.MAX_ATTEMPTS == 6 and [d.total_seconds() for d in subs.BACKOFF] == [60, 300, 1800, 7200, 43200]

    for attempt, wait in enumerate(subs.BACKOFF, start=1):
        stats = subs.deliver_due(session, clock.now())
        session.commit()
        assert (stats.attempted, stats.retrying) == (1, 1)
        [d] = deliveries(session)
        assert (d.state, d.attempts, d.last_status_code, d.last_error) == ("pending", attempt, 500, "HTTP 500")
        assert d.next_attempt_at == d.last_attempt_at + wait
        clock.move(wait - timedelta(seconds=1))
        assert subs.deliver_due(session, clock.now()).attempted == 0  # not yet due
        clock.move(timedelta(seconds=1))

    stats = subs.deliver_due(session, clock.now())
    session.commit()
    assert (stats.attempted, stats.failed) == (1, 1)
    [d] = deliveries(session)
    assert (d.state, d.attempts, d.next_attempt_at, d.delivered_at) == ("failed", 6, None, None)
    assert len(receiver.requests) == 6
    assert len({r.headers["x-xinyong-delivery"] for r in receiver.requests}) == 1  # the receiver can dedupe
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes each time
    clock.move(timedelta(days=7))
    assert subs.deliver_due(session, clock.now()).attempted == 0


def test_a_receiver_that_recovers_gets_the_event_on_a_retry(session, receiver):
    receiver.status = 503
    subject = make_subject(session)
    subs.subscribe(session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER)
    list_through_procedure(session, subject)
    subs.deliver_due(session, clock.now())
    receiver.status = 204
    clock.move(subs.BACKOFF[0])
    assert subs.deliver_due(session, clock.now()).delivered == 1
    [d] = deliveries(session)
    assert (d.state, d.attempts, d.last_status_code, d.last_error) == ("delivered", 2, 204, None)


def test_an_unreachable_receiver_is_logged_as_an_error_and_retried(session):
    subject = make_subject(session)
    subs.subscribe(session, make_client(session).client, "subject", str(subject.id), "http://127.0.0.1:9/x", SUBSCRIBER)
    list_through_procedure(session, subject)

    def refuse(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise ConnectionRefusedError("connection refused")

    stats = subs.deliver_due(session, clock.now(), send=refuse)
    [d] = deliveries(session)
    assert stats.retrying == 1 and d.state == "pending" and d.last_status_code is None
    assert d.last_error == "ConnectionRefusedError: connection refused"


def test_a_rolled_back_list_change_leaves_no_delivery(session):
    subject = make_subject(session)
    subs.subscribe(
        session, make_client(session).client, "subject", str(subject.id), "https://risk.example/hook", SUBSCRIBER
    )
    session.commit()
    list_through_procedure(session, subject)
    assert len(deliveries(session)) == 1  # written in the list change's transaction…
    session.rollback()
    assert deliveries(session) == []  # …and gone with it
    assert subs.deliver_due(session, clock.now()).attempted == 0


def test_expiry_at_the_end_of_the_term_pushes_list_left(session, receiver):
    subject = make_subject(session)
    _, secret = subs.subscribe(
        session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER
    )
    entry = list_through_procedure(session, subject)
    session.commit()
    subs.deliver_due(session, clock.now())
    session.commit()

    clock.move(timedelta(days=366 * 3))
    assert clock.today() >= entry.term_end
    assert lists.expire_terms(session, clock.today()) == [entry]
    session.commit()
    stats = subs.deliver_due(session, clock.now())
    session.commit()
    assert stats.delivered == 1
    assert [r.headers["x-xinyong-event"] for r in receiver.requests] == ["list.entered", "list.left"]
    left = receiver.requests[1]
    assert verify_as_documented(secret, left.headers, left.body)
    assert left.json["data"]["state"] == "removed" and left.json["data"]["removal_reason"] == "term_end"
    assert lists.expire_terms(session, clock.today()) == []  # idempotent: nothing queued twice
    assert len(deliveries(session)) == 2


def test_early_removal_pushes_list_left(session, receiver):
    subject = make_subject(session)
    subs.subscribe(session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER)
    entry = list_through_procedure(session, subject)
    lists.remove(session, entry, OFFICER, reason="withdrawn_decision", doc_no="宁市监撤〔2026〕1号")
    subs.deliver_due(session, clock.now())
    assert [r.json["type"] for r in receiver.requests] == ["list.entered", "list.left"]


def test_a_list_subscription_gets_events_for_every_subject_on_that_list_only(session, receiver):
    client = make_client(session).client
    subs.subscribe(session, client, "list", "samr_serious_illegal", receiver.url, SUBSCRIBER)
    first = make_subject(session)
    second = make_subject(session, name="南京某建材有限公司", uscc=valid_uscc(2))
    other = make_subject(session, name="南京某贸易有限公司", uscc=valid_uscc(3))
    list_through_procedure(session, first)
    list_through_procedure(session, second)
    list_through_procedure(session, other, list_type="tax_major_violation")
    incentive = next(t.code for t in rules.catalogue().types.values() if not t.procedure_required)
    lists.enter_incentive(session, OFFICER, list_type=incentive, subject=other, reason="纳税信用A级")
    assert subs.deliver_due(session, clock.now()).delivered == 2
    assert sorted(r.json["data"]["subject"]["id"] for r in receiver.requests) == [first.id, second.id]


def test_incentive_entry_is_pushed_and_one_change_reaches_every_matching_subscription(session, receiver):
    subject = make_subject(session)
    incentive = next(t.code for t in rules.catalogue().types.values() if not t.procedure_required)
    bank = make_client(session, "银行").client
    other = make_client(session, "公积金系统").client
    subs.subscribe(session, bank, "subject", str(subject.id), receiver.url, SUBSCRIBER)
    subs.subscribe(session, other, "list", incentive, receiver.url + "?who=other", SUBSCRIBER)
    unrelated, _ = subs.subscribe(session, other, "list", "samr_serious_illegal", receiver.url, SUBSCRIBER)
    lists.enter_incentive(session, OFFICER, list_type=incentive, subject=subject, reason="守信激励")
    queued = deliveries(session)
    assert len(queued) == 2 and unrelated.id not in {d.subscription_id for d in queued}
    assert len({d.event_id for d in queued}) == 2
    subs.deliver_due(session, clock.now())
    assert sorted(r.path for r in receiver.requests) == ["/hooks/xinyong", "/hooks/xinyong?who=other"]


def test_a_cancelled_subscription_gets_nothing_more(session, receiver):
    subject = make_subject(session)
    subscription, _ = subs.subscribe(
        session, make_client(session).client, "subject", str(subject.id), receiver.url, SUBSCRIBER
    )
    list_through_procedure(session, subject)
    subs.unsubscribe(session, subscription, SUBSCRIBER)
    [d] = deliveries(session)
    assert (d.state, d.last_error) == ("failed", "订阅已取消")
    assert subs.deliver_due(session, clock.now()).attempted == 0
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://risk.example/hook", "risk.example/hook", "https://", "javascript:alert(1)", "http://a b/", ""]
)
def test_callback_urls_must_be_absolute_http_or_https(session, url):
    subject = make_subject(session)
    with pytest.raises(DomainError) as exc:
        subs.subscribe(session, make_client(session).client, "subject", str(subject.id), url, SUBSCRIBER)
    assert exc.value.code == "bad_callback_url"


def test_unknown_targets_are_refused(session):
    client = make_client(session).client
    with pytest.raises(NotFound):
        subs.subscribe(session, client, "list", "no_such_list", "https://risk.example/hook", SUBSCRIBER)
    with pytest.raises(NotFound):
        subs.subscribe(session, client, "subject", "999999", "https://risk.example/hook", SUBSCRIBER)
    with pytest.raises(DomainError):
        subs.subscribe(session, client, "district", "320102", "https://risk.example/hook", SUBSCRIBER)


def test_matching_subscriptions_are_found_in_one_query(session):
    from sqlalchemy import event

    subject = make_subject(session)
    client = make_client(session).client
    for i in range(5):
        subs.subscribe(session, client, "subject", str(subject.id), f"https://risk.example/{i}", SUBSCRIBER)
        subs.subscribe(session, client, "list", "samr_serious_illegal", f"https://risk.example/l{i}", SUBSCRIBER)
    entry = list_through_procedure(session, subject)
    session.flush()
    statements: list[str] = []
    engine = session.get_bind()

    def count(conn, cursor, statement, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert subs.notify_list_change(session, entry, "entered") == 10
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in selects if "subscriptions" in s]) == 1
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 20


# --- API -----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    return client


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_creates_a_subscription_and_shows_the_secret_only_once(api, session):
    subject = make_subject(session)
    token = make_client(session).token
    session.commit()
    body = {"target_type": "subject", "target": subject.uscc, "callback_url": "https://risk.example/hook"}
    created = api.post("/api/v1/subscriptions", json=body, headers=_auth(token))
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_") and sub["target"] == str(subject.id) and sub["active"] is True

    listed = api.get("/api/v1/subscriptions", headers=_auth(token))
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert "secret" not in listed.json()["items"][0] and sub["secret"] not in listed.text
    assert api.post("/api/v1/subscriptions", json=body, headers=_auth(token)).status_code == 409
    bad = body | {"callback_url": "ftp://risk.example/hook"}
    assert api.post("/api/v1/subscriptions", json=bad, headers=_auth(token)).status_code == 400
    unknown = {"target_type": "list", "target": "nope", "callback_url": "https://risk.example/hook"}
    assert api.post("/api/v1/subscriptions", json=unknown, headers=_auth(token)).status_code == 404

    actions = session.scalars(select(audit.AuditEvent.action)).all()
    assert "subscription.create" in actions
    assert sub["secret"] not in json.dumps(session.scalars(select(audit.AuditEvent.details)).all())


def test_api_delivery_log_and_cancel(api, session):
    subject = make_subject(session)
    token = make_client(session).token
    session.commit()
    body = {"target_type": "subject", "target": str(subject.id), "callback_url": "https://risk.example/hook"}
    sub_id = api.post("/api/v1/subscriptions", json=body, headers=_auth(token)).json()["id"]
    list_through_procedure(session, subject)
    session.commit()
    subs.deliver_due(session, clock.now(), send=lambda url, body, headers: 502)
    session.commit()

    log = api.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=_auth(token))
    assert log.status_code == 200
    [item] = log.json()["items"]
    assert (item["event_type"], item["state"], item["attempts"], item["last_status_code"]) == (
        "list.entered",
        "pending",
        1,
        502,
    )
    assert item["payload"]["data"]["subject"]["id"] == subject.id

    assert api.delete(f"/api/v1/subscriptions/{sub_id}", headers=_auth(token)).status_code == 204
    assert api.get("/api/v1/subscriptions", headers=_auth(token)).json()["count"] == 0
    assert api.delete(f"/api/v1/subscriptions/{sub_id}", headers=_auth(token)).status_code == 409
    after = api.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=_auth(token)).json()["items"]
    assert after[0]["state"] == "failed" and after[0]["last_error"] == "订阅已取消"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/subscriptions"),
        ("get", "/api/v1/subscriptions"),
        ("delete", "/api/v1/subscriptions/{id}"),
        ("get", "/api/v1/subscriptions/{id}/deliveries"),
    ],
)
def test_api_permission_matrix(api, session, method, path):
    subject = make_subject(session)
    owner = make_client(session, "风控系统")
    checker = make_client(session, "采购系统", permissions=("check",))
    stranger = make_client(session, "另一银行")
    sub, _ = subs.subscribe(session, owner.client, "subject", str(subject.id), "https://risk.example/h", SUBSCRIBER)
    session.commit()
    url = path.format(id=sub.id)
    body = {"target_type": "subject", "target": str(subject.id), "callback_url": "https://other.example/h"}
    kwargs: dict[str, Any] = {"json": body} if method == "post" else {}
    call = getattr(api, method) if method != "post" else api.post

    assert call(url, **kwargs).status_code == 401
    assert call(url, headers=_auth("xy_bad_token"), **kwargs).status_code == 401
    denied = call(url, headers=_auth(checker.token), **kwargs)
    assert denied.status_code == 403 and "subscribe" in denied.text
    if "{id}" in path:
        assert call(url, headers=_auth(stranger.token), **kwargs).status_code == 404  # others' look absent
        assert call(path.format(id=sub.id + 999), headers=_auth(owner.token)).status_code == 404
    expected = {"post": 201, "get": 200, "delete": 204}[method]
    assert call(url, headers=_auth(owner.token), **kwargs).status_code == expected
