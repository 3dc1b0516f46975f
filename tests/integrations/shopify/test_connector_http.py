"""The Shopify connector against the fake, through the hub's HTTP client (integrations.http.HubHttp)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from integrations import registry
from integrations.connections import connection_create
from integrations.contract import Action, PushContext
from integrations.errors import AuthFailed, CountMoved, PermanentError, Throttled, TransientError
from integrations.models import Connection, ConnectionStatus, RequestLog
from integrations.records import FulfilmentLineOut, FulfilmentOut, InventoryOut
from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID
from tests.integrations.shopify.conftest import shopify_settings

SAMPLE_ORDER = "5834021535987"
TENT_GREEN = InventoryOut(
    sku="TENT-2P-GRN", external_id="44012345678901", extra={"inventory_item_id": 46012345678901}, available=30
)

CONTEXT = PushContext(idempotency_key="erp-delivery-1")


def graphql_connector(shop, *, api_version: str) -> ShopifyConnector:
    connection = connection_create(
        connector="shopify",
        name=f"GraphQL {api_version}",
        settings=shopify_settings(api_version=api_version, inventory_api="graphql"),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
    )
    return registry.connector_for(connection)


def test_test_connection_returns_the_shop_name_and_logs_without_the_token(connector):
    assert connector.test() == "Acme Outdoors"

    log = RequestLog.objects.get()
    assert log.url == "https://acme-outdoors.myshopify.com/admin/api/2025-07/shop.json"
    assert log.status_code == 200
    assert ACCESS_TOKEN not in str(log.request_headers)


def test_pull_orders_follows_the_link_header_verbatim(connector, shop, monkeypatch):
    monkeypatch.setattr(ShopifyConnector, "page_limit", 2)
    start = datetime.datetime(2026, 4, 1, 12, tzinfo=datetime.UTC)
    made = [shop.create_order(created_at=start + datetime.timedelta(minutes=i)) for i in range(3)]
    since = datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)

    page1 = connector.pull("order", since=since, page=None)
    page2 = connector.pull("order", since=since, page=page1.next_page)

    assert [i.external_id for i in page1.items] == [str(made[0]["id"]), str(made[1]["id"])]
    assert [i.external_id for i in page2.items] == [str(made[2]["id"])]
    assert page2.next_page is None
    assert all(i.record is not None and i.action == Action.UPSERT for i in page1.items + page2.items)
    first, second = shop.requests_to("orders.json")
    assert first.params == {
        "status": "any",
        "limit": "2",
        "order": "updated_at asc",
        "updated_at_min": "2026-04-01T00:00:00+00:00",
    }
    assert set(second.params) == {"limit", "page_info"}


def test_pull_orders_sees_a_cancellation_as_a_cancel(connector, shop):
    shop.cancel_order(int(SAMPLE_ORDER), reason="inventory")

    page = connector.pull("order", since=None, page=None)

    [item] = [i for i in page.items if i.external_id == SAMPLE_ORDER]
    assert item.action == Action.CANCEL
    assert item.record.cancel_reason == "inventory"


def test_pull_products_for_the_import(connector):
    page = connector.pull("product", since=None, page=None)

    skus = [v.sku for item in page.items for v in item.record.variants]
    assert skus == ["TENT-2P-GRN", "TENT-2P-ORG", "SLBAG-20F-REG", "STOVE-TI-01"]
    assert page.next_page is None


def test_fetch_an_order_and_a_missing_one(connector):
    item = connector.fetch("order", SAMPLE_ORDER)

    assert str(item.record.totals.total) == "705.91"
    with pytest.raises(PermanentError) as caught:
        connector.fetch("order", "1")
    assert caught.value.status == 404


def test_push_inventory_sets_the_level_with_the_rest_body(connector, shop):
    result = connector.push(TENT_GREEN, CONTEXT)

    [request] = shop.requests_to("inventory_levels/set.json", "POST")
    assert request.json == {"location_id": LOCATION_ID, "inventory_item_id": 46012345678901, "available": 30}
    assert shop.available("TENT-2P-GRN") == 30
    assert result.external_id == "46012345678901"


def test_push_inventory_without_a_known_inventory_item_reads_the_variant_first(connector, shop):
    item = InventoryOut(sku="STOVE-TI-01", external_id="44012345678903", extra={}, available=3)

    connector.push(item, CONTEXT)

    assert [r.resource for r in shop.requests] == [
        "variants/44012345678903.json",
        "inventory_levels/set.json",
    ]
    assert shop.available("STOVE-TI-01") == 3


def test_push_inventory_with_graphql_compare_and_set(shop, db):
    connector = graphql_connector(shop, api_version="2026-01")
    shop.set_available("TENT-2P-GRN", 42)

    connector.push(InventoryOut(**{**TENT_GREEN.__dict__, "previous": 42}), CONTEXT)

    [request] = shop.requests_to("graphql.json")
    [quantity] = request.json["variables"]["input"]["quantities"]
    assert quantity == {
        "inventoryItemId": "gid://shopify/InventoryItem/46012345678901",
        "locationId": f"gid://shopify/Location/{LOCATION_ID}",
        "quantity": 30,
        "changeFromQuantity": 42,
    }
    assert shop.available("TENT-2P-GRN") == 30


def test_a_stale_compare_and_set_reads_the_level_and_reports_it_without_overwriting(shop, db):
    connector = graphql_connector(shop, api_version="2026-01")
    shop.set_available("TENT-2P-GRN", 39)  # a sale in Shopify since our last push of 42

    with pytest.raises(CountMoved) as moved:
        connector.push(InventoryOut(**{**TENT_GREEN.__dict__, "previous": 42}), CONTEXT)

    calls = [r.json["variables"] for r in shop.requests_to("graphql.json")]
    assert calls[0]["input"]["quantities"][0]["changeFromQuantity"] == 42
    assert "inventoryItemId" in calls[1]  # the read of the level
    assert len(calls) == 2  # and no blind second set: the hub imports the shop's orders first
    assert moved.value.current == 39
    assert shop.available("TENT-2P-GRN") == 39


def test_older_api_versions_use_compare_quantity(shop, db):
    connector = graphql_connector(shop, api_version="2025-07")

    connector.push(TENT_GREEN, CONTEXT)  # previous unknown: ignore the compare

    [request] = shop.requests_to("graphql.json")
    assert request.json["variables"]["input"]["ignoreCompareQuantity"] is True
    assert "changeFromQuantity" not in request.json["variables"]["input"]["quantities"][0]
    assert shop.available("TENT-2P-GRN") == 30


def test_graphql_throttling_is_a_throttle(shop, db):
    connector = graphql_connector(shop, api_version="2026-01")
    shop.throttle_next(1)

    with pytest.raises(Throttled):
        connector.push(TENT_GREEN, CONTEXT)


def test_graphql_user_errors_other_than_stale_are_permanent(shop, db):
    connector = graphql_connector(shop, api_version="2026-01")
    unknown = InventoryOut(sku="X", external_id="1", extra={"inventory_item_id": 999}, available=1)

    with pytest.raises(PermanentError, match="INVALID_INVENTORY_ITEM"):
        connector.push(unknown, CONTEXT)


# --- fulfilments ------------------------------------------------------------------------------------


def shipment(*lines: tuple[str, int], tracking: str = "1Z999AA10123456784") -> FulfilmentOut:
    return FulfilmentOut(
        order_external_id=SAMPLE_ORDER,
        shipment_number="SH-0001",
        lines=tuple(FulfilmentLineOut(external_line_id=line, quantity=qty) for line, qty in lines),
        carrier="UPS",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
    )


def test_a_shipment_becomes_a_fulfilment_with_tracking(connector, shop):
    result = connector.push(shipment(("13950000000001", 1), ("13950000000002", 1)), CONTEXT)

    [fo] = shop.requests_to(f"orders/{SAMPLE_ORDER}/fulfillment_orders.json")
    [post] = shop.requests_to("fulfillments.json", "POST")
    fo_state = next(iter(shop.fulfillment_orders.values()))
    line_ids = {li["line_item_id"]: li["id"] for li in fo_state["line_items"]}
    assert post.json == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {
                    "fulfillment_order_id": fo_state["id"],
                    "fulfillment_order_line_items": [
                        {"id": line_ids[13950000000001], "quantity": 1},
                        {"id": line_ids[13950000000002], "quantity": 1},
                    ],
                }
            ],
            "notify_customer": True,
            "tracking_info": {
                "number": "1Z999AA10123456784",
                "company": "UPS",
                "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            },
        }
    }
    order = shop.order(int(SAMPLE_ORDER))
    assert order["fulfillment_status"] == "partial"
    assert order["fulfillments"][0]["tracking_number"] == "1Z999AA10123456784"
    assert result.external_id == str(order["fulfillments"][0]["id"])
    assert fo_state["status"] == "in_progress"
    assert fo.status == 200


def test_a_repeated_shipment_push_creates_no_second_fulfilment(connector, shop):
    first = connector.push(shipment(("13950000000001", 1)), CONTEXT)

    again = connector.push(shipment(("13950000000001", 1)), CONTEXT)

    assert again.external_id == first.external_id
    assert again.detail == "already fulfilled"
    assert len(shop.requests_to("fulfillments.json", "POST")) == 1


def test_the_rest_of_the_order_ships_then_nothing_is_left(connector, shop):
    connector.push(shipment(("13950000000002", 1), tracking="T1"), CONTEXT)
    connector.push(
        shipment(("13950000000001", 1), ("13950000000002", 1), ("13950000000003", 1), tracking="T2"), CONTEXT
    )

    late = connector.push(shipment(("13950000000003", 1), tracking=""), CONTEXT)

    assert shop.order(int(SAMPLE_ORDER))["fulfillment_status"] == "fulfilled"
    assert "nothing left" in late.detail
    assert len(shop.requests_to("fulfillments.json", "POST")) == 2


def test_a_line_shopify_does_not_know_is_refused(connector):
    with pytest.raises(PermanentError, match="no line item 999"):
        connector.push(shipment(("999", 1)), CONTEXT)


# --- reconciliation, webhooks, errors -----------------------------------------------------------------


def test_inventory_snapshot_reads_the_levels_at_the_location(connector, shop, monkeypatch):
    monkeypatch.setattr(ShopifyConnector, "page_limit", 1)  # forces the Link pages
    shop.set_available("TENT-2P-ORG", 3)
    items = [
        TENT_GREEN,
        InventoryOut(
            sku="TENT-2P-ORG",
            external_id="44012345678911",
            extra={"inventory_item_id": 46012345678911},
            available=0,
        ),
        InventoryOut(sku="GONE", external_id="1", extra={"inventory_item_id": 2}, available=0),
    ]

    snapshot = connector.inventory_snapshot(items)

    assert snapshot == {"44012345678901": 42, "44012345678911": 3, "1": None}
    assert len(shop.requests_to("inventory_levels.json")) == 2


def test_webhooks_are_registered_once_and_listed(connector, shop):
    address = "https://erp.example/integrations/hooks/7/"

    for topic in ShopifyConnector.webhook_topics:
        connector.register_webhook(topic, address)
    connector.register_webhook("orders/create", address)  # already there: fine

    assert connector.list_webhooks() == sorted(ShopifyConnector.webhook_topics)
    assert len(shop.webhooks) == 4


def test_a_429_is_a_throttle_with_retry_after_and_the_connection_waits(connector, shop, connection):
    shop.throttle_next(1, retry_after=7.0)

    with pytest.raises(Throttled) as caught:
        connector.test()

    assert caught.value.retry_after == pytest.approx(7.0)
    connection.refresh_from_db()
    assert connection.throttled_until > timezone.now() + datetime.timedelta(seconds=6)


def test_a_full_bucket_makes_the_hub_slow_down(connector, shop, connection):
    shop.bucket_level = 38.0

    connector.test()

    connection.refresh_from_db()
    assert connection.throttled_until is not None
    assert connection.throttled_until > timezone.now() + datetime.timedelta(seconds=2)


def test_a_5xx_is_transient(connector, shop):
    shop.fail_next(1, status=503)

    with pytest.raises(TransientError):
        connector.test()


def test_a_revoked_token_needs_reauthorisation(connector, shop, connection):
    shop.revoke_token()

    with pytest.raises(AuthFailed):
        connector.test()

    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.NEEDS_REAUTH
