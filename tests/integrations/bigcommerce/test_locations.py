"""BigCommerce stock to several locations: our warehouses WH1 and WH2 mapped to BigCommerce locations
1 and 2 on one connection, each SKU's level pushed to its location, several in one absolute
adjustment; with nothing mapped, the connection's warehouse goes to ``location_id``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from integrations import http, outbound, reconcile, registry
from integrations.bigcommerce.connector import LOCATION
from integrations.mappings import mapping_set, tool_choices
from integrations.models import Connection, Delivery, DeliveryStatus, Drift
from inventory.services import stock_receive
from tests.integrations.factories import ConnectionFactory, ExternalRefFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

STORE_HASH = "abc123"
ADJUST = f"/stores/{STORE_HASH}/v3/inventory/adjustments/absolute"


class Store:
    """Locations 1 and 2, absolute adjustments, inventory items: what the stock path uses."""

    def __init__(self) -> None:
        self.adjustments: list[list[dict[str, Any]]] = []
        self.onhand: dict[tuple[int, int], int] = {}  # (variant, location) -> on hand

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(f"/stores/{STORE_HASH}/")
        if path == "v3/inventory/locations":
            data = [
                {"id": 1, "code": "BC-1", "label": "Default location", "enabled": True},
                {"id": 2, "code": "BC-2", "label": "East warehouse", "enabled": True},
            ]
            return httpx.Response(200, json={"data": data, "meta": {}})
        if path == "v3/inventory/adjustments/absolute" and request.method == "PUT":
            items = json.loads(request.content)["items"]
            self.adjustments.append(items)
            for item in items:
                self.onhand[(item["variant_id"], item["location_id"])] = item["quantity"]
            return httpx.Response(200, json={"transaction_id": f"t-{len(self.adjustments)}"})
        if path == "v3/inventory/items":
            location = int(request.url.params["location_id:in"])
            variants = [int(v) for v in request.url.params["variant_id:in"].split(",")]
            data = [
                {
                    "identity": {"variant_id": v},
                    "locations": [
                        {"location_id": location, "total_inventory_onhand": self.onhand[(v, location)]}
                    ],
                }
                for v in variants
                if (v, location) in self.onhand
            ]
            meta = {"pagination": {"current_page": 1, "total_pages": 1}}
            return httpx.Response(200, json={"data": data, "meta": meta})
        return httpx.Response(404, json={"status": 404, "title": "Not found"})


@pytest.fixture
def store():
    tool = Store()
    with http.mounted("https://api.bigcommerce.com/", httpx.MockTransport(tool.handle)):
        yield tool


def bigcommerce(home: Any) -> Connection:
    return ConnectionFactory.create(
        connector="bigcommerce",
        name="BigCommerce store",
        settings={"store_hash": STORE_HASH},
        secrets={"access_token": "token", "webhook_secret": "secret"},
        warehouse=home,
        sales_channel=ChannelFactory(warehouse=home),
    )


def receive(product: Any, quantity: int, wh: Any) -> None:
    stock_receive(product=product, location=bin_of(wh), quantity=quantity, unit_cost="1.00")


def run_due() -> None:
    Delivery.objects.filter(status__in=outbound.OPEN).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    outbound.deliveries_enqueue_due()


def stocked(connection: Connection, django_capture_on_commit_callbacks: Any, levels: dict[Any, int]) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for (product, wh), quantity in levels.items():
            receive(product, quantity, wh)


def test_two_warehouses_go_to_locations_1_and_2_in_one_adjustment(store, django_capture_on_commit_callbacks):
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    connection = bigcommerce(wh1)
    choices = tool_choices(connection, registry.get("bigcommerce").mapping_kinds[0])
    assert choices.choices == [("1", "Default location"), ("2", "East warehouse")]
    mapping_set(connection=connection, kind=LOCATION, our_value="WH1", tool_value="1", choices=choices)
    mapping_set(connection=connection, kind=LOCATION, our_value="WH2", tool_value="2", choices=choices)
    tent, bag = ProductFactory(sku="TENT-2P-GRN"), ProductFactory(sku="SLBAG-20F-REG")
    ExternalRefFactory.create(connection=connection, external_id="77", internal=tent)
    ExternalRefFactory.create(connection=connection, external_id="81", internal=bag)

    stocked(connection, django_capture_on_commit_callbacks, {(tent, wh1): 4, (tent, wh2): 9, (bag, wh2): 3})
    run_due()

    [request] = store.adjustments  # one request for three SKU-locations
    assert sorted((i["variant_id"], i["location_id"], i["quantity"]) for i in request) == [
        (77, 1, 4),
        (77, 2, 9),
        (81, 2, 3),
    ]
    assert set(Delivery.objects.filter(connection=connection).values_list("status", flat=True)) == {
        DeliveryStatus.SUCCEEDED
    }

    # reconciliation reads each location on its own and finds what changed at location 2 only
    store.onhand[(77, 2)] = 1
    reconcile.reconcile(connection=connection, object_type="inventory", heal=False)
    [drift] = Drift.objects.filter(connection=connection)
    assert (drift.external_id, drift.hub_value, drift.tool_value) == ("77@2", "9", "1")


def test_without_a_mapping_the_warehouse_goes_to_the_default_location(
    store, django_capture_on_commit_callbacks
):
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    connection = bigcommerce(wh1)
    connection.settings = {**connection.settings, "location_id": 5}
    connection.save()
    tent, bag = ProductFactory(sku="TENT-2P-GRN"), ProductFactory(sku="SLBAG-20F-REG")
    ExternalRefFactory.create(connection=connection, external_id="77", internal=tent)
    ExternalRefFactory.create(connection=connection, external_id="81", internal=bag)

    stocked(connection, django_capture_on_commit_callbacks, {(tent, wh1): 4, (bag, wh1): 2, (bag, wh2): 7})
    run_due()

    [request] = store.adjustments  # batched too, and WH2 is not this connection's
    assert sorted((i["variant_id"], i["location_id"], i["quantity"]) for i in request) == [
        (77, 5, 4),
        (81, 5, 2),
    ]
