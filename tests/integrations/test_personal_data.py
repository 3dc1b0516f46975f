"""Personal data (``Connector.personal_fields``): kept only on the records that need them, redacted
from the request log and the stored webhook headers; the stored body keeps it for the appliers
until the retention purge; the connection's page says what is kept and for how long."""

from __future__ import annotations

import datetime
import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import http, inbound, retention
from integrations.contract import WebhookEnvelope, WebhookRequest
from integrations.errors import PermanentError
from integrations.http import REDACTED, HubHttp, Redactor
from integrations.models import Connection, InboundEvent, InboundStatus, RequestLog
from integrations.shopify.connector import ShopifyConnector
from sales.models import SalesOrder
from tests.integrations.outbound_support import BASE, TinyConnector, make_connection
from tests.integrations.test_inbound_shopify import post_sample, shopify_connection, stock_the_sample
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    inbound_event,
)
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

ORDER_ID = "902-3159896-1390916"
EMAIL = "jane.buyer@example.com"
STREET = "410 W Main St"


class Marketplace(TinyConnector):
    """A tool shaped like Amazon's SP-API: the buyer's name, email and street are personal."""

    key = "tiny-marketplace"
    personal_fields = frozenset({"BuyerName", "BuyerEmail", "AddressLine1", "AddressLine2", "Phone"})


def amazon_order(**extra: Any) -> dict[str, Any]:
    return {
        "AmazonOrderId": ORDER_ID,
        "OrderStatus": "Unshipped",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "64.00"},
        "BuyerInfo": {"BuyerEmail": EMAIL, "BuyerName": "Jane Buyer"},
        "ShippingAddress": {
            "Name": "Jane Buyer",
            "AddressLine1": STREET,
            "AddressLine2": "",
            "City": "Louisville",
            "PostalCode": "40202",
            "Phone": 15025550142,
        },
        **extra,
    }


def answering(*responses: httpx.Response) -> httpx.MockTransport:
    queue = list(responses)
    return httpx.MockTransport(lambda request: queue.pop(0))


def call(method: str, url: str, *responses: httpx.Response, **kw: Any) -> tuple[httpx.Response, RequestLog]:
    connection = make_connection()
    with http.mounted(BASE, answering(*responses)):
        response = HubHttp(connection, Marketplace).request(method, url, **kw)
    return response, RequestLog.objects.get()


# --- the request log ----------------------------------------------------------------------------


def test_a_response_carrying_personal_fields_is_logged_with_them_redacted() -> None:
    # when
    response, log = call(
        "GET", f"/orders/v0/orders/{ORDER_ID}", httpx.Response(200, json={"payload": amazon_order()})
    )

    # then: the connector reads everything
    assert response.json()["payload"]["BuyerInfo"]["BuyerEmail"] == EMAIL
    # the log keeps what a person debugging needs, not who bought it or where they live
    logged = json.loads(log.response_body)["payload"]
    assert logged["AmazonOrderId"] == ORDER_ID
    assert logged["BuyerInfo"] == {"BuyerEmail": REDACTED, "BuyerName": REDACTED}
    assert logged["ShippingAddress"]["AddressLine1"] == REDACTED
    assert logged["ShippingAddress"]["Phone"] == REDACTED  # a number too
    assert logged["ShippingAddress"]["AddressLine2"] == ""  # nothing there to hide
    assert logged["ShippingAddress"]["City"] == "Louisville"
    for personal in (EMAIL, STREET, "15025550142"):
        assert personal not in log.response_body
    assert log.request_headers["authorization"] == REDACTED  # secrets as before


def test_a_request_carrying_personal_fields_is_logged_with_them_redacted() -> None:
    _, log = call(
        "POST",
        "/orders/search?BuyerEmail=jane.buyer%40example.com&MarketplaceIds=ATVPDKIKX0DER",
        httpx.Response(200, json={"payload": {"Orders": []}}),
        json={"shipTo": {"BuyerName": "Jane Buyer", "AddressLine1": STREET}, "carrier": "UPS"},
    )

    assert json.loads(log.request_body) == {
        "shipTo": {"BuyerName": REDACTED, "AddressLine1": REDACTED},
        "carrier": "UPS",
    }
    assert "jane.buyer" not in log.url
    assert log.url.endswith(f"?BuyerEmail={REDACTED}&MarketplaceIds=ATVPDKIKX0DER")


def test_a_body_without_personal_fields_is_logged_byte_for_byte() -> None:
    raw = b'{ "payload": { "AmazonOrderId": "902-3159896-1390916", "City": "Louisville" } }'

    _, log = call("GET", "/orders", httpx.Response(200, content=raw))

    assert log.response_body == raw.decode()


def test_a_body_too_big_to_read_whole_is_redacted_by_pattern_even_where_it_is_cut(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    # given: bodies above 64 bytes are not parsed; the log keeps 300 bytes of each
    monkeypatch.setattr(http, "PERSONAL_PARSE_BYTES", 64)
    settings.INTEGRATIONS_LOG_BODY_BYTES = 300
    orders = [amazon_order(AmazonOrderId=f"902-0000000-{n:07d}") for n in range(20)]

    # when
    _, log = call("GET", "/orders", httpx.Response(200, json={"payload": {"Orders": orders}}))

    # then
    assert log.response_body.endswith("bytes)")
    assert "902-0000000-0000000" in log.response_body
    assert EMAIL not in log.response_body
    assert f'"BuyerEmail":"{REDACTED}"' in log.response_body


def test_a_refused_request_says_why_without_the_personal_fields() -> None:
    refused = httpx.Response(
        400, json={"errors": [{"code": "InvalidInput", "details": {"BuyerEmail": EMAIL}}]}
    )

    with pytest.raises(PermanentError) as caught:
        call("GET", "/orders", refused)

    assert "InvalidInput" in caught.value.body
    assert EMAIL not in caught.value.body
    assert EMAIL not in str(caught.value)
    assert EMAIL not in RequestLog.objects.get().response_body


def test_a_redactor_that_names_no_personal_fields_hides_those_every_connector_declares() -> None:
    """What HubHttp gets until it passes its connector's own (Redactor.of(personal_fields=...))."""
    declared = http.declared_personal_fields()
    assert {"buyeremail", "addressline1"} <= declared  # this module's tool
    assert {f.lower() for f in ShopifyConnector.personal_fields} <= declared
    assert Redactor.of().personal_keys == declared
    assert Redactor.of(personal_fields=frozenset()).body(json.dumps(amazon_order()).encode()) == (
        json.dumps(amazon_order()).encode()
    )
    own = Redactor.of(personal_fields=Marketplace.personal_fields)
    assert own.headers({"Phone": "+1 502", "X-Amzn-RequestId": "r-1"}) == {
        "Phone": REDACTED,
        "X-Amzn-RequestId": "r-1",
    }


# --- inbound: the stored event ------------------------------------------------------------------


def test_the_stored_event_keeps_what_the_applier_needs_until_the_purge(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    # given: Shopify's sample order, with the buyer's email and address
    connection = shopify_connection()
    stock_the_sample()

    # when: received and processed
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sample(client, connection).status_code == 200

    # then: the stored body is the delivery, byte for byte, personal data included (a replay
    # processes it again), and the order has what it needs to ship
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.PROCESSED
    assert EMAIL.encode() in bytes(event.body)
    assert STREET.encode() in bytes(event.body)
    order = SalesOrder.objects.select_related("customer").get()
    assert (order.shipping_address["line1"], order.shipping_address["line2"]) == (STREET, "Apt 3")
    assert order.customer.email == EMAIL

    # when: its time is up
    report = retention.purge(timezone.now() + datetime.timedelta(days=31))

    # then: the event keeps its metadata only; the order keeps the address it ships to
    event.refresh_from_db()
    assert report.inbound_bodies == 1
    assert (bytes(event.body), event.headers) == (b"", {})
    assert (event.topic, event.status) == ("orders/create", InboundStatus.PROCESSED)
    order.refresh_from_db()
    assert order.shipping_address["line1"] == STREET
    assert order.customer.email == EMAIL


def test_stored_webhook_headers_redact_the_personal_ones(connection: Connection) -> None:
    # given: a tool that sends the buyer's email in a header it also needs kept
    tool = SimpleNamespace(
        webhook_headers=frozenset({"x-buyer-email", "x-event-id"}),
        personal_fields=frozenset({"X-Buyer-Email"}),
    )
    request = WebhookRequest.of({"X-Buyer-Email": EMAIL, "X-Event-Id": "e-1", "X-Secret": "s"}, b"{}")

    # when
    event, created = inbound._store_webhook_event(
        connection, tool, request, WebhookEnvelope("e-1", "orders/create")
    )  # type: ignore[arg-type]

    # then: the tool's ids kept, the personal header redacted, anything else never stored
    assert created
    assert event.headers == {"X-Buyer-Email": REDACTED, "X-Event-Id": "e-1"}


# --- the connection page ------------------------------------------------------------------------


def test_the_connection_page_says_what_is_kept_and_for_how_long(
    admin: Client, connection: Connection
) -> None:
    content = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()

    assert "Data kept" in content
    assert "30 days after processing" in content
    assert "14 days" in content
    assert "the rows 90 days" in content
    fields = ", ".join(sorted(ShopifyConnector.personal_fields, key=str.lower))
    assert f'redacted from the log: <span class="mono">{fields}</span>' in content


def test_the_card_follows_the_settings(admin: Client, connection: Connection, settings) -> None:
    settings.INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS = 7
    settings.INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS = 1
    settings.INTEGRATIONS_RETAIN_REQUEST_LOG_ROWS_DAYS = 365

    content = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()

    assert "7 days after processing" in content
    assert "1 day <span" in content
    assert "the rows 365 days" in content


def test_the_connection_page_costs_the_same_queries_however_much_is_kept(
    admin: Client, connection: Connection
) -> None:
    url = reverse("integrations:connection", args=[connection.pk])

    def more() -> None:
        for _ in range(10):
            inbound_event(connection, processed_at=timezone.now())
        retention.purge(timezone.now() + datetime.timedelta(days=31))

    assert_constant_queries(lambda: admin.get(url), more)
