"""The BigCommerce connector: webhooks, a burst read once, statuses, polling, stock, shipments, hooks and
rate limits, through the hub's HTTP client against a stand-in answering with the samples."""

from __future__ import annotations

import copy
import datetime
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse

from integrations import http, registry
from integrations.bigcommerce import webhooks
from integrations.bigcommerce.connector import BigCommerceConnector
from integrations.contract import PushContext, WebhookRequest
from integrations.errors import PermanentError, Throttled
from integrations.models import Connection, InboundEvent, InboundStatus
from integrations.records import FulfilmentLineOut, FulfilmentOut, InventoryOut
from sales.models import OrderStatus, SalesOrder
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, stocked_product

pytestmark = pytest.mark.django_db

# --- a stand-in store answering with the samples (the full fake is integrations/bigcommerce/fake.py) ---

SAMPLES = Path(__file__).resolve().parents[3] / "integrations" / "bigcommerce" / "samples"
STORE_HASH = "abc123xyz"
BASE = f"https://api.bigcommerce.com/stores/{STORE_HASH}"
ACCESS_TOKEN = "bc-access-token"
WEBHOOK_SECRET = "bc-header-secret"
CLIENT_SECRET = "bc_test_client_secret_9f8e7d"  # signs webhook_headers.json


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


class Store:
    """Routes (method, path after /stores/{hash}/) to answers; records every request."""

    def __init__(self) -> None:
        self.order = sample("v2_order_get_response.json")
        self.products = sample("v2_order_products_response.json")
        self.addresses = sample("v2_order_shipping_addresses_response.json")
        self.orders_pages: list[list[dict[str, Any]]] = [sample("v2_orders_list_response.json")]
        self.hooks: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.adjust: Callable[[dict[str, Any]], httpx.Response] | None = None
        self.next_status: list[httpx.Response] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def requests_to(self, path: str, method: str = "GET") -> list[httpx.Request]:
        return [
            r for r in self.requests if r.url.path == f"/stores/{STORE_HASH}/{path}" and r.method == method
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("x-auth-token") != ACCESS_TOKEN:
            return httpx.Response(401, json=[{"status": 401, "message": "Unauthorized"}])
        if self.next_status:
            return self.next_status.pop(0)
        path = request.url.path.removeprefix(f"/stores/{STORE_HASH}/")
        body = json.loads(request.content) if request.content else None
        order_id = str(self.order["id"])
        routes: dict[tuple[str, str], Callable[[], httpx.Response]] = {
            ("GET", f"v2/orders/{order_id}"): lambda: httpx.Response(200, json=self.order),
            ("GET", f"v2/orders/{order_id}/products"): lambda: httpx.Response(200, json=self.products),
            ("GET", f"v2/orders/{order_id}/shipping_addresses"): lambda: httpx.Response(
                200, json=self.addresses
            ),
            ("GET", f"v2/orders/{order_id}/shipments"): lambda: httpx.Response(200, json=self.shipments),
            ("POST", f"v2/orders/{order_id}/shipments"): lambda: self._ship(body),
            ("GET", "v2/orders"): lambda: self._orders(int(request.url.params.get("page", "1"))),
            ("PUT", "v3/inventory/adjustments/absolute"): lambda: self._adjust(body),
            ("GET", "v3/hooks"): lambda: httpx.Response(200, json={"data": self.hooks, "meta": {}}),
            ("POST", "v3/hooks"): lambda: self._hook(body),
            ("GET", "v2/store"): lambda: httpx.Response(
                200, json={"id": STORE_HASH, "name": "Trail Supply Co"}
            ),
        }
        if path.startswith("v3/hooks/") and request.method == "PUT":
            hook = next(h for h in self.hooks if str(h["id"]) == path.rpartition("/")[2])
            hook.update(body)
            return httpx.Response(200, json={"data": hook, "meta": {}})
        route = routes.get((request.method, path))
        if route is None:
            return httpx.Response(
                404, json=[{"status": 404, "message": "The requested resource was not found."}]
            )
        return route()

    def _orders(self, page: int) -> httpx.Response:
        if page > len(self.orders_pages) or not self.orders_pages[page - 1]:
            return httpx.Response(204)
        return httpx.Response(200, json=self.orders_pages[page - 1])

    def _adjust(self, body: dict[str, Any]) -> httpx.Response:
        if self.adjust is not None:
            return self.adjust(body)
        return httpx.Response(200, json=sample("v3_inventory_adjust_response.json"))

    def _ship(self, body: dict[str, Any]) -> httpx.Response:
        shipment = {"id": len(self.shipments) + 1, "order_id": self.order["id"], **copy.deepcopy(body)}
        self.shipments.append(shipment)
        return httpx.Response(201, json=shipment)

    def _hook(self, body: dict[str, Any]) -> httpx.Response:
        hook = {"id": 20172984 + len(self.hooks), "store_hash": STORE_HASH, **body}
        self.hooks.append(hook)
        return httpx.Response(200, json={"data": hook, "meta": {}})


CONTEXT = PushContext(idempotency_key="delivery-1")


@pytest.fixture
def store():
    store = Store()
    with http.mounted("https://api.bigcommerce.com/", store.transport()):
        yield store


@pytest.fixture
def connection(store):
    wh = warehouse("WH1")
    return ConnectionFactory.create(
        connector="bigcommerce",
        name="BigCommerce store",
        settings={"store_hash": STORE_HASH},
        secrets={
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        },
        warehouse=wh,
        sales_channel=ChannelFactory(warehouse=wh),
    )


@pytest.fixture
def connector(connection) -> BigCommerceConnector:
    instance = registry.connector_for(connection)
    assert isinstance(instance, BigCommerceConnector)
    return instance


@pytest.fixture
def stocked(connection):
    return [stocked_product(10, sku="TENT-2P-GRN"), stocked_product(10, sku="SLBAG-20F-REG")]


def signed(name: str, *, webhook_id: str, at: datetime.datetime) -> tuple[dict[str, str], bytes]:
    body = sample_bytes(name)
    timestamp = str(int(at.timestamp()))
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": webhooks.sign(CLIENT_SECRET, webhook_id, timestamp, body),
        webhooks.SECRET_HEADER: WEBHOOK_SECRET,
    }, body


def deliver(client, connection, headers, body, capture):
    with capture(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=body,
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 200, response.content
    return response


# --- webhooks -------------------------------------------------------------------------------------


def test_the_sample_delivery_is_verified_by_its_standard_webhooks_signature(connector):
    headers = {k: v for k, v in sample("webhook_headers.json").items() if not k.startswith("_")}
    body = sample_bytes("webhook_store_order_created.json")
    at = datetime.datetime.fromtimestamp(int(headers["webhook-timestamp"]), datetime.UTC)

    assert connector.verify_webhook(WebhookRequest.of(headers, body, received_at=at))
    assert not connector.verify_webhook(
        WebhookRequest.of(headers, body.replace(b"250", b"251"), received_at=at)
    )
    late = at + datetime.timedelta(minutes=6)
    assert not connector.verify_webhook(WebhookRequest.of(headers, body, received_at=late))
    [event] = connector.webhook_events(WebhookRequest.of(headers, body, received_at=at))
    assert (event.event_id, event.topic, event.account) == (
        "dd70c0976e06b67aaf671e73f49dcb79230ebf9d",
        "store/order/created",
        STORE_HASH,
    )


def test_without_the_client_secret_the_header_secret_set_at_registration_decides(connection):
    connection.set_secrets({"access_token": ACCESS_TOKEN, "webhook_secret": WEBHOOK_SECRET})
    connection.save()
    connector = registry.connector_for(connection)
    body = sample_bytes("webhook_store_order_created.json")

    assert connector.verify_webhook(WebhookRequest.of({webhooks.SECRET_HEADER: WEBHOOK_SECRET}, body))
    assert not connector.verify_webhook(WebhookRequest.of({webhooks.SECRET_HEADER: "guess"}, body))
    assert not connector.verify_webhook(WebhookRequest.of({}, body))


def test_inventory_scopes_carry_nothing_and_archived_keeps_the_order(connector):
    for name in (
        "webhook_store_product_inventory_order_updated.json",
        "webhook_store_sku_inventory_order_updated.json",
    ):
        body = sample_bytes(name)
        assert connector.parse_webhook(json.loads(body)["scope"], {}, body) == []
    [item] = connector.parse_webhook(
        "store/order/archived", {}, b'{"scope":"store/order/archived","data":{"id":250}}'
    )
    assert (item.external_id, item.action.value, item.record) == ("250", "delete", None)


def test_a_burst_for_one_order_gives_one_order_and_one_fetch(
    client, connection, store, stocked, django_capture_on_commit_callbacks
):
    # The store made the order, updated it and moved it to Awaiting Fulfillment, then sent the three
    # hooks; processed after the settle window (all three here): one fetch covers the three.
    store.order["date_modified"] = "Sat, 14 Mar 2026 14:22:09 +0000"
    at = datetime.datetime.now(datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        for n, name in enumerate(
            (
                "webhook_store_order_created.json",
                "webhook_store_order_updated.json",
                "webhook_store_order_statusUpdated.json",
            )
        ):
            headers, body = signed(name, webhook_id=f"msg_{n}", at=at)
            response = client.post(
                reverse("integrations:hook", args=[connection.pk]),
                data=body,
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 200

    order = SalesOrder.objects.get()
    assert (order.status, order.external_reference, order.total) == (
        OrderStatus.CONFIRMED,
        "250",
        order.total,
    )
    assert order.total == Decimal("643.37")
    assert len(store.requests_to("v2/orders/250")) == 1
    statuses = list(InboundEvent.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.SKIPPED, InboundStatus.SKIPPED]


def test_the_same_hook_twice_is_stored_once_by_its_hash(
    client, connection, store, stocked, django_capture_on_commit_callbacks
):
    at = datetime.datetime.now(datetime.UTC)
    deliver(
        client,
        connection,
        *signed("webhook_store_order_created.json", webhook_id="a", at=at),
        django_capture_on_commit_callbacks,
    )
    again = deliver(
        client,
        connection,
        *signed("webhook_store_order_created.json", webhook_id="b", at=at),
        django_capture_on_commit_callbacks,
    )
    assert again.json()["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


def test_an_order_awaiting_payment_is_imported_once_it_is_payable(
    client, connection, store, stocked, django_capture_on_commit_callbacks
):
    store.order.update(status_id=7, status="Awaiting Payment")
    at = datetime.datetime.now(datetime.UTC)
    deliver(
        client,
        connection,
        *signed("webhook_store_order_created.json", webhook_id="1", at=at),
        django_capture_on_commit_callbacks,
    )
    assert SalesOrder.objects.count() == 0
    assert InboundEvent.objects.get().status == InboundStatus.SKIPPED
    assert len(store.requests_to("v2/orders/250/products")) == 0  # not read further

    store.order.update(
        status_id=11, status="Awaiting Fulfillment", date_modified="Sat, 14 Mar 2026 14:22:09 +0000"
    )
    deliver(
        client,
        connection,
        *signed("webhook_store_order_statusUpdated.json", webhook_id="2", at=at),
        django_capture_on_commit_callbacks,
    )
    assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED


# --- polling --------------------------------------------------------------------------------------


def test_polling_pages_by_number_until_a_204(connector, store, monkeypatch):
    monkeypatch.setattr("integrations.bigcommerce.connector.ORDER_PAGE", 1)
    since = datetime.datetime(2026, 3, 14, 14, tzinfo=datetime.UTC)

    first = connector.pull("order", since=since, page=None)
    second = connector.pull("order", since=since, page=first.next_page)

    assert [i.external_id for i in first.items] == ["250"]
    assert first.next_page == "2"
    assert (second.items, second.next_page) == ((), None)
    request = store.requests_to("v2/orders")[0]
    assert dict(request.url.params) == {
        "sort": "date_modified:asc",
        "page": "1",
        "limit": "1",
        "min_date_modified": "Sat, 14 Mar 2026 14:00:00 +0000",
    }


# --- stock and shipments --------------------------------------------------------------------------


def stock(sku: str, variant: str, available: int) -> InventoryOut:
    return InventoryOut(sku=sku, external_id=variant, extra={}, available=available)


def test_stock_of_several_skus_goes_in_one_absolute_adjustment(connector, store):
    items = [
        (stock("TENT-2P-GRN", "77", 42), CONTEXT),
        (stock("SLBAG-20F-REG", "81", 12), PushContext("delivery-2")),
    ]

    results = connector.push_batch(items)

    assert [r.external_id for r in results] == ["77", "81"]
    [request] = store.requests_to("v3/inventory/adjustments/absolute", "PUT")
    sent = json.loads(request.content)
    assert sent["items"] == [
        {"location_id": 1, "variant_id": 77, "quantity": 42},
        {"location_id": 1, "variant_id": 81, "quantity": 12},
    ]
    assert sent["reason"].startswith("ERP sync")


def test_a_422_fails_the_item_it_names_clearly_and_the_others_go_again(connector, store):
    def refuse_106(body):
        if any(i["variant_id"] == 106 for i in body["items"]):
            return httpx.Response(
                422,
                json=sample("v3_inventory_adjust_error_422.json"),
                headers={"Content-Type": "application/problem+json"},
            )
        return httpx.Response(200, json={"transaction_id": "t-1"})

    store.adjust = refuse_106
    results = connector.push_batch(
        [(stock("TENT-2P-GRN", "77", 5), CONTEXT), (stock("STOVE", "106", 3), CONTEXT)]
    )

    assert results[0].external_id == "77"
    assert isinstance(results[1], PermanentError)
    assert "STOVE" in str(results[1])
    assert "tracked by product, please update stock by product id" in str(results[1])
    second = json.loads(store.requests_to("v3/inventory/adjustments/absolute", "PUT")[1].content)
    assert [i["variant_id"] for i in second["items"]] == [77]


def test_a_single_refused_push_raises_the_clear_error(connector, store):
    store.adjust = lambda body: httpx.Response(422, json=sample("v3_error_422_catalog.json"))
    with pytest.raises(PermanentError, match=r"inventory_level: error\.path\.invalid"):
        connector.push(stock("TENT-2P-GRN", "77", -1), CONTEXT)


def test_a_shipment_goes_out_with_tracking_carrier_and_lines_once(connector, store):
    item = FulfilmentOut(
        order_external_id="250",
        shipment_number="SH-1",
        lines=(FulfilmentLineOut("401", 1), FulfilmentLineOut("402", 2)),
        carrier="USPS",
        tracking_number="9400111899223197428490",
    )

    first = connector.push(item, CONTEXT)
    again = connector.push(item, CONTEXT)  # a retry after a lost answer

    [request] = store.requests_to("v2/orders/250/shipments", "POST")
    sent = json.loads(request.content)
    expected = sample("v2_order_shipment_create_request.json")
    assert {k: v for k, v in sent.items() if k != "comments"} == {
        k: v for k, v in expected.items() if k != "comments"
    }
    assert sent["comments"] == "Shipment SH-1"
    assert (first.external_id, again.external_id) == ("1", "1")


# --- hooks, rate limits, the command ---------------------------------------------------------------


def test_hooks_are_registered_with_the_header_secret_and_reactivated_when_deactivated(connector, store):
    address = "https://erp.example.com/integrations/hooks/1/"
    connector.register_webhook("store/order/created", address)
    [hook] = store.hooks
    assert hook["headers"] == {webhooks.SECRET_HEADER: WEBHOOK_SECRET}
    assert hook["is_active"] is True
    assert connector.list_webhooks() == ["store/order/created"]

    hook["is_active"] = False  # BigCommerce gave up after 48 h of failed deliveries
    assert connector.list_webhooks() == []
    connector.register_webhook("store/order/created", address)
    assert len(store.hooks) == 1
    assert store.hooks[0]["is_active"] is True


def test_rate_limit_headers_become_a_hint():
    headers = sample("response_headers_rate_limit_example.json")
    connector_cls = BigCommerceConnector
    hint = connector_cls.rate_limit_hint(None, httpx.Response(200, headers=headers))  # type: ignore[arg-type]
    assert (hint.used, hint.limit, hint.reset_seconds, hint.wait_seconds) == (115, 150, 15.0, 0.0)
    spent = connector_cls.rate_limit_hint(
        None, httpx.Response(200, headers={**headers, "X-Rate-Limit-Requests-Left": "0"})
    )  # type: ignore[arg-type]
    assert spent.wait_seconds == 15.0
    assert connector_cls.rate_limit_hint(None, httpx.Response(429)) is None  # type: ignore[arg-type]


def test_a_429_without_quota_headers_is_platform_load_and_waits(connector, store):
    store.next_status = [httpx.Response(429)]
    with pytest.raises(Throttled) as caught:
        connector.test()
    assert caught.value.retry_after > 0
    assert connector.test() == "Trail Supply Co"


def test_create_connection_prints_the_id():
    out = io.StringIO()
    call_command(
        "create_connection",
        "bigcommerce",
        name="Store",
        connection_settings='{"store_hash": "abc123"}',
        secrets='{"access_token": "t", "webhook_secret": "s"}',
        stdout=out,
    )
    connection = Connection.objects.get(pk=int(out.getvalue().strip()))
    assert connection.connector == "bigcommerce"
    assert registry.connector_for(connection).base_url() == "https://api.bigcommerce.com/stores/abc123"
