"""The hub's one HTTP client: timeouts, 429/5xx/4xx, token bucket, single-flight refresh, the request log."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import json

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from integrations import http, ratelimits, tokens
from integrations.errors import AuthFailed, PermanentError, Throttled, TransientError, UndeclaredHost
from integrations.http import HubHttp
from integrations.models import Connection, ConnectionStatus, RequestLog, SyncJob, SyncRun
from tests.integrations.outbound_support import (  # noqa: F401  (fixtures)
    BASE,
    TinyConnector,
    fake_fixture,
    make_connection,
    tiny_fixture,
)

pytestmark = pytest.mark.django_db


class Clock:
    """Stands in for the hub's clock and sleep: sleeping moves time on."""

    def __init__(self) -> None:
        self.moment = timezone.now()
        self.slept: list[float] = []

    def now(self) -> datetime.datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    for module in (http, ratelimits, tokens):
        monkeypatch.setattr(module, "now", c.now)
    monkeypatch.setattr(ratelimits, "sleep", c.sleep)
    return c


def client(connection: Connection, **kw: int) -> HubHttp:
    return HubHttp(connection, TinyConnector, **kw)


def test_request_joins_the_base_url_authenticates_and_logs(tiny, fake):
    connection = make_connection()
    run = SyncRun.objects.create(connection=connection, job=SyncJob.TEST)

    response = client(connection, sync_run_id=run.pk).request("GET", "/shop", params={"fields": "name"})

    assert response.json() == {"name": "Tiny shop"}
    sent = fake.requests[-1]
    assert str(sent.url) == f"{BASE}/shop?fields=name"
    assert sent.headers["authorization"] == "Bearer tok-1"
    log = RequestLog.objects.get()
    assert (log.connection, log.sync_run, log.method, log.status_code) == (connection, run, "GET", 200)
    assert log.url == f"{BASE}/shop?fields=name"
    assert log.response_body == '{"name":"Tiny shop"}'
    assert log.duration_ms >= 0


def test_timeouts_come_from_settings(tiny, fake, settings):
    settings.INTEGRATIONS_HTTP_TIMEOUT = 7.5
    settings.INTEGRATIONS_HTTP_CONNECT_TIMEOUT = 1.5

    client(make_connection()).request("GET", "/shop")

    assert fake.requests[-1].extensions["timeout"] == {"connect": 1.5, "read": 7.5, "write": 7.5, "pool": 7.5}


def test_a_timeout_is_transient_and_logged(tiny, fake):
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    fake.then(too_slow)
    with pytest.raises(TransientError, match="timed out") as caught:
        client(make_connection()).request("GET", "/shop")

    log = RequestLog.objects.get()
    assert log.status_code is None
    assert "timed out" in log.error
    assert caught.value.request_log == log  # type: ignore[attr-defined]


def test_a_connection_error_is_transient(tiny, fake):
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.then(refused)
    with pytest.raises(TransientError, match="ConnectError"):
        client(make_connection()).request("GET", "/shop")


def test_a_5xx_is_transient(tiny, fake):
    fake.then(httpx.Response(503, text="down for maintenance"))
    with pytest.raises(TransientError, match="503"):
        client(make_connection()).request("GET", "/shop")
    assert RequestLog.objects.get().status_code == 503


def test_another_4xx_is_permanent_with_status_and_body(tiny, fake):
    fake.then(httpx.Response(422, json={"errors": {"available": ["must be a number"]}}))
    with pytest.raises(PermanentError) as caught:
        client(make_connection()).request("POST", "/inventory", json={"available": "x"})
    assert caught.value.status == 422
    assert "must be a number" in caught.value.body
    assert "must be a number" in str(caught.value)


def test_a_429_sets_throttled_until_raises_throttled_and_is_honoured(tiny, fake, clock):
    connection = make_connection()
    fake.then(
        httpx.Response(429, headers={"Retry-After": "30"}, json={"errors": "Exceeded 2 calls per second"})
    )

    with pytest.raises(Throttled) as caught:
        client(connection).request("GET", "/shop")

    assert caught.value.retry_after == 30
    connection.refresh_from_db()
    assert connection.throttled_until == clock.moment + datetime.timedelta(seconds=30)
    assert connection.status == ConnectionStatus.ACTIVE  # not a failure
    assert connection.last_failure_at is None
    # and honoured: the next request is not sent before then
    with pytest.raises(Throttled) as again:
        client(connection).request("GET", "/shop")
    assert again.value.retry_after == pytest.approx(30)
    assert len(fake.requests) == 1
    clock.moment += datetime.timedelta(seconds=31)
    assert client(connection).request("GET", "/shop").status_code == 200


def test_retry_after_as_an_http_date(tiny, fake, clock):
    when = email.utils.format_datetime(clock.moment + datetime.timedelta(seconds=120), usegmt=True)
    fake.then(httpx.Response(429, headers={"Retry-After": when}))
    with pytest.raises(Throttled) as caught:
        client(make_connection()).request("GET", "/shop")
    assert 118 <= caught.value.retry_after <= 120


def test_a_short_throttle_is_waited_out_in_process(tiny, fake, clock):
    # given: the tool says its bucket is nearly full (the connector's hint: wait 1 s)
    connection = make_connection()
    fake.then(httpx.Response(200, json={"name": "Tiny shop"}, headers={"x-tiny-calls": "39/40"}))
    api = client(connection)
    api.request("GET", "/shop")

    # when: the next request comes right away
    api.request("GET", "/shop")

    # then: it waited one second, then went out
    assert clock.slept == [1.0]
    assert len(fake.requests) == 2


def test_the_token_bucket_allows_a_burst_then_waits_then_throttles(tiny, fake, clock, monkeypatch):
    monkeypatch.setattr(TinyConnector, "rate_limit_per_second", 1.0)
    monkeypatch.setattr(TinyConnector, "rate_limit_burst", 2)
    connection = make_connection()
    api = client(connection)

    api.request("GET", "/shop")
    api.request("GET", "/shop")
    assert clock.slept == []  # the burst
    api.request("GET", "/shop")
    assert clock.slept == [pytest.approx(1.0)]  # one token refills in a second

    monkeypatch.setattr(TinyConnector, "rate_limit_per_second", 0.1)  # a token every 10 s: too long to wait
    with pytest.raises(Throttled) as caught:
        api.request("GET", "/shop")
    assert caught.value.retry_after == pytest.approx(10.0)
    assert len(fake.requests) == 3
    assert ratelimits.Limiter(connection, TinyConnector).state().tokens == pytest.approx(0.0)


def test_a_401_refreshes_the_token_once_and_retries(tiny, fake):
    connection = make_connection()
    fake.tokens = {"tok-new-only"}  # the stored token has expired

    response = client(connection).request("GET", "/shop")

    assert response.status_code == 200
    assert fake.refreshes == 1
    connection.refresh_from_db()
    assert connection.get_secrets() == {"access_token": "tok-2", "refresh_token": "refresh-1"}
    assert connection.token_expires_at is not None
    assert [r.url.path for r in fake.requests] == ["/shop", "/oauth/token", "/shop"]


def test_a_401_after_another_worker_refreshed_reuses_the_new_token(tiny, fake):
    # given: two workers holding the same (old) credentials
    stale_a = make_connection()
    stale_b = Connection.objects.get(pk=stale_a.pk)
    fake.tokens = set()
    client(stale_a).request("GET", "/shop")  # worker A meets the 401 first and refreshes
    assert fake.refreshes == 1

    # when: worker B sends with the old token and gets a 401 too
    response = client(stale_b).request("GET", "/shop")

    # then: B adopts A's token instead of refreshing again
    assert response.status_code == 200
    assert fake.refreshes == 1
    assert stale_b.get_secrets()["access_token"] == "tok-2"


def test_a_401_without_a_refresh_token_needs_reauthorisation(tiny, fake):
    connection = make_connection(secrets={"access_token": "revoked"})
    with pytest.raises(AuthFailed):
        client(connection).request("GET", "/shop")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert "401" in connection.last_error
    assert fake.refreshes == 0


def test_a_401_again_after_the_refresh_fails_auth(tiny, fake):
    connection = make_connection()
    fake.then(httpx.Response(401), httpx.Response(401))  # the new token is refused too
    with pytest.raises(AuthFailed, match="again"):
        client(connection).request("GET", "/shop")
    assert fake.refreshes == 1
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_REAUTH


def test_an_expiring_token_is_refreshed_before_the_request(tiny, fake):
    connection = make_connection(token_expires_at=timezone.now() + datetime.timedelta(seconds=5))
    fake.tokens = {"tok-2"}

    client(connection).request("GET", "/shop")

    assert [r.url.path for r in fake.requests] == ["/oauth/token", "/shop"]


def test_secrets_are_redacted_from_the_log(tiny, fake):
    connection = make_connection(secrets={"access_token": "tok-1", "refresh_token": "refresh-secret-1"})

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"you_sent": request.headers["x-echo"]}, headers={"Set-Cookie": "session=abc"}
        )

    fake.then(echo)
    client(connection).request(
        "POST",
        "/shop?token=tok-1",
        headers={"X-Tiny-Session": "sess-42", "X-Echo": "user:tok-1"},
        json={"refresh_token": "refresh-secret-1", "note": "hello"},
    )

    log = RequestLog.objects.get()
    everything = (
        f"{log.url} {log.request_headers} {log.request_body} {log.response_headers} {log.response_body}"
    )
    for secret in ("tok-1", "refresh-secret-1", "sess-42", "session=abc"):
        assert secret not in everything
    assert log.request_headers["authorization"] == http.REDACTED  # Authorization
    assert log.request_headers["x-tiny-session"] == http.REDACTED  # the connector's secret header
    assert log.request_headers["x-echo"] == f"user:{http.REDACTED}"  # a header carrying a secret value
    assert log.url == f"{BASE}/shop?token={http.REDACTED}"
    assert '"note":"hello"' in log.request_body


def test_body_excerpts_are_capped(tiny, fake, settings):
    settings.INTEGRATIONS_LOG_BODY_BYTES = 100
    fake.then(httpx.Response(200, text="x" * 5000))
    client(make_connection()).request("GET", "/shop")
    log = RequestLog.objects.get()
    assert log.response_body.startswith("x" * 100)
    assert log.response_body.endswith("(5000 bytes)")
    assert len(log.response_body) < 130


def test_a_binary_body_is_logged_by_its_size_only(tiny, fake):
    """A gzipped document (Amazon's feed report) holds NUL bytes, which PostgreSQL text refuses."""
    fake.then(httpx.Response(200, content=gzip.compress(b'{"summary": {}}')))
    client(make_connection()).request("GET", "/shop")
    log = RequestLog.objects.get()
    assert log.response_body.startswith("(")
    assert log.response_body.endswith("bytes, binary)")


def test_a_failed_requests_log_can_be_kept_after_the_callers_rollback(tiny, fake):
    connection = make_connection()
    fake.then(httpx.Response(500))
    error: TransientError | None = None
    try:
        with transaction.atomic():
            client(connection).request("GET", "/shop")
    except TransientError as exc:
        error = exc
    assert error is not None
    assert not RequestLog.objects.exists()  # rolled back with the caller's work

    kept = http.keep_request_log(error)

    assert kept is not None
    assert RequestLog.objects.get().status_code == 500


def test_mounts_route_by_the_longest_prefix():
    seen: list[str] = []

    def answer(name: str) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: seen.append(name) or httpx.Response(204))

    with (
        http.mounted("https://a.test", answer("outer")),
        http.mounted("https://a.test/inner", answer("inner")),
    ):
        http.send("GET", "https://a.test/x", target=http.LogTarget())
        http.send("GET", "https://a.test/inner/y", target=http.LogTarget())
    assert seen == ["outer", "inner"]
    assert "https://a.test" not in http._mounts


def test_retry_after_readings():
    def with_header(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert http.retry_after(with_header("2.5")) == 2.5
    assert http.retry_after(with_header("soon"), default=4.0) == 4.0
    assert http.retry_after(httpx.Response(429), default=3.0) == 3.0
    assert http.retry_after(with_header("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # in the past


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_401s_refresh_the_token_once(tiny, fake):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection as db

    # given: two workers with the same expired token; both get their 401 before either refreshes
    stored = make_connection()
    fake.tokens = set()
    both_refused = threading.Barrier(2)

    def refuse_together(request: httpx.Request) -> httpx.Response:
        both_refused.wait(timeout=10)
        return httpx.Response(401)

    fake.then(refuse_together, refuse_together)

    def worker(_: int) -> int:
        try:
            own = Connection.objects.get(pk=stored.pk)
            return client(own).request("GET", "/shop").status_code
        finally:
            db.close()

    # when
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(worker, range(2)))

    # then: one refresh, both requests retried with the new token
    assert statuses == [200, 200]
    assert fake.refreshes == 1
    assert Connection.objects.get(pk=stored.pk).get_secrets()["access_token"] == "tok-2"


# --- what a request may ask for besides the usual --------------------------------------------------


def test_a_form_body_and_this_requests_own_credentials(tiny, fake):
    fake.then(httpx.Response(200, json={"ok": True}))

    client(make_connection()).request(
        "POST", "/oauth/thing", data={"grant_type": "x", "code": "a b"}, auth={"x-amz-access-token": "rdt-1"}
    )

    sent = fake.requests[-1]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.content == b"grant_type=x&code=a+b"
    assert sent.headers["x-amz-access-token"] == "rdt-1"
    assert "authorization" not in sent.headers  # the connection's token stays home
    assert "rdt-1" not in json.dumps(RequestLog.objects.get().request_headers)  # and is redacted


def test_a_request_without_credentials_may_go_to_another_host_and_carries_none(tiny, fake):
    upload = httpx.MockTransport(lambda request: httpx.Response(200, text="stored"))
    with http.mounted("https://uploads.example.net/", upload):
        response = client(make_connection()).request(
            "PUT", "https://uploads.example.net/feed?sig=abc", content=b"<feed/>", credentials=False
        )

    assert response.text == "stored"
    log = RequestLog.objects.get()
    assert "authorization" not in {k.lower() for k in log.request_headers}
    # with credentials, the same host is refused before anything is sent
    with pytest.raises(UndeclaredHost):
        client(make_connection(name="Other")).request("PUT", "https://uploads.example.net/feed")
    assert RequestLog.objects.count() == 1
