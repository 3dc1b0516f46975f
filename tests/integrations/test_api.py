"""The integrations API: connections CRUD with write-only secrets, validation as problem details,
actions that talk to the tool, the logs with their filters, and constant queries per list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from integrations.contract import Capability
from integrations.models import (
    Connection,
    ConnectionStatus,
    DeliveryStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundStatus,
)
from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import CLIENT_SECRET, FakeShopify
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.factories import ConnectionFactory
from tests.integrations.ui_support import (
    SECRETS,
    connection_fixture,  # noqa: F401  (a fixture)
    delivery,
    drift,
    fake_fixture,  # noqa: F401  (a fixture)
    inbound_event,
    mapped_variant,
    product_ref,
    quarantined,
    shop_fixture,  # noqa: F401  (a fixture)
    shopify_settings,
    sync_run,
)
from tests.inventory.factories import ProductFactory, warehouse
from tests.queries import assert_constant_queries
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/integrations"


class Api:
    """The integrations API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self.headers)


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def api(db) -> Api:
    return Api(api_key_for(UserFactory(username="ines", roles=["Integration admin"])))


@pytest.fixture
def read_api(db) -> Api:
    return Api(api_key_for(UserFactory(username="otto", roles=["Operations manager"])))


def assert_no_secret(response) -> None:
    text = response.content.decode()
    for value in (*SECRETS.values(), "shpat_new_token_0001"):
        assert value not in text


# --- connectors ---------------------------------------------------------------------------------


def test_the_connectors_describe_what_they_need(read_api: Api) -> None:
    response = read_api.get("/connectors")
    shopify = next(c for c in response.json() if c["key"] == "shopify")
    assert response.status_code == 200
    assert "orders_in" in shopify["capabilities"]
    assert shopify["settings_schema"]["properties"]["location_id"]["type"] == "integer"
    assert shopify["secrets"] == ["access_token", "client_id", "client_secret", "refresh_token"]
    assert shopify["reconcile_object_types"] == ["inventory", "order"]
    # the records it brings in and sends out, named by its capabilities
    assert shopify["gives"] == ["OrderRecord", "ProductRecord", "ShipmentRecord"]
    assert shopify["takes"] == ["FulfilmentOut", "InventoryOut"]
    assert read_api.get("/connectors/shopify").json()["name"] == "Shopify"
    assert read_api.get("/connectors/nope").status_code == 404


# --- connections ---------------------------------------------------------------------------------


def test_create_read_update_and_delete_a_connection_never_echoing_secrets(api: Api) -> None:
    # given
    wh = warehouse("WH1")
    channel = ChannelFactory(code="shop", warehouse=wh)
    # when: created
    created = api.post(
        "/connections",
        {
            "connector": "shopify",
            "name": "EU store",
            "settings": shopify_settings(),
            "secrets": SECRETS,
            "warehouse": wh.pk,
            "sales_channel": channel.pk,
        },
    )
    # then
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret_names"] == ["access_token", "client_secret"]
    assert body["warehouse"] == {"id": wh.pk, "code": "WH1"}
    assert body["sales_channel"]["code"] == "shop"
    assert body["settings"]["inventory_api"] == "rest"  # defaults filled in
    assert body["status"] == "active"
    assert_no_secret(created)
    pk = body["id"]
    # when: read, listed
    assert_no_secret(api.get(f"/connections/{pk}"))
    listed = api.get("/connections", connector="shopify")
    assert listed.json()["count"] == 1
    assert_no_secret(listed)
    # when: one setting and one secret changed, the warehouse unmapped
    patched = api.patch(
        f"/connections/{pk}",
        {
            "settings": {"location_id": 7},
            "secrets": {"access_token": "shpat_new_token_0001"},
            "warehouse": None,
        },
    )
    # then
    assert patched.status_code == 200, patched.json()
    assert patched.json()["settings"]["location_id"] == 7
    assert patched.json()["settings"]["shop_domain"] == shopify_settings()["shop_domain"]
    assert patched.json()["warehouse"] is None
    assert patched.json()["sales_channel"]["code"] == "shop"
    assert_no_secret(patched)
    connection = Connection.objects.get(pk=pk)
    assert connection.get_secrets() == {
        "access_token": "shpat_new_token_0001",
        "client_secret": CLIENT_SECRET,
    }
    # when: deleted
    assert api.delete(f"/connections/{pk}").status_code == 204
    assert api.get(f"/connections/{pk}").status_code == 404


def test_invalid_settings_and_secrets_are_a_422_naming_each_field(api: Api) -> None:
    response = api.post(
        "/connections",
        {
            "connector": "shopify",
            "name": "Bad",
            "settings": {"shop_domian": "x.myshopify.com", "location_id": 0},
            "secrets": {"access_token": "shpat_new_token_0001"},
        },
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    errors = field_errors(response)
    assert errors["settings.shop_domian"].startswith("Unknown setting")
    assert errors["settings.shop_domain"] == "This field is required."
    assert "greater than 0" in errors["settings.location_id"]
    assert errors["secrets.client_secret"] == "This field is required."
    assert_no_secret(response)
    assert not Connection.objects.exists()


def test_an_unknown_connector_or_reference_is_named(api: Api) -> None:
    unknown = api.post("/connections", {"connector": "nope", "name": "X"})
    assert unknown.status_code == 422
    assert "connector" in field_errors(unknown)
    bad_warehouse = api.post(
        "/connections",
        {
            "connector": "shopify",
            "name": "X",
            "settings": shopify_settings(),
            "secrets": SECRETS,
            "warehouse": 999,
        },
    )
    assert bad_warehouse.status_code == 422
    assert field_errors(bad_warehouse)["warehouse"] == "No warehouse with id 999."


def test_a_name_cannot_be_patched_to_null(api: Api, connection: Connection) -> None:
    response = api.patch(f"/connections/{connection.pk}", {"name": None})
    assert response.status_code == 422
    assert field_errors(response) == {"name": "Cannot be null."}


def test_reading_needs_integrations_read_and_writing_write(read_api: Api, connection: Connection) -> None:
    assert read_api.get("/connections").status_code == 200
    refused = read_api.post(f"/connections/{connection.pk}/pause")
    assert refused.status_code == 403
    assert "integrations:write" in refused.json()["detail"]
    outsider = Api(api_key_for(UserFactory(username="sam", roles=["Sales"])))
    assert outsider.get("/connections").status_code == 403
    assert Client().get(BASE + "/connections").status_code == 401


def test_deleting_with_work_in_flight_is_a_409_unless_forced(api: Api, connection: Connection) -> None:
    delivery(connection=connection, status=DeliveryStatus.PENDING)
    refused = api.delete(f"/connections/{connection.pk}")
    assert refused.status_code == 409
    assert refused.json()["in_flight"] == {"deliveries": 1, "inbound_events": 0}
    assert api.delete(f"/connections/{connection.pk}?force=true").status_code == 204


def test_pause_resume_and_the_counters(api: Api, connection: Connection) -> None:
    delivery(connection=connection)
    quarantined(connection, "X-1")
    paused = api.post(f"/connections/{connection.pk}/pause")
    assert paused.json()["status"] == ConnectionStatus.PAUSED
    assert (paused.json()["dead_letters"], paused.json()["quarantined"]) == (1, 1)
    assert api.post(f"/connections/{connection.pk}/resume").json()["status"] == ConnectionStatus.ACTIVE


def test_test_health_and_health_check_talk_to_the_tool(
    api: Api, connection: Connection, shop: FakeShopify
) -> None:
    tested = api.post(f"/connections/{connection.pk}/test")
    assert tested.status_code == 200
    assert tested.json()["job"] == "test"
    assert tested.json()["status"] == "succeeded"
    assert tested.json()["request_count"] == 1
    checked = api.post(f"/connections/{connection.pk}/health-check")
    assert checked.json()["created"] == 4
    health = api.get(f"/connections/{connection.pk}/health").json()
    assert health["webhooks_missing"] == []
    assert health["hook_url"].endswith(f"/integrations/hooks/{connection.pk}/")
    assert health["level"] in ("ok", "warning", "error")


def test_a_failed_test_is_a_failed_run_not_an_error(
    api: Api, connection: Connection, shop: FakeShopify
) -> None:
    shop.revoke_token()
    tested = api.post(f"/connections/{connection.pk}/test")
    assert tested.status_code == 200
    assert tested.json()["status"] == "failed"
    assert tested.json()["errors"][0]["level"] == "error"


def test_poll_and_reconcile_answer_their_runs(
    api: Api, connection: Connection, shop: FakeShopify, settings
) -> None:
    settings.INTEGRATIONS_RECONCILE_AUTO_HEAL = False
    mapped_variant(connection, shop, "TENT-2P-GRN", 10)
    shop.set_available("TENT-2P-GRN", 4)
    polled = api.post(f"/connections/{connection.pk}/poll")
    assert [r["object_type"] for r in polled.json()] == ["order"]
    reconciled = api.post(f"/connections/{connection.pk}/reconcile", {"object_type": "inventory"})
    assert reconciled.status_code == 200
    assert reconciled.json()[0]["created"] == 1
    wrong = api.post(f"/connections/{connection.pk}/reconcile", {"object_type": "invoice"})
    assert wrong.status_code == 422
    # the drift, healed through the API
    drifts = api.get("/drifts", connection=connection.pk, status="open").json()
    assert drifts["count"] == 1
    assert drifts["items"][0]["label"] == "TENT-2P-GRN"
    healed = api.post(f"/drifts/{drifts['items'][0]['id']}/heal")
    assert healed.json()["status"] == DriftStatus.HEALED
    assert shop.available("TENT-2P-GRN") == 10


def test_import_products_answers_its_run_and_is_refused_without_the_capability(
    api: Api, connection: Connection, shop: FakeShopify, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported = api.post(f"/connections/{connection.pk}/import-products")
    assert imported.status_code == 200, imported.content
    assert (imported.json()["job"], imported.json()["created"]) == ("import", len(shop.products))
    assert connection.refs.filter(object_type="variant").count() == sum(1 for _ in shop.variants())

    monkeypatch.setattr(ShopifyConnector, "capabilities", frozenset({Capability.ORDERS_IN}))
    refused = api.post(f"/connections/{connection.pk}/import-products")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Shopify does not bring products in."


def test_resolve_a_drift(api: Api, connection: Connection) -> None:
    found = drift(connection)
    resolved = api.post(f"/drifts/{found.pk}/resolve")
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_by"] == "ines"


# --- mappings ---------------------------------------------------------------------------------------


def test_sku_mappings(api: Api, connection: Connection) -> None:
    product = ProductFactory(sku="OUR-TENT")
    created = api.post(f"/connections/{connection.pk}/refs", {"sku": "THEIR-TENT", "product": product.pk})
    assert created.status_code == 201
    assert created.json()["product_sku"] == "OUR-TENT"
    assert created.json()["internal_type"] == "inventory.product"
    again = api.post(f"/connections/{connection.pk}/refs", {"sku": "THEIR-TENT", "product": product.pk})
    assert again.status_code == 422
    listed = api.get(f"/connections/{connection.pk}/refs", object_type="sku")
    assert [r["external_id"] for r in listed.json()["items"]] == ["THEIR-TENT"]
    assert api.delete(f"/connections/{connection.pk}/refs/{created.json()['id']}").status_code == 204
    assert not ExternalRef.objects.exists()


# --- the logs ---------------------------------------------------------------------------------------


def test_deliveries_filtered_and_retried(api: Api, connection: Connection) -> None:
    dead = delivery(connection=connection)
    delivery(connection=connection, status=DeliveryStatus.SUCCEEDED)
    listed = api.get("/deliveries", connection=connection.pk, status="dead").json()
    assert [d["id"] for d in listed["items"]] == [dead.pk]
    assert listed["items"][0]["event_id"] == str(dead.event.event_id)
    retried = api.post(f"/deliveries/{dead.pk}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] != "dead"
    again = api.post(f"/deliveries/{listed['items'][0]['id']}/retry")
    assert again.status_code in (200, 409)
    assert api.get("/deliveries", status="nonsense").status_code == 422


def test_inbound_events_replay_and_quarantine_mapping(
    api: Api, connection: Connection, django_capture_on_commit_callbacks
) -> None:
    failed = inbound_event(connection, status=InboundStatus.FAILED, last_error="boom")
    waiting = quarantined(connection, "STOVE-TI-01")
    listed = api.get("/inbound-events", connection=connection.pk, status="failed").json()
    assert [e["id"] for e in listed["items"]] == [failed.pk]
    assert "body" not in listed["items"][0]
    detail = api.get(f"/inbound-events/{failed.pk}").json()
    assert json.loads(detail["body"]) == {"id": int(failed.body_text()[7:-1])}
    Connection.objects.filter(pk=connection.pk).update(status="paused")  # replays wait: nothing runs here
    assert api.post(f"/inbound-events/{failed.pk}/replay").json()["status"] == "received"
    groups = api.get("/quarantine", connection=connection.pk).json()
    assert groups["items"] == [
        {
            "connection": connection.pk,
            "connection_name": connection.name,
            "kind": "sku",
            "value": "STOVE-TI-01",
            "events": 1,
            "first_received_at": groups["items"][0]["first_received_at"],
            "last_received_at": groups["items"][0]["last_received_at"],
        }
    ]
    stove = ProductFactory(sku="STOVE-TITANIUM")
    mapped = api.post(
        "/quarantine/map-sku", {"connection": connection.pk, "sku": "STOVE-TI-01", "product": stove.pk}
    )
    assert mapped.json() == {
        "connection": connection.pk,
        "sku": "STOVE-TI-01",
        "product": stove.pk,
        "product_sku": "STOVE-TITANIUM",
        "replayed": 1,
    }
    waiting.refresh_from_db()
    assert waiting.status == InboundStatus.RECEIVED


def test_sync_runs_with_their_requests(api: Api, connection: Connection) -> None:
    run = sync_run(connection, requests=2)
    listed = api.get("/sync-runs", connection=connection.pk, job="poll").json()
    assert listed["items"][0]["request_count"] == 2
    detail = api.get(f"/sync-runs/{run.pk}").json()
    assert len(detail["requests"]) == 2
    assert detail["requests"][0]["request_headers"] == {"X-Shopify-Access-Token": "[redacted]"}


@pytest.mark.parametrize(
    ("path", "grow"),
    [
        ("/connections", "connections"),
        ("/deliveries", "deliveries"),
        ("/inbound-events", "events"),
        ("/drifts", "drifts"),
        ("/sync-runs", "runs"),
        ("/quarantine", "quarantine"),
        ("/connections/{pk}/refs", "refs"),
    ],
)
def test_every_list_costs_the_same_for_more_rows(
    read_api: Api, connection: Connection, path: str, grow: str
) -> None:
    def more() -> None:
        n = Connection.objects.count()
        if grow == "connections":
            for i in range(3):
                other = ConnectionFactory(name=f"S{n + i}", settings=connection.settings)
                delivery(connection=other)
        for _ in range(3):
            if grow == "deliveries":
                delivery(connection=connection)
            elif grow == "events":
                inbound_event(connection)
            elif grow == "drifts":
                drift(connection)
            elif grow == "runs":
                sync_run(connection)
            elif grow == "quarantine":
                quarantined(connection, f"Q-{Drift.objects.count()}-{n}")
                drift(connection)
            elif grow == "refs":
                product_ref(connection, ProductFactory(), "sku", f"R-{ExternalRef.objects.count()}")

    more()  # a page with rows costs one query more than an empty one
    assert_constant_queries(lambda: read_api.get(path.format(pk=connection.pk)), more)
