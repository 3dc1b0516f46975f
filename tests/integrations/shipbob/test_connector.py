"""The ShipBob connector against its samples and its fake: the create body, the Standard Webhooks
signature (the sample's real one), a repeated create linked, cancellation, holds, counts and the
rate-limit headers."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from integrations import registry
from integrations.connections import connection_create
from integrations.contract import PushContext, WebhookRequest
from integrations.errors import AlreadyExists, PermanentError, TransientError
from integrations.http import mounted
from integrations.models import Connection
from integrations.records import OrderCancelOut, OrderLineOut, OrderOut, ShipmentRecord
from integrations.shipbob import mapping
from integrations.shipbob.connector import BASE_URL, ShipBobConnector
from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID, FakeShipBob, sample_webhook
from integrations.shipbob.fake_data import DEFAULT_CHANNEL_ID, sample, sample_secret

CONTEXT = PushContext(idempotency_key="k-1")


def sample_order(**changes: Any) -> OrderOut:
    """The sample request's order, as the hub would hand it over."""
    values: dict[str, Any] = {
        "reference": "SHOP-1042",
        "key": "shopify-5834021535987",
        "external_id": "",
        "created_at": datetime.datetime(2026, 3, 14, 14, 21, 7, tzinfo=datetime.UTC),
        "currency": "USD",
        "customer_name": "Jane Buyer",
        "customer_email": "jane.buyer@example.com",
        "ship_to": {
            "name": "Jane Buyer",
            "company": "",
            "line1": "410 W Main St",
            "line2": "Apt 3",
            "city": "Louisville",
            "region": "KY",
            "postal_code": "40202",
            "country": "US",
            "phone": "502-555-0142",
        },
        "lines": (
            OrderLineOut("1", "TENT-2P-GRN", "Trail Tent 2P - Green", D("1"), D("249.00")),
            OrderLineOut("2", "SLBAG-20F-REG", "Down Sleeping Bag 20F - Regular", D("2"), D("179.00")),
        ),
        "service": "",
    }
    values.update(changes)
    return OrderOut(**values)


@pytest.fixture
def fake() -> Iterator[FakeShipBob]:
    tool = FakeShipBob(limits=False)
    with mounted(BASE_URL, httpx.MockTransport(tool.handle)):
        yield tool


@pytest.fixture
def connection(db, fake) -> Connection:
    return connection_create(
        connector="shipbob",
        name="ShipBob",
        settings={"channel_id": CHANNEL_ID},
        secrets={"token": ACCESS_TOKEN, "webhook_secret": sample_secret()},
    )


@pytest.fixture
def connector(connection) -> ShipBobConnector:
    made = registry.connector_for(connection)
    assert isinstance(made, ShipBobConnector)
    return made


# --- orders out ------------------------------------------------------------------------------------


def test_the_create_body_says_what_the_sample_says():
    body = mapping.order_body(sample_order(), shipping_method="Standard")
    expected = sample("order_create_request.json")

    for field in ("shipping_method", "reference_id", "order_number", "type", "purchase_date", "recipient"):
        assert body[field] == expected[field], field
    assert body["products"] == expected["products"]
    assert body["tags"] == [{"name": "erp_order", "value": "SHOP-1042"}]


def test_a_fraction_of_a_unit_is_refused_before_anything_is_sent(connector, fake):
    line = OrderLineOut("7", "TENT-2P-GRN", "Tent", D("1.5"), D("1"))

    with pytest.raises(PermanentError, match="whole units"):
        connector.push(sample_order(lines=(line,)), CONTEXT)
    assert fake.requests == []


def test_the_shipping_method_is_the_mapped_one_else_the_default(connector, connection, fake):
    from integrations.mappings import mapping_set

    mapping_set(connection=connection, kind="shipping_method", our_value="Express", tool_value="Expedited")

    connector.push(sample_order(service="Express"), CONTEXT)
    connector.push(sample_order(key="other", service="Pigeon"), CONTEXT)

    assert fake.order_by_reference("shopify-5834021535987")["shipping_method"] == "Expedited"
    assert fake.order_by_reference("other")["shipping_method"] == "Standard"


def test_a_repeated_create_is_linked_to_the_one_order_shipbob_has(connector, fake):
    first = connector.push(sample_order(), CONTEXT)

    with pytest.raises(AlreadyExists) as exists:
        connector.push(sample_order(), PushContext(idempotency_key="k-2", attempt=2))

    assert exists.value.external_id == first.external_id
    assert len(fake.orders) == 1
    assert len(fake.requests_to("POST order")) == 2
    # an update that changes nothing there is done; one that changes its products is refused
    same = connector.push(sample_order(external_id=first.external_id), CONTEXT)
    assert same.external_id == first.external_id
    fewer = sample_order(external_id=first.external_id, lines=sample_order().lines[:1])
    with pytest.raises(PermanentError, match="differs in its products"):
        connector.push(fewer, CONTEXT)


def test_a_hold_holds_the_orders_shipments_and_a_release_lifts_it(connector, fake):
    placed = connector.push(sample_order(on_hold=True), CONTEXT)  # held here before it went out

    [shipment] = fake.order(int(placed.external_id))["shipments"]
    assert shipment["status"] == "OnHold"
    assert "held" in placed.detail
    released = connector.push(sample_order(external_id=placed.external_id), CONTEXT)
    assert "released" in released.detail
    assert fake.shipment(shipment["id"])["status"] == "Processing"
    # a hold that went out as a create ShipBob refused as a duplicate holds ShipBob's one order
    with pytest.raises(AlreadyExists):
        connector.push(sample_order(on_hold=True), CONTEXT)
    assert fake.shipment(shipment["id"])["status"] == "OnHold"
    assert len(fake.orders) == 1
    # nothing is left to hold once it shipped
    connector.push(sample_order(external_id=placed.external_id), CONTEXT)
    fake.ship(int(placed.external_id))
    with pytest.raises(PermanentError, match="nothing left to hold"):
        connector.push(sample_order(external_id=placed.external_id, on_hold=True), CONTEXT)


def test_a_hold_shipbob_refuses_says_why(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    [shipment] = fake.order(int(placed.external_id))["shipments"]
    refusal = {
        "summary": {"failed": 1, "successful": 0, "total": 1},
        "results": [
            {
                "error": {"code": "INELIGIBLE", "message": "Shipment is picked"},
                "id": shipment["id"],
                "is_success": False,
            }
        ],
    }
    real = fake.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("shipment:bulkPlaceOnHold"):
            return httpx.Response(200, json=refusal)
        return real(request)

    with (
        mounted(BASE_URL, httpx.MockTransport(handle)),
        pytest.raises(PermanentError, match="Shipment is picked"),
    ):
        connector.push(sample_order(external_id=placed.external_id, on_hold=True), CONTEXT)


def test_a_cancellation_by_reference_and_a_shipped_order_refused(connector, fake):
    open_ = connector.push(sample_order(key="ref-open"), CONTEXT)
    shipped = connector.push(sample_order(key="ref-shipped"), CONTEXT)
    fake.ship(int(shipped.external_id))

    # the hub never learned the id: found by our key
    done = connector.push(OrderCancelOut(reference="SHOP-1042", external_id="", key="ref-open"), CONTEXT)
    assert done.external_id == open_.external_id
    assert fake.order(int(open_.external_id))["status"] == "Cancelled"
    again = connector.push(OrderCancelOut(reference="SHOP-1042", external_id=open_.external_id), CONTEXT)
    assert "cancelled already" in again.detail
    never = connector.push(OrderCancelOut(reference="SHOP-9", external_id="", key="nope"), CONTEXT)
    assert "never had it" in never.detail

    with pytest.raises(PermanentError, match="already shipped") as refused:
        connector.push(OrderCancelOut(reference="SHOP-1042", external_id=shipped.external_id), CONTEXT)
    assert refused.value.status == 422


# --- webhooks --------------------------------------------------------------------------------------


def _request(headers: dict[str, str], body: bytes, *, seconds_after: float = 60) -> WebhookRequest:
    sent = datetime.datetime.fromtimestamp(int(headers["webhook-timestamp"]), datetime.UTC)
    return WebhookRequest.of(headers, body, received_at=sent + datetime.timedelta(seconds=seconds_after))


def test_the_sample_delivery_verifies_with_its_secret(connector):
    headers, body = sample_webhook()

    assert connector.verify_webhook(_request(headers, body))
    rotated = {**headers, "webhook-signature": "v1,bm90LWl0 " + headers["webhook-signature"]}
    assert connector.verify_webhook(_request(rotated, body))  # several signatures while it rotates
    [event] = connector.webhook_events(_request(headers, body))
    assert (event.event_id, event.topic) == (headers["webhook-id"], "order.shipped")


def test_a_stale_a_tampered_or_an_unsigned_delivery_is_refused(connector):
    headers, body = sample_webhook()

    assert not connector.verify_webhook(_request(headers, body, seconds_after=301))
    assert not connector.verify_webhook(_request(headers, body, seconds_after=-301))
    assert not connector.verify_webhook(_request(headers, body.replace(b"USPS", b"UPS!")))
    unsigned = {k: v for k, v in headers.items() if k != "webhook-signature"}
    assert not connector.verify_webhook(_request(unsigned, body))
    v2 = {**headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,")}
    assert not connector.verify_webhook(_request(v2, body))


def test_order_shipped_becomes_a_shipment_with_our_lines_and_its_tracking(connector):
    headers, body = sample_webhook()

    [item] = connector.parse_webhook("order.shipped", headers, body)

    record = item.record
    assert isinstance(record, ShipmentRecord)
    assert (record.external_id, record.order_external_id) == ("287654321", "312345678")
    assert (record.carrier, record.service, record.tracking_number) == (
        "USPS",
        "Priority",
        "9400111899223197428490",
    )
    assert [(ln.line_external_id, ln.sku, ln.quantity) for ln in record.lines] == [
        ("1", "TENT-2P-GRN", 1),
        ("2", "SLBAG-20F-REG", 2),
    ]
    assert connector.parse_webhook("order.shipment.cancelled", headers, body) == []
    other = json.loads(body)
    other["channel"]["id"] = DEFAULT_CHANNEL_ID
    assert connector.parse_webhook("order.shipped", headers, json.dumps(other).encode()) == []


def test_order_shipped_without_tracking_is_read_again_until_shipbob_has_it(connector, fake):
    placed = connector.push(sample_order(), CONTEXT)
    shipment = fake.ship(int(placed.external_id), tracking=False)
    body = json.dumps(fake.order(int(placed.external_id))).encode()

    [thin] = connector.parse_webhook("order.shipped", {}, body)
    assert (thin.record, thin.external_id) == (None, str(shipment["id"]))
    with pytest.raises(TransientError, match="no tracking"):
        connector.fetch("shipment", thin.external_id)

    fake.add_tracking(shipment["id"])
    record = connector.fetch("shipment", thin.external_id).record
    assert isinstance(record, ShipmentRecord)
    assert record.tracking_number.startswith("9400111899")
    assert [ln.line_external_id for ln in record.lines] == ["1", "2"]


def test_webhooks_are_registered_with_the_connections_secret(connector, fake):
    connector.register_webhook("order.shipped", "https://erp.example.com/integrations/hooks/1/")

    assert connector.list_webhooks() == ["order.shipped"]
    [subscription] = fake.subscriptions.values()
    assert subscription["secret"] == sample_secret()


# --- counts, rate limits and health ----------------------------------------------------------------


def test_counts_are_read_per_mapped_centre_or_for_the_whole_network(connector, connection, fake):
    page = connector.pull("inventory_level", since=None, page=None)
    tent = next(i.record for i in page.items if i.record is not None and i.record.sku == "TENT-2P-GRN")
    assert (tent.location_external_id, tent.on_hand) == ("", 57)  # 40 at Cicero, 17 at Moreno Valley

    from integrations.mappings import mapping_set
    from tests.inventory.factories import warehouse

    wh = warehouse("WH9")
    assert connector.mapping_choices("fulfillment_center") == [
        ("10", "Cicero (IL)"),
        ("24", "Moreno Valley (CA)"),
    ]
    mapping_set(connection=connection, kind="fulfillment_center", our_value=wh.code, tool_value="24")
    page = connector.pull("inventory_level", since=None, page=None)
    assert {(i.record.location_external_id, i.record.sku, i.record.on_hand) for i in page.items} >= {
        ("24", "TENT-2P-GRN", 17)
    }
    assert {i.record.location_external_id for i in page.items} == {"24"}


def test_the_rate_limit_headers():
    conn = ShipBobConnector.__new__(ShipBobConnector)
    left = conn.rate_limit_hint(httpx.Response(200, headers={"x-remaining-calls": "149"}))
    refused = conn.rate_limit_hint(
        httpx.Response(429, headers=sample("response_headers_rate_limit_example.json"))
    )

    assert left is not None
    assert (left.used, left.limit, left.wait_seconds) == (1, 150, 0.0)
    assert refused is not None
    assert (refused.used, refused.wait_seconds, refused.reset_seconds) == (150, 25.0, 25.0)
    assert conn.rate_limit_hint(httpx.Response(200)) is None
    assert ShipBobConnector.rate_buckets["default"].burst == 150


def test_test_names_the_channel_and_refuses_a_read_only_one(connector, connection):
    assert connector.test() == "ERP Connector"

    connection.settings = {**connection.settings, "channel_id": DEFAULT_CHANNEL_ID}
    with pytest.raises(PermanentError, match="cannot write orders"):
        ShipBobConnector(connection, connector.http).test()
