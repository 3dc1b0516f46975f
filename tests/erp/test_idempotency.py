"""Idempotency-Key on every POST of the API: a replay answers the first answer without acting again."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from erp import idempotency
from erp.api import api
from erp.models import ApiKey, IdempotencyRecord, OutboxEvent
from erp.tasks import purge_api_records_task
from sales.models import SalesOrder
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/sales/orders"


class Caller:
    """One API key holder posting JSON, optionally with an Idempotency-Key."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def post(self, path: str, body: dict[str, Any] | None = None, *, key: str | None = None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        return self.client.post(
            path, json.dumps(body or {}), content_type="application/json", **self.headers, **extra
        )


@pytest.fixture
def sales_user():
    return UserFactory(roles=["Sales"])


@pytest.fixture
def caller(sales_user) -> Caller:
    return Caller(api_key_for(sales_user))


@pytest.fixture
def order_body() -> dict[str, Any]:
    product = stocked_product(10, price="10.00")
    return {
        "channel": ChannelFactory().pk,
        "customer": CustomerFactory().pk,
        "lines": [{"product": product.pk, "quantity": 2}],
        "confirm": True,
    }


def test_a_replay_returns_the_stored_answer_and_the_order_is_created_once(caller: Caller, order_body):
    # given: the first request created and confirmed an order
    first = caller.post(ORDERS, order_body, key="order-1001")
    assert first.status_code == 201, first.content
    events_after_first = OutboxEvent.objects.count()

    # when: the tool retries, e.g. after a timeout
    replay = caller.post(ORDERS, order_body, key="order-1001")

    # then: the same status and body, marked as a replay, and nothing acted again
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay["Content-Type"] == first["Content-Type"]
    assert replay["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 1
    assert OutboxEvent.objects.count() == events_after_first
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status, record.method, record.path) == (
        "completed",
        201,
        "POST",
        ORDERS,
    )
    assert record.expires_at - record.created_at == timedelta(hours=24)


def test_without_a_key_each_post_acts(caller: Caller, order_body):
    caller.post(ORDERS, order_body)
    caller.post(ORDERS, order_body)

    assert SalesOrder.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_with_another_body_is_422_and_does_not_act(caller: Caller, order_body):
    # given
    caller.post(ORDERS, order_body, key="k-1")

    # when
    other = caller.post(ORDERS, {**order_body, "confirm": False}, key="k-1")

    # then
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    problem = other.json()
    assert problem["status"] == 422
    assert problem["type"] == "urn:erp:problem:IdempotencyKeyReused"
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert SalesOrder.objects.count() == 1


def test_the_same_object_with_its_keys_in_another_order_is_a_replay(caller: Caller, order_body):
    # given
    first = caller.post(ORDERS, order_body, key="k-2")
    assert first.status_code == 201, first.content

    # when: the same JSON value, written with its keys reversed and other whitespace
    reordered = json.dumps(dict(reversed(list(order_body.items()))), indent=2)
    replay = caller.client.post(
        ORDERS, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2", **caller.headers
    )

    # then
    assert replay.status_code == 201, replay.content
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert SalesOrder.objects.count() == 1


def test_the_same_key_on_another_path_is_422(caller: Caller, order_body):
    caller.post(ORDERS, order_body, key="k-2")

    other = caller.post("/api/v1/sales/customers", {"name": "Engines Ltd"}, key="k-2")

    assert other.status_code == 422
    assert "another request" in other.json()["detail"]


def test_keys_belong_to_their_caller(sales_user, order_body):
    # given: two keys of one user, and a key of someone else, all using the same Idempotency-Key
    mine = Caller(api_key_for(sales_user, name="one"))
    second_key = Caller(api_key_for(sales_user, name="two"))
    someone_else = Caller(api_key_for(UserFactory(roles=["Sales"])))

    # when
    answers = [c.post(ORDERS, order_body, key="shared") for c in (mine, second_key, someone_else)]

    # then: each acted once
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert not any(a.has_header("Idempotent-Replayed") for a in answers)
    assert SalesOrder.objects.count() == 3
    assert IdempotencyRecord.objects.values("principal").distinct().count() == 3


def test_a_browser_session_scopes_keys_to_the_user(sales_user, order_body):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    client.get("/")
    token = client.cookies["csrftoken"].value

    def post():
        return client.post(
            ORDERS,
            json.dumps(order_body),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=token,
            HTTP_IDEMPOTENCY_KEY="from-the-browser",
        )

    first, replay = post(), post()

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().principal == f"user:{sales_user.pk}"
    assert SalesOrder.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there", "bell\x07"])
def test_an_invalid_key_is_422_and_does_not_act(caller: Caller, order_body, key: str):
    response = caller.post(ORDERS, order_body, key=key)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "An Idempotency-Key is 1 to 255 printable ASCII characters."}
    ]
    assert SalesOrder.objects.count() == 0
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["x" * 255, "a", "3f1c2a9e-7b1d-4c55-9f0e-2d6f1a8b9c10", "with spaces ~!"])
def test_valid_keys(caller: Caller, order_body, key: str):
    assert caller.post(ORDERS, order_body, key=key).status_code == 201


def test_a_replay_while_the_first_is_processing_is_409_with_retry_after(
    caller: Caller, sales_user, order_body
):
    # given: the first request claimed the key and is still acting
    key = ApiKey.objects.get(user=sales_user)
    now = timezone.now()
    IdempotencyRecord.objects.create(
        principal=f"key:{key.pk}",
        key="busy",
        method="POST",
        path=ORDERS,
        fingerprint=hashlib.sha256(
            json.dumps(order_body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest(),
        expires_at=now + timedelta(hours=24),
    )

    # when
    response = caller.post(ORDERS, order_body, key="busy")

    # then
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/problem+json"
    assert "being processed; retry later" in response.json()["detail"]
    assert SalesOrder.objects.count() == 0


def test_a_5xx_forgets_the_key_so_that_a_retry_acts(caller: Caller, order_body, monkeypatch):
    # given: the first attempt crashes
    from sales import services

    real = services.order_place

    def crash(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "order_place", crash)
    failed = caller.post(ORDERS, order_body, key="retry-me")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.exists()

    # when: the retry runs on a healthy server
    monkeypatch.setattr(services, "order_place", real)
    retried = caller.post(ORDERS, order_body, key="retry-me")

    # then
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 1


def test_a_4xx_answer_is_stored_and_replayed(caller: Caller, order_body):
    missing_customer = {**order_body, "customer": 999_999}

    first = caller.post(ORDERS, missing_customer, key="bad-customer")
    replay = caller.post(ORDERS, missing_customer, key="bad-customer")

    assert first.status_code in (404, 422)
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert replay["Content-Type"] == "application/problem+json"
    assert replay["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_AUTHORIZATION": "Bearer erp_00000000_unknown"}, 401),
        ({}, 401),
    ],
)
def test_authentication_failures_are_not_stored(order_body, headers: dict[str, str], status: int, sales_user):
    # given: a request that fails authentication with an Idempotency-Key
    client = Client()
    response = client.post(
        ORDERS, json.dumps(order_body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k", **headers
    )
    assert response.status_code == status
    assert not IdempotencyRecord.objects.exists()

    # when: the tool fixes its credentials and retries with the same key
    retried = Caller(api_key_for(sales_user)).post(ORDERS, order_body, key="k")

    # then: it acts
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")


def test_a_missing_scope_is_not_stored(sales_user, order_body):
    read_only = Caller(api_key_for(sales_user, name="ro", scopes=["sales:read"]))

    response = read_only.post(ORDERS, order_body, key="k")

    assert response.status_code == 403
    assert not IdempotencyRecord.objects.exists()


def test_the_answer_is_stored_encrypted_with_the_headers_that_matter(sales_user):
    # given: a POST whose answer holds a secret (a new API key)
    caller = Caller(api_key_for(sales_user, name="admin tool", scopes=["sales:write", "keys:write"]))
    first = caller.post("/api/v1/keys", {"name": "ShipStation"}, key="new-key")
    assert first.status_code == 201, first.content
    secret = first.json()["secret"]

    # then: the secret is not readable in the table, the replay still returns it
    record = IdempotencyRecord.objects.get()
    assert secret not in record.response_body
    assert record.response_headers == {"Content-Type": first["Content-Type"]}
    replay = caller.post("/api/v1/keys", {"name": "ShipStation"}, key="new-key")
    assert replay.json()["secret"] == secret
    assert ApiKey.objects.filter(name="ShipStation").count() == 1


def test_location_etag_and_binary_bodies_are_replayed_other_headers_are_not():
    # given: a first request whose answer has a Location, an ETag and a binary body
    def request():
        return RequestFactory().post(
            "/api/v1/x", b"{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )

    first = request()
    pending = idempotency.note(first)
    assert pending is not None
    idempotency.begin(first, principal="user:1")
    answer = HttpResponse(b"\x00\xffbody", status=201, content_type="application/octet-stream")
    answer["Location"] = "/api/v1/x/7"
    answer["ETag"] = '"v1"'
    answer["X-Other"] = "not kept"
    idempotency.finish(pending, answer)

    # when
    second = request()
    idempotency.note(second)
    with pytest.raises(idempotency.IdempotencyAnswer) as replay:
        idempotency.begin(second, principal="user:1")

    # then
    response = replay.value.response
    assert (response.status_code, response.content) == (201, b"\x00\xffbody")
    assert response["Content-Type"] == "application/octet-stream"
    assert (response["Location"], response["ETag"]) == ("/api/v1/x/7", '"v1"')
    assert response["Idempotent-Replayed"] == "true"
    assert not response.has_header("X-Other")


def test_an_expired_key_acts_again_and_the_purge_forgets_expired_keys(caller: Caller, order_body):
    # given: a key used more than 24 hours ago
    caller.post(ORDERS, order_body, key="old")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # when
    again = caller.post(ORDERS, order_body, key="old")

    # then: it acted again and the key is remembered anew
    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 2
    assert IdempotencyRecord.objects.get().expires_at > timezone.now()

    # and: the purge deletes only what has expired
    caller.post(ORDERS, order_body, key="older")
    IdempotencyRecord.objects.filter(key="older").update(expires_at=timezone.now() - timedelta(minutes=1))
    assert purge_api_records_task() >= 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["old"]


def test_every_authenticated_post_documents_the_header_and_nothing_else_does():
    schema = api.get_openapi_schema()
    posts, others = 0, 0
    for path_item in schema["paths"].values():
        for method, operation in path_item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            if method == "post" and operation.get("security"):
                posts += 1
                assert "Idempotency-Key" in names, operation["operationId"]
                created = next(r for s, r in operation["responses"].items() if str(s).startswith("2"))
                assert "Idempotent-Replayed" in created["headers"]
            else:
                others += 1
                assert "Idempotency-Key" not in names
    assert posts > 20
    assert others > 20


def test_a_deadlock_answers_503_with_retry_after_and_the_same_key_then_acts(
    caller: Caller, order_body, monkeypatch
):
    """PostgreSQL rolled the order's transaction back (deadlock detected, 40P01): nothing was saved,
    so the answer says to send it again (503, Retry-After), not "unexpected error" (500), and the
    key is free for that retry. An error a retry does not cure stays a 500."""
    import psycopg
    from django.db import OperationalError

    from sales import services

    place = services.order_place

    def deadlocked(**kwargs):
        error = OperationalError("deadlock detected")
        error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
        raise error

    monkeypatch.setattr(services, "order_place", deadlocked)
    refused = caller.post(ORDERS, order_body, key="order-2001")

    assert refused.status_code == 503, refused.content
    assert refused["Retry-After"] == "1"
    assert "send it again" in refused.json()["detail"]
    assert SalesOrder.objects.count() == 0

    monkeypatch.setattr(services, "order_place", place)
    again = caller.post(ORDERS, order_body, key="order-2001")
    assert again.status_code == 201, again.content
    assert not again.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 1

    def broken(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "order_place", broken)
    assert caller.post(ORDERS, order_body, key="order-2002").status_code == 500
