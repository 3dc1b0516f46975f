"""The tabs of a connection: sync log, inbound events with replay, deliveries with retry, the
quarantine with its product picker, reconciliation with heal and resolve, mappings; each list at a
constant number of queries."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from integrations.contract import WebhookRequest
from integrations.inbound import webhook_receive
from integrations.models import (
    Connection,
    DeliveryStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundStatus,
    SyncJob,
)
from integrations.reconcile import reconcile
from integrations.shopify.fake import FakeShopify, sample_webhook
from inventory.models import Product
from sales.models import SalesOrder
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    delivery,
    drift,
    fake_fixture,  # noqa: F401  (a fixture)
    htmx,
    inbound_event,
    mapped_variant,
    product_ref,
    quarantined,
    reader_fixture,  # noqa: F401  (a fixture)
    shop_fixture,  # noqa: F401  (a fixture)
    sync_run,
)
from tests.inventory.factories import ProductFactory, warehouse
from tests.queries import assert_constant_queries
from tests.sales.factories import stocked_product

pytestmark = pytest.mark.django_db


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


# --- sync log -------------------------------------------------------------------------------------


def test_the_sync_log_lists_runs_with_their_requests(reader: Client, connection: Connection) -> None:
    # given
    run = sync_run(connection, requests=3)
    sync_run(connection, job=SyncJob.RECONCILE)
    url = reverse("integrations:connection-sync", args=[connection.pk])
    # when: filtered by job, as htmx asks for the rows
    rows = reader.get(url + "?job=poll", **htmx("rows")).content.decode()
    # then
    assert "<html" not in rows
    assert rows.count(reverse("integrations:sync-run", args=[run.pk])) == 1
    assert "Reconcile" not in rows
    detail = reader.get(reverse("integrations:sync-run", args=[run.pk])).content.decode()
    assert detail.count('<td class="mono">GET</td>') == 3
    assert "[redacted]" in detail


def test_the_sync_log_costs_the_same_for_many_runs(reader: Client, connection: Connection) -> None:
    url = reverse("integrations:connection-sync", args=[connection.pk])
    sync_run(connection)  # an empty page costs one query less than a full one
    assert_constant_queries(
        lambda: reader.get(url), lambda: [sync_run(connection, requests=2) for _ in range(6)]
    )


# --- inbound events -----------------------------------------------------------------------------


def test_events_have_status_tabs_with_counts(reader: Client, connection: Connection) -> None:
    # given
    inbound_event(connection)
    inbound_event(connection, status=InboundStatus.FAILED, last_error="Totals differ")
    quarantined(connection, "STOVE-TI-01")
    url = reverse("integrations:connection-events", args=[connection.pk])
    # when
    content = reader.get(url + "?status=failed").content.decode()
    # then
    assert "Totals differ" in content
    assert "STOVE-TI-01" not in content
    assert 'Failed (retrying) <span class="count">1</span>' in content
    assert 'All <span class="count">3</span>' in content


def test_replaying_an_event_answers_its_row_and_a_toast(admin: Client, connection: Connection) -> None:
    # given: a failed event on a paused connection (so it waits, received, after the replay)
    event = inbound_event(connection, status=InboundStatus.FAILED, last_error="boom")
    Connection.objects.filter(pk=connection.pk).update(status="paused")
    # when
    response = admin.post(reverse("integrations:event-replay", args=[event.pk]), **htmx())
    # then
    content = response.content.decode()
    assert content.strip().startswith(f'<tr id="event-{event.pk}"')
    assert "Received" in content
    assert toast_of(response)["level"] == "success"
    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error) == (InboundStatus.RECEIVED, 0, "")


def test_the_event_page_shows_the_raw_body_and_headers(reader: Client, connection: Connection) -> None:
    event = inbound_event(connection)
    content = reader.get(reverse("integrations:event", args=[event.pk])).content.decode()
    assert f"&quot;id&quot;: {event.body_text()[7:-1]}" in content
    assert "X-Shopify-Topic: orders/create" in content


def test_the_events_list_costs_the_same_for_many_events(reader: Client, connection: Connection) -> None:
    url = reverse("integrations:connection-events", args=[connection.pk])
    inbound_event(connection)

    def grow() -> None:
        for i in range(8):
            inbound_event(connection, status=InboundStatus.FAILED if i % 2 else InboundStatus.PROCESSED)
            quarantined(connection, f"SKU-{i}")

    assert_constant_queries(lambda: reader.get(url), grow)


# --- deliveries -----------------------------------------------------------------------------------


def test_dead_letters_are_obvious_and_can_be_retried(admin: Client, connection: Connection) -> None:
    # given
    dead = delivery(connection=connection)
    done = delivery(connection=connection, status=DeliveryStatus.SUCCEEDED)
    url = reverse("integrations:connection-deliveries", args=[connection.pk])
    # when
    content = admin.get(url + "?status=dead").content.decode()
    # then
    assert f'<tr id="delivery-{dead.pk}" class="dead">' in content
    assert f'id="delivery-{done.pk}"' not in content
    assert "Shop answered 503." in content
    assert reverse("integrations:delivery-retry", args=[dead.pk]) in content
    # when: retried from the list
    response = admin.post(reverse("integrations:delivery-retry", args=[dead.pk]), **htmx())
    # then: the row comes back, no longer dead
    dead.refresh_from_db()
    assert dead.status in (DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, "skipped")
    assert dead.status != DeliveryStatus.DEAD
    assert f'<tr id="delivery-{dead.pk}"' in response.content.decode()
    assert toast_of(response)["message"]


def test_a_succeeded_delivery_cannot_be_retried(admin: Client, connection: Connection) -> None:
    done = delivery(connection=connection, status=DeliveryStatus.SUCCEEDED)
    response = admin.post(reverse("integrations:delivery-retry", args=[done.pk]), **htmx())
    assert toast_of(response)["level"] == "error"
    done.refresh_from_db()
    assert done.status == DeliveryStatus.SUCCEEDED


def test_the_delivery_page_shows_the_event_and_its_requests(reader: Client, connection: Connection) -> None:
    dead = delivery(connection=connection)
    content = reader.get(reverse("integrations:delivery", args=[dead.pk])).content.decode()
    assert str(dead.event.event_id) in content
    assert "Shop answered 503." in content


def test_the_deliveries_list_costs_the_same_for_many(reader: Client, connection: Connection) -> None:
    url = reverse("integrations:connection-deliveries", args=[connection.pk])
    delivery(connection=connection, status=DeliveryStatus.PENDING)

    def grow() -> None:
        for status in (DeliveryStatus.DEAD, DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED) * 3:
            delivery(connection=connection, status=status)

    assert_constant_queries(lambda: reader.get(url), grow)
    assert_constant_queries(lambda: reader.get(url + "?status=open", **htmx("rows")), grow)


# --- quarantine ----------------------------------------------------------------------------------


def test_mapping_a_quarantined_sku_replays_the_waiting_order(
    admin: Client, connection: Connection, shop: FakeShopify, django_capture_on_commit_callbacks
) -> None:
    # given: the sample order; the tent and the bag are known here, the stove is not
    wh = warehouse("WH1")
    stocked_product(10, sku="TENT-2P-GRN", wh=wh, price="249.00")
    stocked_product(10, sku="SLBAG-20F-REG", wh=wh, price="179.00")
    stove = stocked_product(10, sku="STOVE-TITANIUM", wh=wh, price="59.00")
    headers, body = sample_webhook()
    with django_capture_on_commit_callbacks(execute=True):
        [(event, _)] = webhook_receive(connection=connection, request=WebhookRequest.of(headers, body))
    event.refresh_from_db()
    assert event.status == InboundStatus.QUARANTINED
    page = admin.get(reverse("integrations:connection-quarantine", args=[connection.pk])).content.decode()
    assert "STOVE-TI-01" in page
    # when: the picker finds the stove, and it is mapped
    options = admin.get(
        reverse("integrations:product-options", args=[connection.pk]) + "?q=stove"
    ).content.decode()
    assert f'value="{stove.pk}"' in options
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("integrations:quarantine-map", args=[connection.pk]),
            {"sku": "STOVE-TI-01", "product": stove.pk, "q": "stove"},
        )
    # then: the event is processed and the order exists
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.last_error
    assert SalesOrder.objects.filter(channel=connection.sales_channel).count() == 1
    assert ExternalRef.objects.filter(
        connection=connection, object_type="sku", external_id="STOVE-TI-01"
    ).exists()
    page = admin.get(reverse("integrations:connection-quarantine", args=[connection.pk])).content.decode()
    assert "Nothing is quarantined" in page
    order = SalesOrder.objects.get()
    events = admin.get(reverse("integrations:connection-events", args=[connection.pk])).content.decode()
    assert f'<a href="{reverse("sales:order", args=[order.pk])}">{order.number} created</a>' in events


def test_mapping_without_a_product_maps_nothing(admin: Client, connection: Connection) -> None:
    quarantined(connection, "STOVE-TI-01")
    response = admin.post(
        reverse("integrations:quarantine-map", args=[connection.pk]), {"sku": "STOVE-TI-01"}
    )
    assert response.status_code == 302
    assert not ExternalRef.objects.filter(connection=connection, object_type="sku").exists()


def test_the_picker_finds_products_by_sku_or_name(reader: Client, connection: Connection) -> None:
    ProductFactory(sku="CAMP-STOVE", name="Camping stove")
    ProductFactory(sku="MUG-1", name="Enamel mug")
    url = reverse("integrations:product-options", args=[connection.pk])
    assert "CAMP-STOVE" in reader.get(url + "?q=camp").content.decode()
    assert "CAMP-STOVE" in reader.get(url + "?q=stove").content.decode()
    assert "No active product matches" in reader.get(url + "?q=zzz").content.decode()


def test_the_quarantine_costs_the_same_for_many_waiting_events(
    reader: Client, connection: Connection
) -> None:
    url = reverse("integrations:connection-quarantine", args=[connection.pk])
    quarantined(connection, "S-0")
    assert_constant_queries(
        lambda: reader.get(url), lambda: [quarantined(connection, f"S-{i % 3}") for i in range(9)]
    )


# --- reconciliation -------------------------------------------------------------------------------


def test_open_drifts_by_default_and_heal_from_the_list(
    admin: Client, connection: Connection, shop: FakeShopify, settings
) -> None:
    # given: a stock drift found without healing it
    settings.INTEGRATIONS_RECONCILE_AUTO_HEAL = False
    mapped_variant(connection, shop, "TENT-2P-GRN", 10)
    shop.set_available("TENT-2P-GRN", 3)
    reconcile(connection=connection, object_type="inventory")
    found = Drift.objects.get(connection=connection, status=DriftStatus.OPEN)
    url = reverse("integrations:connection-drifts", args=[connection.pk])
    content = admin.get(url).content.decode()
    assert f'id="drift-{found.pk}"' in content
    assert reverse("integrations:drift-heal", args=[found.pk]) in content
    # when
    response = admin.post(reverse("integrations:drift-heal", args=[found.pk]), **htmx())
    # then
    found.refresh_from_db()
    assert found.status == DriftStatus.HEALED
    assert shop.available("TENT-2P-GRN") == 10
    assert "Healed" in response.content.decode()
    assert toast_of(response)["level"] == "success"


def test_the_all_tab_shows_every_drift(reader: Client, connection: Connection) -> None:
    # given: one open, one resolved
    drift(connection, label="OPEN-ONE")
    closed = drift(connection, label="CLOSED-ONE")
    Drift.objects.filter(pk=closed.pk).update(status=DriftStatus.RESOLVED)
    url = reverse("integrations:connection-drifts", args=[connection.pk])
    # then: open by default, everything under All
    default = reader.get(url).content.decode()
    assert "OPEN-ONE" in default
    assert "CLOSED-ONE" not in default
    everything = reader.get(url + "?status=all").content.decode()
    assert "OPEN-ONE" in everything
    assert "CLOSED-ONE" in everything
    assert 'aria-current="page">All <span class="count">2</span>' in everything


def test_resolving_a_drift_by_hand(admin: Client, connection: Connection) -> None:
    found = drift(connection, label="#1042")
    response = admin.post(reverse("integrations:drift-resolve", args=[found.pk]), {"next": "/integrations/"})
    assert response["Location"] == "/integrations/"
    found.refresh_from_db()
    assert found.status == DriftStatus.RESOLVED
    assert found.resolved_by is not None


def test_the_drifts_list_costs_the_same_for_many(reader: Client, connection: Connection) -> None:
    url = reverse("integrations:connection-drifts", args=[connection.pk])
    drift(connection)
    assert_constant_queries(lambda: reader.get(url), lambda: [drift(connection) for _ in range(8)])


# --- mappings ------------------------------------------------------------------------------------


def test_sku_mappings_are_added_and_removed(admin: Client, connection: Connection) -> None:
    # given
    product = ProductFactory(sku="OUR-TENT")
    url = reverse("integrations:connection-mappings", args=[connection.pk])
    # when
    admin.post(
        reverse("integrations:sku-mapping-add", args=[connection.pk]),
        {"sku": "THEIR-TENT", "product": product.pk},
    )
    # then
    ref = ExternalRef.objects.get(connection=connection, object_type="sku", external_id="THEIR-TENT")
    assert ref.object_id == product.pk
    content = admin.get(url + "?object_type=sku").content.decode()
    assert "THEIR-TENT" in content
    assert "OUR-TENT" in content
    # when: the same SKU again
    response = admin.post(
        reverse("integrations:sku-mapping-add", args=[connection.pk]),
        {"sku": "THEIR-TENT", "product": product.pk},
    )
    assert response.status_code == 302
    assert ExternalRef.objects.filter(connection=connection, object_type="sku").count() == 1
    # when: removed
    admin.post(reverse("integrations:sku-mapping-delete", args=[ref.pk]))
    assert not ExternalRef.objects.filter(pk=ref.pk).exists()


def test_only_sku_mappings_can_be_removed(admin: Client, connection: Connection) -> None:
    ref = product_ref(connection, ProductFactory(), "variant", "123")
    admin.post(reverse("integrations:sku-mapping-delete", args=[ref.pk]))
    assert ExternalRef.objects.filter(pk=ref.pk).exists()


def test_the_warehouse_and_channel_mapping_is_saved(admin: Client, connection: Connection) -> None:
    other = warehouse("WH2")
    response = admin.post(
        reverse("integrations:connection-mappings", args=[connection.pk]),
        {"warehouse": other.pk, "sales_channel": ""},
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.warehouse, connection.sales_channel) == (other, None)


def test_the_mappings_cost_the_same_for_many_refs(reader: Client, connection: Connection) -> None:
    url = reverse("integrations:connection-mappings", args=[connection.pk])
    product_ref(connection, ProductFactory(), "sku", "THEIRS")

    def grow() -> None:
        start = Product.objects.count()
        for i in range(start, start + 6):
            product = ProductFactory()
            product_ref(connection, product, "sku", f"THEIRS-{i}")
            product_ref(connection, product, "variant", f"{9000 + i}")

    assert_constant_queries(lambda: reader.get(url), grow)
