"""The QuickBooks Online connector end to end through the hub, against the fake QuickBooks: the
sign-in and a refresh, a sale pushed in dependency order with requestids (a lost answer makes
nothing twice), a duplicate name linked, a stale SyncToken retried, a payment recorded in
QuickBooks arriving by either webhook format (or by CDC) and marking our invoice paid, a forged
signature refused, faults in QuickBooks' own words, and ``create_connection``."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qsl

import httpx
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import mappings, outbound, polling, reconcile, registry
from integrations.connections import connection_create
from integrations.contract import PushContext, WebhookRequest
from integrations.errors import PermanentError, Throttled
from integrations.models import Connection, Delivery, DeliveryStatus, Drift, ExternalRef
from integrations.quickbooks.auth import AUTHORIZE_URL, SCOPE, TOKEN_URL
from integrations.quickbooks.connector import QuickBooksConnector
from integrations.quickbooks.fake import (
    CLIENT_ID,
    CLIENT_SECRET,
    REALM_ID,
    VERIFIER_TOKEN,
    FakeQuickBooks,
    sample_webhook,
)
from integrations.records import DocumentLineOut, InvoiceOut
from sales.models import Invoice, InvoiceStatus, Payment
from sales.services import customer_update, invoice_create, invoice_issue, order_confirm, payment_record
from tests.integrations.outbound_support import run_due_deliveries
from tests.integrations.quickbooks.conftest import SECRETS, ref
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

APP = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "verifier_token": VERIFIER_TOKEN}


class Shop:
    def __init__(self, capture) -> None:
        self.capture = capture
        wh = warehouse("WH1")
        self.channel = ChannelFactory(warehouse=wh, invoice_policy="ordered")
        self.product = stocked_product(10, wh=wh, price="10.00", sku="MUG-1", name="Mug")

    def run(self, fn, **kwargs):
        with self.capture(execute=True):
            return fn(**kwargs)

    def invoice(self, customer, quantity: int = 2) -> Invoice:
        order = self.run(
            order_confirm, order=order_for((self.product, quantity), channel=self.channel, customer=customer)
        )
        return self.run(invoice_issue, invoice=invoice_create(order=order))


@pytest.fixture
def shop(django_capture_on_commit_callbacks) -> Shop:
    return Shop(django_capture_on_commit_callbacks)


def params(request) -> dict[str, str]:
    return dict(httpx.URL(request.url).params)


def post_app(client: Client, shop: Shop, headers: dict[str, str], body: bytes):
    with shop.capture(execute=True):
        return client.post(
            reverse("integrations:hook-app", args=["quickbooks"]),
            data=body,
            content_type=headers.get("Content-Type", "application/json"),
            headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
        )


def webhook_of(fake: FakeQuickBooks, fmt: str) -> tuple[dict[str, str], bytes]:
    sent: list[tuple[dict[str, str], bytes]] = []
    fake.deliver_webhooks(lambda url, headers, body: sent.append((dict(headers), body)) or 200)
    [delivery] = [s for s in sent if (json.loads(s[1]).__class__ is list) == (fmt == "cloudevents")]
    return delivery


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_names_the_company_and_a_refresh_keeps_the_rotated_token(admin: Client, fake) -> None:
    connection = connection_create(connector="quickbooks", name="Books", settings={}, secrets=APP)
    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))
    authorize = response["Location"]
    assert authorize.startswith(AUTHORIZE_URL + "?")
    params = dict(parse_qsl(httpx.URL(authorize).query.decode()))
    assert (params["client_id"], params["scope"], params["response_type"]) == (CLIENT_ID, SCOPE, "code")
    back = fake.handle(httpx.Request("GET", authorize))
    assert back.status_code == 302
    callback = dict(parse_qsl(httpx.URL(back.headers["location"]).query.decode()))
    assert callback["realmId"] == REALM_ID

    admin.get(reverse("integrations:oauth-callback"), callback)

    row = Connection.objects.get(pk=connection.pk)
    first = row.get_secrets()
    assert row.settings["realm_id"] == REALM_ID
    assert first["access_token"]
    assert first["refresh_token"]
    assert row.refresh_expires_at is not None
    assert (row.refresh_expires_at - timezone.now()).days >= 100
    assert registry.connector_for(row).test() == "Trailhead Outfitters LLC"
    assert fake.token_calls[-1].grant_type == "authorization_code"

    fake.rotate_after = 0  # the next refresh gives a new refresh token
    Connection.objects.filter(pk=row.pk).update(token_expires_at=timezone.now())
    row.refresh_from_db()
    registry.connector_for(row).test()

    row.refresh_from_db()
    stored = row.get_secrets()
    assert fake.token_calls[-1].grant_type == "refresh_token"
    assert stored["access_token"] != first["access_token"]
    assert stored["refresh_token"] != first["refresh_token"]  # stored the moment it arrived
    assert str(fake.requests_to("POST tokens/bearer")[-1].headers["authorization"]).startswith("Basic ")


# --- out ---------------------------------------------------------------------------------------


def test_a_sale_goes_in_dependency_order_once_whatever_answer_is_lost(connection, fake, shop, client) -> None:
    customer = CustomerFactory(name="Ada Lovelace Ltd", email="ada@example.com")
    fake.timeout_next(1, match="POST invoice", processed=True)  # QuickBooks made it; the answer is lost

    invoice = shop.invoice(customer)

    [delivery] = Delivery.objects.filter(connection=connection, topic="sales.invoice_issued")
    assert delivery.status == DeliveryStatus.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with shop.capture(execute=True):
        outbound.delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED

    writes = [r for r in fake.requests if r.method == "POST" and "/v3/company/" in r.url]
    assert [r.operation for r in writes] == ["POST customer", "POST item", "POST invoice", "POST invoice"]
    assert all(params(r).get("requestid") for r in writes)
    assert params(writes[2])["requestid"] == params(writes[3])["requestid"]
    assert all(v == 75 for v in fake.minor_versions)
    assert [len(fake.objects(e)) for e in ("Customer", "Item", "Invoice")] == [1, 1, 1]
    [there] = fake.objects("Invoice")
    assert ref(connection, "invoice", invoice).external_id == there["Id"]
    assert Decimal(str(there["TotalAmt"])) == invoice.total
    [item] = fake.objects("Item")
    assert (item["Type"], item["Name"], item["IncomeAccountRef"]["value"]) == ("NonInventory", "MUG-1", "79")
    line = there["Line"][0]["SalesItemLineDetail"]
    assert (line["ItemRef"]["value"], line["TaxCodeRef"]["value"]) == (item["Id"], "NON")

    shop.run(payment_record, invoice=invoice, amount=invoice.total, method="card")

    [payment] = fake.objects("Payment")
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": there["Id"], "TxnType": "Invoice"}]
    assert params(fake.requests_to("POST payment")[0]).get("requestid")
    assert fake.get("Invoice", there["Id"])["Balance"] == 0


def test_a_customer_of_the_same_name_is_linked_and_a_stale_synctoken_retried(connection, fake, shop) -> None:
    existing = fake.create_in_qbo("Customer", {"DisplayName": "Mary Jackson"})["Id"]
    customer = CustomerFactory(name="Mary Jackson", email="mary@example.com")

    shop.invoice(customer)

    assert [c["Id"] for c in fake.objects("Customer")] == [existing]
    assert ref(connection, "customer", customer).external_id == existing
    fake.edit_customer_in_qbo(existing, Notes="edited in QuickBooks")  # our SyncToken is stale now

    shop.run(customer_update, customer=customer, email="mary.jackson@example.com")

    latest = Delivery.objects.filter(connection=connection).order_by("pk").last()
    assert (latest.status, latest.last_error) == (DeliveryStatus.SUCCEEDED, "")
    assert fake.get("Customer", existing)["PrimaryEmailAddr"]["Address"] == "mary.jackson@example.com"
    assert (
        ref(connection, "customer", customer).external_version == fake.get("Customer", existing)["SyncToken"]
    )


def test_a_namesake_with_another_email_gets_a_customer_of_its_own(connection, fake, shop) -> None:
    """Two buyers named the same (display names are unique in QuickBooks): the second is not linked
    to the first, whose email differs; it goes in under its name and our code."""
    first = CustomerFactory(name="Sam O'Neil", email="sam.one@example.com")
    second = CustomerFactory(name="Sam O'Neil", email="sam.two@example.com")

    shop.invoice(first)
    shop.invoice(second)

    names = sorted(c["DisplayName"] for c in fake.objects("Customer"))
    assert names == ["Sam O'Neil", f"Sam O'Neil ({second.code})"]
    assert ref(connection, "customer", first).external_id != ref(connection, "customer", second).external_id
    [mine] = [
        c for c in fake.objects("Customer") if c["Id"] == ref(connection, "customer", second).external_id
    ]
    assert mine["PrimaryEmailAddr"]["Address"] == "sam.two@example.com"
    assert mine["PrintOnCheckName"] == "Sam O'Neil"  # the name reconciliation compares

    shop.run(customer_update, customer=second, phone="+1 555 0100")  # an update keeps its name there

    mine = fake.get("Customer", ref(connection, "customer", second).external_id)
    assert (mine["DisplayName"], mine["PrimaryPhone"]["FreeFormNumber"]) == (
        f"Sam O'Neil ({second.code})",
        "+1 555 0100",
    )
    reconcile.reconcile(connection=connection, object_type="customer")
    assert not Drift.objects.filter(connection=connection)


def test_an_unmapped_income_account_waits_for_a_person(fake, shop) -> None:
    connection = connection_create(
        connector="quickbooks", name="Books", settings={"realm_id": REALM_ID}, secrets=SECRETS
    )
    shop.invoice(CustomerFactory(name="Grace Hopper Inc"))

    [waiting] = [d for d in Delivery.objects.filter(connection=connection) if d.missing]
    assert waiting.missing == {"kind": "map account", "value": "income"}
    assert fake.objects("Item") == []
    kind = mappings.kind_of(connection, "account")
    offered = dict(mappings.tool_choices(connection, kind).choices)
    assert offered["79"] == "Sales of Product Income (Income)"

    shop.run(mappings.mapping_set, connection=connection, kind="account", our_value="income", tool_value="79")

    assert [i["IncomeAccountRef"]["value"] for i in fake.objects("Item")] == ["79"]
    assert len(fake.objects("Invoice")) == 1


def test_a_second_delivery_of_an_invoice_links_the_one_quickbooks_has(connection, fake, shop) -> None:
    """Two deliveries of one invoice (the second with its own requestid, made while the first's
    answer was lost): QuickBooks refuses the number (6140); the one it has is ours, linked."""
    from django.db import transaction

    from erp import events
    from sales.services.billing import invoice_payload
    from sales.services.orders import order_payload

    invoice = shop.invoice(CustomerFactory(name="Mary Jackson"))
    [there] = fake.objects("Invoice")
    ExternalRef.objects.filter(connection=connection, object_type="invoice").delete()

    with shop.capture(execute=True), transaction.atomic():
        events.emit(
            "sales.invoice_issued",
            aggregate=invoice.order,
            payload=order_payload(invoice.order, invoice=invoice_payload(invoice)),
        )

    assert [i["Id"] for i in fake.objects("Invoice")] == [there["Id"]]
    assert ref(connection, "invoice", invoice).external_id == there["Id"]
    latest = (
        Delivery.objects.filter(connection=connection, topic="sales.invoice_issued").order_by("pk").last()
    )
    assert latest.status == DeliveryStatus.SUCCEEDED


class WorkerKilled(BaseException):
    """The worker dies (SIGKILL) after QuickBooks made the invoice, before the hub recorded it."""


def test_done_when_the_worker_dies_mid_push_and_the_accountant_records_the_payment(
    connection, fake, shop, client
) -> None:
    """An invoice with a new customer and a new item, pushed while the worker dies mid-push, then a
    payment recorded in QuickBooks: one customer, one item, one invoice there; ours paid here."""
    made = QuickBooksConnector._create

    def dies_after_the_invoice(self, entity, body, name, request_id):
        answer = made(self, entity, body, name, request_id)
        if entity == "Invoice" and len(fake.objects("Invoice")) == 1 and not died:
            died.append(request_id)
            raise WorkerKilled
        return answer

    died: list[str] = []
    customer = CustomerFactory(name="Dorothy Vaughan", email="dorothy@example.com")
    with (
        mock.patch.object(QuickBooksConnector, "_create", dies_after_the_invoice),
        pytest.raises(WorkerKilled),
    ):
        shop.invoice(customer)
    invoice = Invoice.objects.get(customer=customer)
    [stuck] = Delivery.objects.filter(connection=connection, topic="sales.invoice_issued")
    assert stuck.status == DeliveryStatus.PENDING
    assert stuck.claimed_until > timezone.now()
    assert not ExternalRef.objects.filter(connection=connection, object_type="invoice").exists()

    Delivery.objects.filter(pk=stuck.pk).update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    run_due_deliveries(shop.capture)  # the claim's lease ran out: the beat hands it to a new worker

    assert [len(fake.objects(e)) for e in ("Customer", "Item", "Invoice")] == [1, 1, 1]
    posts = fake.requests_to("POST invoice")
    assert [params(r)["requestid"] for r in posts] == [died[0], died[0]]  # QuickBooks answered the first
    [there] = fake.objects("Invoice")
    assert ref(connection, "invoice", invoice).external_id == there["Id"]

    fake.set_webhook_endpoint("https://erp.test/hooks", entities={"Payment"}, webhook_format="cloudevents")
    fake.record_payment_in_qbo(there["Id"])
    assert post_app(client, shop, *webhook_of(fake, "cloudevents")).status_code == 200

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert fake.get("Invoice", there["Id"])["Balance"] == 0


# --- in ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["legacy", "cloudevents"])
def test_a_payment_recorded_in_quickbooks_marks_our_invoice_paid(connection, fake, shop, client, fmt) -> None:
    invoice = shop.invoice(CustomerFactory(name="Annie Easley"))
    tool_invoice = ref(connection, "invoice", invoice).external_id
    fake.set_webhook_endpoint("https://erp.test/hooks", entities={"Payment"}, webhook_format=fmt)
    fake.record_payment_in_qbo(tool_invoice)
    headers, body = webhook_of(fake, fmt)

    forged = post_app(client, shop, {**headers, "intuit-signature": "Zm9yZ2Vk"}, body)
    first, again = post_app(client, shop, headers, body), post_app(client, shop, headers, body)

    assert (forged.status_code, first.status_code, again.status_code) == (401, 200, 200)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert fake.requests_to("POST payment") == []  # not pushed back


def test_cdc_catches_a_payment_no_webhook_told_of(connection, fake, shop) -> None:
    invoice = shop.invoice(CustomerFactory(name="Katherine Johnson"))
    fake.record_payment_in_qbo(ref(connection, "invoice", invoice).external_id)

    with shop.capture(execute=True):
        run = polling.poll(connection=connection, object_type="payment")

    assert run.failed == 0, run.errors
    assert params(fake.requests_to("GET cdc")[0])["entities"] == "Payment,Invoice"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_the_sample_deliveries_verify_and_name_one_event_per_change(connection) -> None:
    connector = registry.connector_for(connection)
    for fmt in ("legacy", "cloudevents"):
        headers, body = sample_webhook(fmt)
        request = WebhookRequest.of(headers, body)
        assert connector.verify_webhook(request)
        assert not connector.verify_webhook(WebhookRequest.of(headers, body + b" "))
        events = connector.webhook_events(request)
        assert events
        assert {e.account for e in events} == {REALM_ID}
        assert len({e.event_id for e in events}) == len(events)
        assert any(e.topic == "Invoice.Create" for e in events)


# --- faults, limits, the command -----------------------------------------------------------------


def test_faults_read_as_quickbooks_words_and_a_429_waits(connection, fake) -> None:
    connector = registry.connector_for(connection)
    with pytest.raises(PermanentError, match=r"Object Not Found.*fault 610"):
        connector.read_version("invoice", "424242")
    fake.throttle_next()
    with pytest.raises(Throttled):
        connector.test()
    other = connection_create(
        connector="quickbooks", name="Other", settings={"realm_id": "123"}, secrets=SECRETS
    )
    with pytest.raises(PermanentError, match="AuthorizationFailed"):
        registry.connector_for(other).test()
    assert QuickBooksConnector.rate_buckets["default"].concurrency == 10
    assert TOKEN_URL.startswith("https://oauth.platform.intuit.com/")


def test_create_connection_prints_the_id(db) -> None:
    out = io.StringIO()
    call_command(
        "create_connection",
        "quickbooks",
        name="QBO",
        connection_settings=json.dumps({"realm_id": REALM_ID, "environment": "sandbox"}),
        secrets=json.dumps(APP),
        stdout=out,
    )
    row = Connection.objects.get(pk=int(out.getvalue().strip()))
    assert (row.connector, row.settings["environment"]) == ("quickbooks", "sandbox")
    assert registry.connector_for(row).base_url().startswith("https://sandbox-quickbooks.api.intuit.com/v3/")


def test_discounts_shipping_and_a_credit_note_as_quickbooks_takes_them(connection, fake) -> None:
    customer = fake.create_in_qbo("Customer", {"DisplayName": "Jane Buyer"})["Id"]
    item = fake.create_in_qbo("Item", {"Name": "TENT", "IncomeAccountRef": {"value": "79"}})["Id"]
    lines = (
        DocumentLineOut("Tent", Decimal(2), Decimal("10.00"), Decimal("18.00"), item_external_id=item),
        DocumentLineOut("Shipping", Decimal(1), Decimal("5.00"), Decimal("5.00")),
    )
    values = {
        "number": "INV-9",
        "kind": "invoice",
        "external_id": "",
        "version": "",
        "customer_external_id": customer,
        "currency": "USD",
        "issue_date": datetime.date(2026, 3, 14),
        "due_date": datetime.date(2026, 4, 13),
        "lines": lines,
        "subtotal": Decimal("23.00"),
        "tax": Decimal("0"),
        "total": Decimal("23.00"),
    }
    connector = registry.connector_for(connection)

    invoice = connector.push(InvoiceOut(**values), PushContext("k-inv"))
    credit = connector.push(
        InvoiceOut(**{**values, "kind": "credit_note", "number": "CN-9"}), PushContext("k-cn")
    )

    there = fake.get("Invoice", invoice.external_id)
    assert (there["TotalAmt"], there["DueDate"]) == (23, "2026-04-13")
    kinds = [line["DetailType"] for line in there["Line"]]
    assert kinds.count("DiscountLineDetail") == 1
    assert there["Line"][1]["SalesItemLineDetail"]["ItemRef"]["value"] == "SHIPPING_ITEM_ID"
    assert fake.get("CreditMemo", credit.external_id)["TotalAmt"] == 23
