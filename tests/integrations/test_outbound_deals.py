"""Deals out (Hub v2, integrations.outbound_crm): a CRM follows each sales order as a deal, after
its customer, from its confirmation to its payment or its cancellation.

Shown with Funnel, a made-up CRM shaped like HubSpot: contacts and deals, each created with a POST
(the hub's idempotency key in a header: a repeated key answers the first answer) and changed with
a PATCH; a deal names its contact, which must exist, and its pipeline stage, mapped from the
hub's words by the connection's settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from django.utils import timezone
from pydantic import BaseModel

from integrations import http, outbound_accounting, outbound_crm, outbound_items, registry
from integrations.connections import connection_create
from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.models import Connection, ConnectionStatus, Delivery, DeliveryStatus, ExternalRef
from integrations.records import CustomerOut, DealOut, OutboundItem
from sales.models import SalesOrder
from sales.services import (
    invoice_create,
    invoice_issue,
    order_cancel,
    order_confirm,
    order_update,
    payment_record,
    shipment_create,
)
from tests.integrations.conformance.tally.connector import TallyConnector
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

BASE = "https://funnel.test"
PIPELINE = {
    "confirmed": "closedwon",
    "shipped": "shipped",
    "invoiced": "invoiced",
    "paid": "paid",
    "cancelled": "closedlost",
    "closed": "done",
}


class FunnelSettings(BaseModel):
    stages: dict[str, str] = PIPELINE  # our stage -> the CRM pipeline's stage id


class FunnelConnector(Connector):
    key = "funnel"
    name = "Funnel (test CRM)"
    capabilities = frozenset({Capability.CUSTOMERS_OUT, Capability.DEALS_OUT})
    settings_schema = FunnelSettings
    secrets_schema = FunnelSettings
    topics = ("sales.customer_created", "sales.customer_updated", *outbound_crm.TOPICS)
    rate_limit_per_second = 1000.0
    rate_limit_burst = 1000

    settings: FunnelSettings

    def base_url(self) -> str:
        return BASE

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": "Bearer funnel"}

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("no webhooks")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("no webhooks")

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, CustomerOut):
            kind, body = "contacts", {"name": item.name, "email": item.email, "ref": item.reference}
        elif isinstance(item, DealOut):
            kind, body = "deals", self._deal(item)
        else:
            return super().push(item, context)
        if item.external_id:
            answer = self.http.request("PATCH", f"{BASE}/{kind}/{item.external_id}", json=body)
        else:
            answer = self.http.request(
                "POST", f"{BASE}/{kind}", json=body, headers={"Idempotency-Key": context.idempotency_key}
            )
        return PushResult(external_id=str(answer.json()["id"]), detail=f"{kind} {answer.json()['id']}")

    def _deal(self, item: DealOut) -> dict[str, Any]:
        return {
            "dealname": item.name,
            "ref": item.reference,
            "amount": str(item.amount),
            "currency": item.currency,
            "dealstage": self.settings.stages[item.stage],
            "closedate": item.close_date.isoformat() if item.close_date else None,
            "contact": item.customer_external_id,
        }

    def test(self) -> str:
        return "Funnel"


class FakeFunnel:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict[str, Any]]] = {"contacts": {}, "deals": {}}
        self.stages: dict[str, list[str]] = {}  # deal id -> the stages it went through
        self.answered: dict[str, httpx.Response] = {}
        self.requests: list[httpx.Request] = []
        self._ids = 700

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        kind, _, row_id = request.url.path.strip("/").partition("/")
        body = json.loads(request.content)
        if kind == "deals" and body["contact"] not in self.rows["contacts"]:
            return httpx.Response(400, json={"message": f"No contact {body['contact']!r}"})
        if request.method == "PATCH":
            row = self.rows[kind][row_id]
            row.update(body)
        else:
            key = request.headers.get("idempotency-key", "")
            if key in self.answered:
                return self.answered[key]
            self._ids += 1
            row = {**body, "id": str(self._ids)}
            self.rows[kind][row["id"]] = row
        if kind == "deals":
            self.stages.setdefault(row["id"], []).append(row["dealstage"])
        answer = httpx.Response(200, json=row)
        if request.method == "POST":
            self.answered[request.headers.get("idempotency-key", "")] = answer
        return answer

    def deals(self) -> list[dict[str, Any]]:
        return list(self.rows["deals"].values())

    def calls(self, method: str, kind: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path.startswith(f"/{kind}"))


@pytest.fixture
def funnel(db) -> Iterator[FakeFunnel]:
    registry.register(FunnelConnector)
    fake = FakeFunnel()
    try:
        with http.mounted(BASE, httpx.MockTransport(fake.handle)):
            yield fake
    finally:
        registry.unregister("funnel")


@pytest.fixture
def crm(funnel) -> Connection:
    return connection_create(connector="funnel", name="Funnel", settings={}, secrets={})


@pytest.fixture
def sell(django_capture_on_commit_callbacks):
    """An order of a customer the CRM does not have yet, confirmed here (events dispatched, the
    deliveries they make attempted)."""
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    product = stocked_product(10, wh=wh, price="12.50", sku="CRM-LAMP")

    def sell(quantity: int = 2, customer=None) -> SalesOrder:
        customer = customer or CustomerFactory(name="Ada Lovelace Ltd")
        order = order_for((product, quantity), channel=channel, customer=customer)
        return run(django_capture_on_commit_callbacks, order_confirm, order=order)

    return sell


def run(capture, fn: Any, **kwargs: Any) -> Any:
    with capture(execute=True):
        return fn(**kwargs)


def _deliveries(connection: Connection, topic: str) -> list[Delivery]:
    return list(Delivery.objects.filter(connection=connection, topic=topic).order_by("pk"))


def test_a_confirmed_order_becomes_a_deal_after_its_customer(funnel, crm, sell):
    order = sell(quantity=2)

    [contact] = funnel.rows["contacts"].values()
    [deal] = funnel.deals()
    assert contact["name"] == "Ada Lovelace Ltd"
    assert (deal["ref"], deal["amount"], deal["currency"]) == (order.number, str(order.total), "USD")
    assert (deal["dealstage"], deal["contact"]) == ("closedwon", contact["id"])
    assert deal["closedate"] == timezone.localdate(order.confirmed_at).isoformat()
    ref = ExternalRef.objects.get(connection=crm, object_type="deal", object_id=order.pk)
    assert ref.external_id == deal["id"]
    [confirmed] = _deliveries(crm, "sales.order_confirmed")
    assert (confirmed.status, confirmed.blocked_on_id) == (DeliveryStatus.SUCCEEDED, None)
    [customer] = _deliveries(crm, "sales.customer_updated")  # pushed first, for the deal
    assert customer.status == DeliveryStatus.SUCCEEDED


def test_shipping_invoicing_and_payment_move_the_deal_along(
    funnel, crm, sell, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell(quantity=3)

    run(capture, shipment_create, order=order)
    invoice = run(capture, lambda: invoice_issue(invoice=invoice_create(order=order)))
    run(capture, payment_record, invoice=invoice, amount=invoice.total, method="card")

    [deal] = funnel.deals()
    assert funnel.stages[deal["id"]] == ["closedwon", "shipped", "invoiced", "paid"]
    assert funnel.calls("POST", "deals") == 1
    for topic in ("sales.shipment_shipped", "sales.invoice_issued", "sales.payment_received"):
        assert [d.status for d in _deliveries(crm, topic)] == [DeliveryStatus.SUCCEEDED], topic


def test_a_cancelled_order_is_a_lost_deal_and_one_cancelled_unseen_is_not_sent(
    funnel, crm, sell, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    order = sell()

    run(capture, order_cancel, order=order, reason="changed their mind")

    [deal] = funnel.deals()
    assert funnel.stages[deal["id"]] == ["closedwon", "closedlost"]
    assert deal["closedate"] == timezone.localdate().isoformat()

    # an order confirmed while the connection was paused, cancelled once it is back: nothing to tell
    Connection.objects.filter(pk=crm.pk).update(status=ConnectionStatus.PAUSED)
    unseen = sell(customer=CustomerFactory(name="Grace Hopper Inc"))
    Connection.objects.filter(pk=crm.pk).update(status=ConnectionStatus.ACTIVE)
    run(capture, order_cancel, order=unseen)
    skipped = _deliveries(crm, "sales.order_cancelled")[-1]
    assert skipped.status == DeliveryStatus.SKIPPED
    assert "cancelled before" in skipped.last_error
    assert len(funnel.deals()) == 1


def test_an_unchanged_deal_is_not_pushed_twice(funnel, crm, sell, django_capture_on_commit_callbacks):
    order = sell()
    before = len(funnel.requests)

    run(django_capture_on_commit_callbacks, order_update, order=order, notes="Leave at the door")

    [updated] = _deliveries(crm, "sales.order_updated")
    assert updated.status == DeliveryStatus.SKIPPED
    assert "as it is already" in updated.last_error
    assert len(funnel.requests) == before


def test_one_topic_resolves_to_what_each_tool_takes(crm):
    """Deals share their topics with orders out, fulfilments, invoices and payments: the hub picks
    the resolver by what the connection's connector takes, and still knows which topics push the
    same record (a delivery on its way for it under any of them)."""
    books = Connection(connector=TallyConnector.key)  # an accounting tool's connection
    registry.register(TallyConnector)
    try:
        assert outbound_items.resolver_for("sales.invoice_issued", crm) is outbound_crm.resolve_deal
        assert (
            outbound_items.resolver_for("sales.invoice_issued", books) is outbound_accounting.resolve_invoice
        )
        assert outbound_items.resolver_for("sales.order_closed", books) is None
    finally:
        registry.unregister(TallyConnector.key)
    assert outbound_items.topics_resolved_by(outbound_accounting.resolve_invoice) == [
        "sales.credit_note_issued",
        "sales.invoice_issued",
        "sales.invoice_voided",
    ]
