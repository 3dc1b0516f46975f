"""Dependencies between pushes: an invoice waits for its customer (Hub v2, outbound engine).

A resolver may answer ``Blocked``: what the item refers to is not in the tool yet. The hub pushes
that first (an outbox event for it, unless one is already on its way to the connection) and the
waiting delivery is attempted again the moment it lands, without counting an attempt. Shown with a
minimal accounting tool ("Books") that takes customers and invoices.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel

from erp import events
from erp.models import OutboxEvent
from integrations import outbound, outbound_items, pushing, registry
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
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef
from sales.models import Customer
from tests.sales.factories import CustomerFactory

CUSTOMER_CHANGED, INVOICE_ISSUED = "test.customer_changed", "test.invoice_issued"


@dataclass(frozen=True)
class CustomerOut:
    name: str


@dataclass(frozen=True)
class InvoiceOut:
    number: str
    customer_ref: str


class BooksSettings(BaseModel):
    base_url: str = "https://books.test"


class BooksConnector(Connector):
    """The tool keeps what it was sent in ``ledger`` (class-level: one tool for the test)."""

    key = "books"
    name = "Books (test accounting tool)"
    capabilities = frozenset({Capability.CUSTOMERS_OUT, Capability.INVOICES_OUT})
    settings_schema = BooksSettings
    secrets_schema = BooksSettings
    topics = (CUSTOMER_CHANGED, INVOICE_ISSUED)
    ledger: list[tuple[str, str, Any]] = []

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {}

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("Books sends no webhooks")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("Books sends no webhooks")

    def push(self, item: Any, context: PushContext) -> PushResult:
        tool_id = f"{type(item).__name__}-{len(self.ledger) + 1}"
        self.ledger.append((type(item).__name__, tool_id, item))
        return PushResult(external_id=tool_id)

    def test(self) -> str:
        return "Books"


def customer_ref(connection: Connection, customer_id: int) -> ExternalRef | None:
    return ExternalRef.objects.filter(
        connection=connection,
        object_type="customer",
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer_id,
    ).first()


def resolve_customer(connection: Connection, event: OutboxEvent, force: bool) -> Any:
    customer = Customer.objects.get(pk=event.payload["customer_id"])
    if customer_ref(connection, customer.pk) is not None and not force:
        return f"{connection.name} has customer {customer.name} already."

    def remember(result: PushResult) -> None:
        ExternalRef.objects.create(
            connection=connection,
            object_type="customer",
            external_id=result.external_id,
            content_type=ContentType.objects.get_for_model(Customer),
            object_id=customer.pk,
        )

    return outbound_items.Resolved("customer", Capability.CUSTOMERS_OUT, CustomerOut(customer.name), remember)


def resolve_invoice(connection: Connection, event: OutboxEvent, force: bool) -> Any:
    customer = Customer.objects.get(pk=event.payload["customer_id"])
    ref = customer_ref(connection, customer.pk)
    if ref is None:
        return outbound_items.Blocked(
            reason=f"customer {customer.name} is not in {connection.name} yet",
            topic=CUSTOMER_CHANGED,
            aggregate=customer,
            payload={"customer_id": customer.pk},
        )
    item = InvoiceOut(event.payload["number"], ref.external_id)
    return outbound_items.Resolved("invoice", Capability.INVOICES_OUT, item, lambda result: None)


@pytest.fixture
def books(db) -> Iterator[Connection]:
    registry.register(BooksConnector)
    outbound_items.register_resolver(CUSTOMER_CHANGED, Capability.CUSTOMERS_OUT, resolve_customer)
    outbound_items.register_resolver(INVOICE_ISSUED, Capability.INVOICES_OUT, resolve_invoice)
    BooksConnector.ledger = []
    try:
        yield connection_create(connector="books", name="Books", settings={}, secrets={})
    finally:
        outbound_items.unregister_resolver(CUSTOMER_CHANGED, Capability.CUSTOMERS_OUT)
        outbound_items.unregister_resolver(INVOICE_ISSUED, Capability.INVOICES_OUT)
        registry.unregister("books")


def issue_invoice(number: str, customer: Customer, capture) -> Delivery:
    """An invoice issued here: its event dispatched and its delivery attempted (after commit)."""
    with capture(execute=True), transaction.atomic():
        event = events.emit(
            INVOICE_ISSUED,
            aggregate=("sales.invoice", number),
            payload={"number": number, "customer_id": customer.pk},
        )
    return Delivery.objects.get(event=event)


def test_an_invoice_waits_for_its_customer_and_lands_right_after_it(
    books, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(name="Ada Ltd")

    invoice = issue_invoice("INV-1", customer, django_capture_on_commit_callbacks)

    # the customer was pushed first, then the invoice, naming the customer's id in the tool
    assert [(kind, tool_id) for kind, tool_id, _ in BooksConnector.ledger] == [
        ("CustomerOut", "CustomerOut-1"),
        ("InvoiceOut", "InvoiceOut-2"),
    ]
    assert BooksConnector.ledger[1][2] == InvoiceOut("INV-1", "CustomerOut-1")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.attempts, invoice.blocked_on_id) == (DeliveryStatus.SUCCEEDED, 1, None)
    first = Delivery.objects.get(topic=CUSTOMER_CHANGED)
    assert first.status == DeliveryStatus.SUCCEEDED


def test_a_blocked_delivery_waits_without_counting_an_attempt(books, django_capture_on_commit_callbacks):
    customer = CustomerFactory(name="Ada Ltd")
    with transaction.atomic():
        event = events.emit(
            INVOICE_ISSUED,
            aggregate=("sales.invoice", "INV-1"),
            payload={"number": "INV-1", "customer_id": customer.pk},
        )
    outbound.fan_out(event)  # the delivery exists; nothing attempted yet
    invoice = Delivery.objects.get(event=event)

    with django_capture_on_commit_callbacks(execute=False):  # the customer's push is not run yet
        waiting = outbound.delivery_attempt(invoice.pk)

    customer_delivery = Delivery.objects.get(topic=CUSTOMER_CHANGED)
    assert (waiting.status, waiting.attempts, waiting.blocked_on_id) == (
        DeliveryStatus.PENDING,
        0,
        customer_delivery.pk,
    )
    assert (
        waiting.last_error
        == f"Waiting for delivery {customer_delivery.pk}: customer Ada Ltd is not in Books yet"
    )
    assert BooksConnector.ledger == []


def test_invoices_waiting_for_the_same_customer_push_it_once(books, django_capture_on_commit_callbacks):
    customer = CustomerFactory(name="Ada Ltd")
    events_made = []
    with transaction.atomic():
        for number in ("INV-1", "INV-2"):
            events_made.append(
                events.emit(
                    INVOICE_ISSUED,
                    aggregate=("sales.invoice", number),
                    payload={"number": number, "customer_id": customer.pk},
                )
            )
    for event in events_made:
        outbound.fan_out(event)
    with django_capture_on_commit_callbacks(execute=False):
        for delivery in Delivery.objects.filter(topic=INVOICE_ISSUED).order_by("pk"):
            outbound.delivery_attempt(delivery.pk)

    assert Delivery.objects.filter(topic=CUSTOMER_CHANGED).count() == 1

    # when the customer lands, both invoices follow
    with django_capture_on_commit_callbacks(execute=True):
        outbound.delivery_attempt(Delivery.objects.get(topic=CUSTOMER_CHANGED).pk)

    assert [kind for kind, _, _ in BooksConnector.ledger] == ["CustomerOut", "InvoiceOut", "InvoiceOut"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_a_delivery_that_decides_to_wait_for_one_that_has_landed_meanwhile_goes_now(
    books, django_capture_on_commit_callbacks
):
    """The race: the customer's push lands (its release finds nothing blocked yet) while the
    invoice's attempt is still deciding to wait for it. The invoice must not wait an hour."""
    customer = CustomerFactory(name="Ada Ltd")
    with transaction.atomic():
        event = events.emit(
            INVOICE_ISSUED,
            aggregate=("sales.invoice", "INV-1"),
            payload={"number": "INV-1", "customer_id": customer.pk},
        )
    outbound.fan_out(event)
    invoice = Delivery.objects.get(event=event)
    original = pushing.push

    def push_while_the_customer_lands(delivery):
        outcome = original(delivery)  # Blocked on the customer's delivery, made just now
        with django_capture_on_commit_callbacks(execute=True):
            outbound.delivery_attempt(outcome.blocked_on)  # which lands before we record the wait
        return outcome

    with (
        mock.patch.object(pushing, "push", side_effect=push_while_the_customer_lands),
        django_capture_on_commit_callbacks(execute=False) as queued,
    ):
        waiting = outbound.delivery_attempt(invoice.pk)

    assert waiting.status == DeliveryStatus.PENDING
    assert waiting.next_attempt_at <= timezone.now()
    for callback in queued:  # among them, its own attempt, queued at once
        callback()
    invoice.refresh_from_db()
    assert invoice.status == DeliveryStatus.SUCCEEDED
    assert [kind for kind, _, _ in BooksConnector.ledger] == ["CustomerOut", "InvoiceOut"]


def test_a_delivery_waiting_for_one_that_is_skipped_goes_at_once(books, django_capture_on_commit_callbacks):
    """The customer got there another way (an earlier push of it) while the invoice waited: the
    customer's delivery ends skipped, which must release the invoice too, not leave it an hour."""
    customer = CustomerFactory(name="Ada Ltd")
    with transaction.atomic():
        event = events.emit(
            INVOICE_ISSUED,
            aggregate=("sales.invoice", "INV-1"),
            payload={"number": "INV-1", "customer_id": customer.pk},
        )
    outbound.fan_out(event)
    invoice = Delivery.objects.get(event=event)
    with django_capture_on_commit_callbacks(execute=False):
        outbound.delivery_attempt(invoice.pk)
    first = Delivery.objects.get(topic=CUSTOMER_CHANGED)
    ExternalRef.objects.create(
        connection=books,
        object_type="customer",
        external_id="CustomerOut-0",
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
    )

    with django_capture_on_commit_callbacks(execute=True):
        skipped = outbound.delivery_attempt(first.pk)

    assert skipped.status == DeliveryStatus.SKIPPED
    invoice.refresh_from_db()
    assert (invoice.status, invoice.blocked_on_id) == (DeliveryStatus.SUCCEEDED, None)
    assert BooksConnector.ledger[0][2] == InvoiceOut("INV-1", "CustomerOut-0")
