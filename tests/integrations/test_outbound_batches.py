"""Batches and jobs (Hub v2, outbound engine): several deliveries in one request with a result per
item, and pushes the tool runs as asynchronous jobs, polled until done.

Shown with Herd, a made-up CRM shaped like HubSpot: a batch upsert of contacts that answers 207
with the items it refused, and an import that answers a job id now and its results later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from django.utils import timezone
from pydantic import BaseModel

from erp.models import OutboxEvent
from integrations import http, outbound, registry
from integrations.connections import connection_create
from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    JobStatus,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import PermanentError
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef
from integrations.records import CustomerOut, OutboundItem
from sales.services import customer_update
from tests.sales.factories import CustomerFactory

BASE = "https://herd.test"


class HerdSettings(BaseModel):
    mode: str = "batch"  # "batch": a batch upsert; "import": an import job


class HerdConnector(Connector):
    key = "herd"
    name = "Herd (test CRM)"
    capabilities = frozenset({Capability.CUSTOMERS_OUT})
    settings_schema = HerdSettings
    secrets_schema = HerdSettings
    topics = ("sales.customer_updated",)
    batch_size = 2
    rate_limit_per_second = 1000.0
    rate_limit_burst = 1000

    settings: HerdSettings

    def base_url(self) -> str:
        return BASE

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": "Bearer herd"}

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("no webhooks")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("no webhooks")

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        result = self.push_batch([(item, context)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        rows = [
            {"idProperty": "ref", "id": item.reference, "traceId": ctx.idempotency_key, "name": item.name}
            for item, ctx in items
            if isinstance(item, CustomerOut)
        ]
        if self.settings.mode == "import":
            job = self.http.request("POST", f"{BASE}/imports", json={"rows": rows}).json()["id"]
            return [PushResult(job_id=job) for _ in items]
        body = self.http.request("POST", f"{BASE}/contacts/batch/upsert", json={"inputs": rows}).json()
        done = {r["ref"]: r["id"] for r in body["results"]}
        refused = {e["context"]["ids"][0]: e["message"] for e in body.get("errors", [])}
        return [
            PushResult(external_id=done[row["id"]])
            if row["id"] in done
            else PermanentError(
                f"Herd refused {row['id']}: {refused.get(row['id'], 'no reason given')}", status=400
            )
            for row in rows
        ]

    def job_status(self, job_id: str) -> JobStatus:
        body = self.http.request("GET", f"{BASE}/imports/{job_id}").json()
        if body["state"] != "DONE":
            return JobStatus(done=False, wait_seconds=5)
        results: dict[str, PushResult | Exception] = {
            r["traceId"]: PushResult(external_id=r["id"]) for r in body["results"]
        }
        results.update({e["traceId"]: PermanentError(e["message"]) for e in body["errors"]})
        return JobStatus(done=True, results=results)

    def test(self) -> str:
        return "Herd"


class FakeHerd:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.polls_until_done = 1
        self.throttled = False
        self._ids = 500

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.throttled:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"category": "RATE_LIMITS"})
        if request.url.path == "/contacts/batch/upsert":
            results, errors = self._upsert(json.loads(request.content)["inputs"])
            body = {"status": "COMPLETE", "results": results, "errors": errors}
            return httpx.Response(207 if errors else 200, json=body)
        if request.url.path == "/imports":
            job = f"job-{len(self.jobs) + 1}"
            self.jobs[job] = {"rows": json.loads(request.content)["rows"], "polls": 0}
            return httpx.Response(202, json={"id": job, "state": "STARTED"})
        job = self.jobs[request.url.path.rsplit("/", 1)[-1]]
        job["polls"] += 1
        if job["polls"] <= self.polls_until_done:
            return httpx.Response(200, json={"state": "PROCESSING"})
        results, errors = self._upsert(job["rows"])
        traced = {r["id"]: r["traceId"] for r in job["rows"]}
        return httpx.Response(
            200,
            json={
                "state": "DONE",
                "results": [{**r, "traceId": traced[r["ref"]]} for r in results],
                "errors": [
                    {"traceId": traced[e["context"]["ids"][0]], "message": e["message"]} for e in errors
                ],
            },
        )

    def _upsert(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        results, errors = [], []
        for row in rows:
            if row["name"].startswith("Reject"):
                errors.append({"message": "Property values were not valid", "context": {"ids": [row["id"]]}})
                continue
            self._ids += 1
            results.append({"ref": row["id"], "id": str(self._ids)})
        return results, errors

    def calls(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


@pytest.fixture
def herd(db) -> Iterator[FakeHerd]:
    registry.register(HerdConnector)
    fake = FakeHerd()
    try:
        with http.mounted(BASE, httpx.MockTransport(fake.handle)):
            yield fake
    finally:
        registry.unregister("herd")


def _connection(mode: str) -> Connection:
    return connection_create(connector="herd", name=f"Herd {mode}", settings={"mode": mode}, secrets={})


def _changed(names: list[str], capture) -> list[Delivery]:
    """Customers changed here: their events fanned out, no delivery attempted yet."""
    customers = [CustomerFactory(name=name) for name in names]
    with capture(execute=False):
        for customer in customers:
            customer_update(customer=customer, phone="+1 555 0100")
    for event in OutboxEvent.objects.filter(topic="sales.customer_updated").order_by("pk"):
        outbound.fan_out(event)
    return list(Delivery.objects.filter(topic="sales.customer_updated").order_by("pk"))


def test_due_deliveries_go_in_batches_and_a_partial_answer_settles_each_item(
    herd, django_capture_on_commit_callbacks
):
    connection = _connection("batch")
    deliveries = _changed(["Ada", "Rejected Ltd", "Grace"], django_capture_on_commit_callbacks)

    outbound.delivery_attempt(deliveries[0].pk)  # one attempt takes what else is due with it

    assert herd.calls("/contacts/batch/upsert") == 2  # two items, then one: the tool's batch size
    statuses = {d.pk: (d.status, d.attempts) for d in Delivery.objects.all()}
    assert [statuses[d.pk] for d in deliveries] == [
        (DeliveryStatus.SUCCEEDED, 1),
        (DeliveryStatus.DEAD, 1),
        (DeliveryStatus.SUCCEEDED, 1),
    ]
    refused = Delivery.objects.get(pk=deliveries[1].pk)
    assert "Property values were not valid" in refused.last_error
    # its own refusal's status, not the batch answer's (207): what explains a dead letter
    assert refused.last_status_code == 400
    assert ExternalRef.objects.filter(connection=connection, object_type="customer").count() == 2


def test_a_batch_the_tool_throttles_waits_whole_without_counting_an_attempt(
    herd, django_capture_on_commit_callbacks
):
    _connection("batch")
    deliveries = _changed(["Ada", "Grace"], django_capture_on_commit_callbacks)
    herd.throttled = True

    outbound.delivery_attempt(deliveries[0].pk)

    for delivery in Delivery.objects.filter(pk__in=[d.pk for d in deliveries]):
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
        assert delivery.next_attempt_at > timezone.now()


def test_a_job_is_polled_until_done_and_each_item_then_lands_or_dies(
    herd, django_capture_on_commit_callbacks
):
    connection = _connection("import")
    deliveries = _changed(["Ada", "Rejected Ltd"], django_capture_on_commit_callbacks)

    outbound.delivery_attempt(deliveries[0].pk)
    waiting = list(Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).order_by("pk"))
    assert {(d.status, d.job_id, d.attempts) for d in waiting} == {(DeliveryStatus.PENDING, "job-1", 0)}
    assert "job-1" in waiting[0].last_error

    Delivery.objects.update(next_attempt_at=timezone.now())
    outbound.delivery_attempt(deliveries[0].pk)  # still processing: both wait again
    assert herd.calls("/imports/job-1") == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}

    Delivery.objects.update(next_attempt_at=timezone.now())
    outbound.delivery_attempt(deliveries[1].pk)  # one poll answers for the whole job

    assert herd.calls("/imports/job-1") == 2
    done = {d.pk: d for d in Delivery.objects.all()}
    assert (done[deliveries[0].pk].status, done[deliveries[0].pk].job_id) == (DeliveryStatus.SUCCEEDED, "")
    assert done[deliveries[1].pk].status == DeliveryStatus.DEAD
    assert herd.calls("/imports") == 1  # pushed once, never again while polling
    ref = ExternalRef.objects.get(connection=connection, object_type="customer")
    assert ref.object_id == deliveries[0].event.payload["customer_id"]
