"""The Shopify connector without the network: settings, signatures, envelopes, parsing, rate hints."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json

import httpx
import pytest

from erp.exceptions import ValidationFailed
from integrations import registry
from integrations.connections import connection_create
from integrations.contract import Action, Capability, WebhookRequest
from integrations.models import Connection
from integrations.shopify.connector import ShopifyConnector, ShopifySettings
from integrations.shopify.fake import CLIENT_SECRET, FakeShopify, sample_webhook
from integrations.shopify.fake_data import sample, sample_bytes
from tests.integrations.shopify.conftest import shopify_settings


class NoHttp:
    def request(self, *args, **kwargs):
        raise AssertionError("This must not make an HTTP call")


def offline(connection: Connection) -> ShopifyConnector:
    return ShopifyConnector(connection, NoHttp())


def test_registered_with_its_capabilities_topics_and_versions():
    cls = registry.get("shopify")

    assert cls is ShopifyConnector
    assert cls.capabilities == {
        Capability.ORDERS_IN,
        Capability.SHIPMENTS_IN,
        Capability.INVENTORY_OUT,
        Capability.FULFILMENT_OUT,
        Capability.PRODUCTS_IN,
    }
    assert cls.topics == ("inventory.level_changed", "sales.shipment_shipped", "sales.shipment_updated")
    assert cls.poll_object_types == ("order",)
    assert cls.reconcile_object_types == ("inventory", "order")
    assert cls.webhook_topics == ("orders/create", "orders/updated", "orders/cancelled", "products/update")
    assert next(iter(cls.api_versions)) == "2025-07"
    assert cls.api_versions["2025-07"] == datetime.date(2026, 7, 1)
    sunsets = list(cls.api_versions.values())
    assert sunsets == sorted(sunsets)
    assert sorted(cls.describe()["secrets"]) == [
        "access_token",
        "client_id",
        "client_secret",
        "refresh_token",
    ]


def test_the_documented_create_connection_keys_validate_exactly(db):
    connection = connection_create(
        connector="shopify",
        name="Store",
        settings={"shop_domain": "example.myshopify.com", "api_version": "2025-07", "location_id": 1},
        secrets={"access_token": "shpat_x", "client_secret": "shpss_y"},
    )

    assert connection.settings["shop_domain"] == "example.myshopify.com"
    assert connection.settings["location_id"] == 1
    assert connection.api_version == "2025-07"
    assert connection.get_secrets() == {"access_token": "shpat_x", "client_secret": "shpss_y"}
    assert offline(connection).base_url() == "https://example.myshopify.com/admin/api/2025-07"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"api_version": "2025-07", "location_id": 1}, "settings.shop_domain"),
        ({"shop_domain": "not a domain!", "location_id": 1}, "settings.shop_domain"),
        (
            {"shop_domain": "example.myshopify.com", "api_version": "2025-08", "location_id": 1},
            "settings.api_version",
        ),
        ({"shop_domain": "example.myshopify.com"}, "settings.location_id"),
        ({"shop_domain": "example.myshopify.com", "location_id": 1, "locaton": 2}, "settings.locaton"),
        (
            {"shop_domain": "example.myshopify.com", "location_id": 1, "base_url": "ftp://x"},
            "settings.base_url",
        ),
    ],
)
def test_bad_settings_are_refused_by_field(db, given, field):
    with pytest.raises(ValidationFailed) as caught:
        connection_create(
            connector="shopify",
            name="Store",
            settings=given,
            secrets={"access_token": "a", "client_secret": "b"},
        )

    assert field in caught.value.field_errors


def test_missing_secrets_are_refused(db):
    with pytest.raises(ValidationFailed) as caught:
        connection_create(
            connector="shopify", name="Store", settings=shopify_settings(), secrets={"access_token": "a"}
        )

    assert "secrets.client_secret" in caught.value.field_errors


def test_a_domain_is_normalised_and_a_host_is_accepted():
    assert ShopifySettings(shop_domain="HTTPS://Example.myshopify.com/", location_id=1).shop_domain == (
        "example.myshopify.com"
    )
    assert (
        ShopifySettings(shop_domain="shop.example.com:8443", location_id=1).shop_domain
        == "shop.example.com:8443"
    )


def test_base_url_override_keeps_the_api_path(connection):
    connection.settings = shopify_settings(
        base_url="http://127.0.0.1:8000/fake/shopify/", api_version="2026-01"
    )

    assert offline(connection).base_url() == "http://127.0.0.1:8000/fake/shopify/admin/api/2026-01"


def test_auth_header_is_the_access_token(connection):
    assert offline(connection).auth_headers({"access_token": "shpat_abc"}) == {
        "X-Shopify-Access-Token": "shpat_abc"
    }
    assert offline(connection).refresh_token({"access_token": "shpat_abc"}) is None


# --- webhook signatures ---------------------------------------------------------------------------------


def test_the_sample_signature_is_valid_byte_for_byte(connection):
    headers, body = sample_webhook()

    assert headers["X-Shopify-Hmac-Sha256"] == "u54DKVwtdBvXm6oYOSTgNUwaF3+iUePmkSuGojTZDNg="
    assert offline(connection).verify_webhook(WebhookRequest.of(headers, body)) is True


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"705.91", b"705.92")),
        lambda h, b: (h, b + b"\n"),
        lambda h, b: (h, json.dumps(json.loads(b)).encode()),  # same JSON, other bytes
        lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": h["X-Shopify-Hmac-Sha256"][:-2] + "A="}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b),
        lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "not base64 at all"}, b),
    ],
)
def test_a_tampered_delivery_is_invalid(connection, tamper):
    headers, body = tamper(*sample_webhook())

    assert offline(connection).verify_webhook(WebhookRequest.of(headers, body)) is False


def test_a_wrong_client_secret_makes_the_sample_invalid(connection):
    connection.set_secrets({"access_token": "a", "client_secret": "shpss_other"})

    assert offline(connection).verify_webhook(WebhookRequest.of(*sample_webhook())) is False


def test_headers_match_case_insensitively_and_events_headers_work(connection):
    headers, body = sample_webhook()
    signature = headers["X-Shopify-Hmac-Sha256"]

    lower = {k.lower(): v for k, v in headers.items()}
    events = {"shopify-hmac-sha256": signature, "shopify-topic": "orders/create", "shopify-event-id": "ev-1"}

    assert offline(connection).verify_webhook(WebhookRequest.of(lower, body)) is True
    assert offline(connection).verify_webhook(WebhookRequest.of(events, body)) is True
    assert offline(connection).webhook_events(WebhookRequest.of(events, body))[0].event_id == "ev-1"


def test_the_fake_signs_like_shopify(connection):
    fake = FakeShopify()
    headers, body = fake.webhook("orders/updated", {"id": 1})

    digest = hmac.new(CLIENT_SECRET.encode(), body, hashlib.sha256).digest()
    assert headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
    assert offline(connection).verify_webhook(WebhookRequest.of(headers, body)) is True
    assert (
        fake.webhook("orders/create", sample_bytes("webhook_orders_create.json"))[0]["X-Shopify-Hmac-Sha256"]
        == (sample_webhook()[0]["X-Shopify-Hmac-Sha256"])
    )
    assert set(headers) >= {
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Triggered-At",
        "X-Shopify-Event-Id",
    }


# --- envelope and parsing -------------------------------------------------------------------------------


def test_the_envelope_is_the_webhook_id_and_topic(connection):
    headers, body = sample_webhook()

    envelope = offline(connection).webhook_events(WebhookRequest.of(headers, body))[0]

    assert envelope.event_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert envelope.topic == "orders/create"


def test_the_envelope_falls_back_to_the_event_id_then_the_body(connection):
    headers, body = sample_webhook()
    without_webhook_id = {k: v for k, v in headers.items() if k != "X-Shopify-Webhook-Id"}
    bare = {"X-Shopify-Topic": "orders/create"}

    assert offline(connection).webhook_events(WebhookRequest.of(without_webhook_id, body))[0].event_id == (
        "98880550-7158-44d4-b7cd-2c97c8a091b5"
    )
    assert offline(connection).webhook_events(WebhookRequest.of(bare, body))[0].event_id == (
        "sha256:" + hashlib.sha256(body).hexdigest()
    )
    with pytest.raises(ValueError, match="X-Shopify-Topic"):
        offline(connection).webhook_events(WebhookRequest.of({}, body))[0]


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "orders/paid"])
def test_order_webhooks_carry_the_whole_order(connection, topic):
    headers, body = sample_webhook()

    [item] = offline(connection).parse_webhook(topic, headers, body)  # NoHttp: no API call

    assert item.object_type == "order"
    assert item.external_id == "5834021535987"
    assert item.action == Action.UPSERT
    assert item.updated_at == item.record.updated_at
    assert str(item.record.totals.total) == "705.91"


def test_a_cancel_webhook_is_a_cancel_with_the_record(connection):
    order = json.loads(sample_bytes("webhook_orders_create.json"))
    order.update(cancelled_at="2026-03-15T09:00:00-04:00", cancel_reason="fraud")

    [item] = offline(connection).parse_webhook("orders/cancelled", {}, json.dumps(order).encode())

    assert item.action == Action.CANCEL
    assert item.record.cancel_reason == "fraud"


@pytest.mark.parametrize("topic", ["products/create", "products/update"])
def test_product_webhooks_carry_the_product(connection, topic):
    product = sample("rest_products_list_response.json")["products"][0]

    [item] = offline(connection).parse_webhook(topic, {}, json.dumps(product).encode())

    assert item.object_type == "product"
    assert [v.sku for v in item.record.variants] == ["TENT-2P-GRN", "TENT-2P-ORG"]


def test_delete_webhooks_are_thin_deletes_and_unknown_topics_carry_nothing(connection):
    [item] = offline(connection).parse_webhook("products/delete", {}, b'{"id": 8012345678901}')

    assert (item.object_type, item.external_id, item.action, item.record) == (
        "product",
        "8012345678901",
        Action.DELETE,
        None,
    )
    assert offline(connection).parse_webhook("app/uninstalled", {}, b'{"id": 1}') == []


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("orders/create", b"not json"),
        ("orders/create", b"[1, 2]"),
        ("orders/create", b'{"id": 1}'),
        ("orders/updated", b'{"created_at": "2026-01-01T00:00:00Z"}'),
        ("products/update", b'{"title": "no id"}'),
        ("orders/delete", b"{}"),
    ],
)
def test_an_unreadable_body_is_a_value_error(connection, topic, body):
    with pytest.raises(ValueError):  # noqa: PT011 - the hub's contract: ValueError
        offline(connection).parse_webhook(topic, {}, body)


# --- rate limit hints -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "wait", "used", "limit"),
    [
        ("1/40", 0.0, 1, 40),
        ("32/40", 0.0, 32, 40),
        ("36/40", 2.0, 36, 40),
        ("40/40", 4.0, 40, 40),
        ("390/400", 3.5, 390, 400),
    ],
)
def test_the_call_limit_header_becomes_a_wait(connection, header, wait, used, limit):
    response = httpx.Response(200, headers={"X-Shopify-Shop-Api-Call-Limit": header})

    hint = offline(connection).rate_limit_hint(response)

    assert (hint.wait_seconds, hint.used, hint.limit) == (pytest.approx(wait), used, limit)


@pytest.mark.parametrize("header", [None, "", "abc", "3/0"])
def test_no_or_garbled_call_limit_header_gives_no_hint(connection, header):
    headers = {} if header is None else {"X-Shopify-Shop-Api-Call-Limit": header}

    assert offline(connection).rate_limit_hint(httpx.Response(200, headers=headers)) is None
