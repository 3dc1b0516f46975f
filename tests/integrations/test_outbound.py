"""Outbound fan-out, coalescing, and what a delivery to a connection pushes (or skips)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from erp import events
from integrations import outbound
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    ExternalRef,
    RequestLog,
    SyncJob,
    SyncRun,
    SyncRunStatus,
)
from integrations.outbound_items import PUSHED_AVAILABLE, available_for, inventory_hash
from integrations.webhooks_out import subscription_create
from inventory.models import Product
from inventory.services import stock_receive
from sales.services import order_confirm, shipment_create, shipment_tracking_set
from tests.erp.factories import UserFactory
from tests.integrations.factories import ExternalRefFactory
from tests.integrations.outbound_support import (  # noqa: F401  (fixtures)
    fake_fixture,
    make_connection,
    map_variant,
    tiny_fixture,
)
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


def receive(product: Product, quantity: int, wh) -> None:
    stock_receive(product=product, location=bin_of(wh), quantity=quantity, unit_cost="1.00")


def level_changed(product: Product, wh) -> None:
    """Announce a level change without changing stock, and dispatch it (attempts queue after commit)."""
    with transaction.atomic():
        event = events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={"product_id": product.pk, "sku": product.sku, "warehouse_id": wh.pk},
        )
    events.dispatch_event(event.pk)


def make_due() -> None:
    Delivery.objects.filter(status__in=outbound.OPEN).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- fan-out -------------------------------------------------------------------------------------


def test_fan_out_makes_one_delivery_per_connection_and_matching_subscription(
    tiny, django_capture_on_commit_callbacks, settings
):
    # given
    settings.INTEGRATIONS_COALESCE_SECONDS = 2
    wh, elsewhere = warehouse("WH1"), warehouse("WH2")
    a = make_connection("A", warehouse=wh)
    b = make_connection("B", sales_channel=ChannelFactory(warehouse=wh))
    make_connection("Paused", warehouse=wh, status=ConnectionStatus.PAUSED)
    make_connection("Other warehouse", warehouse=elsewhere)
    Connection.objects.create(connector="no-such-connector", name="Unknown")
    admin = UserFactory(roles=["Integration admin"])
    stock_hook, _ = subscription_create(user=admin, url="https://hooks.example.com/a", topics=["inventory.*"])
    subscription_create(user=admin, url="https://hooks.example.com/b", topics=["sales.*"])
    product = ProductFactory()
    with transaction.atomic():
        event = events.emit(
            "inventory.level_changed",
            aggregate=product,
            payload={"product_id": product.pk, "warehouse_id": wh.pk},
        )

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        assert events.dispatch_event(event.pk)

    # then
    deliveries = Delivery.objects.filter(event=event)
    assert {d.connection_id for d in deliveries if d.connection_id} == {a.pk, b.pk}
    assert [d.subscription_id for d in deliveries if d.subscription_id] == [stock_hook.pk]
    to_a = deliveries.get(connection=a)
    assert to_a.coalesce_key == f"inventory.product:{product.pk}"
    assert to_a.next_attempt_at >= event.created_at + timedelta(seconds=2)
    assert deliveries.get(subscription=stock_hook).coalesce_key == ""
    assert len(callbacks) == 1  # their attempts are queued after commit

    # and a second fan-out of the same event creates nothing more
    outbound.fan_out(event)
    assert Delivery.objects.filter(event=event).count() == 3


def test_subscriptions_receive_only_the_areas_their_owner_may_read(tiny):
    seller = UserFactory(roles=["Sales"])  # reads inventory and sales, not procurement
    hook, _ = subscription_create(user=seller, url="https://hooks.example.com/all", topics=["*"])
    with transaction.atomic():
        sold = events.emit("sales.order_created", aggregate=("sales.salesorder", 1))
        bought = events.emit("procurement.po_created", aggregate=("procurement.purchaseorder", 1))
    outbound.fan_out(sold)
    outbound.fan_out(bought)
    assert list(Delivery.objects.filter(subscription=hook).values_list("topic", flat=True)) == [
        "sales.order_created"
    ]


def test_a_connection_gets_only_the_topics_its_connector_subscribes(tiny):
    connection = make_connection()
    with transaction.atomic():
        event = events.emit("sales.order_created", aggregate=("sales.salesorder", 1))
    outbound.fan_out(event)
    assert not Delivery.objects.filter(connection=connection).exists()


# --- coalescing ----------------------------------------------------------------------------------


def test_ten_level_changes_of_one_sku_become_one_push_of_the_latest_quantity(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    # given
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    ref = map_variant(connection, product, "v-1", inventory_item_id=77)

    # when: ten receipts in one transaction
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(10):
            receive(product, 1, wh)

    # then: one push, of 10
    assert fake.pushes == [{"variant": "v-1", "available": 10, "previous": None, "inventory_item_id": 77}]
    statuses = Counter(Delivery.objects.filter(connection=connection).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.SUCCEEDED: 1, DeliveryStatus.SUPERSEDED: 9}
    ref.refresh_from_db()
    assert ref.pushed_hash == inventory_hash(10)
    assert ref.extra == {"inventory_item_id": 77, PUSHED_AVAILABLE: 10}
    run = SyncRun.objects.get(connection=connection)
    assert (run.job, run.status, run.updated, run.object_type) == (
        SyncJob.PUSH,
        SyncRunStatus.SUCCEEDED,
        1,
        "inventory",
    )
    pushed = Delivery.objects.get(status=DeliveryStatus.SUCCEEDED)
    assert RequestLog.objects.get(delivery=pushed).sync_run == run
    assert pushed.last_status_code == 200
    connection.refresh_from_db()
    assert connection.last_success_at is not None


def test_changes_within_the_window_wait_and_go_out_as_one_push(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    # given: the default 2 s window and ten separate committed changes
    settings.INTEGRATIONS_COALESCE_SECONDS = 2
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(10):
            with transaction.atomic():
                receive(product, 2, wh)
    assert fake.pushes == []  # nothing is due yet
    assert not outbound.deliveries_due().exists()

    # when: the window has passed and the periodic task runs
    make_due()
    assert outbound.deliveries_enqueue_due() == 10

    # then
    assert [p["available"] for p in fake.pushes] == [20]
    assert Delivery.objects.filter(connection=connection, status=DeliveryStatus.SUPERSEDED).count() == 9


def test_a_push_in_flight_makes_later_changes_of_the_sku_wait(tiny, fake, settings):
    settings.INTEGRATIONS_COALESCE_SECONDS = 60
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    level_changed(product, wh)
    level_changed(product, wh)
    first, second = Delivery.objects.filter(connection=connection).order_by("pk")
    first_claim = timezone.now() + timedelta(minutes=5)
    Delivery.objects.filter(pk=first.pk).update(claimed_until=first_claim)  # another worker is pushing it
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())

    assert outbound.delivery_attempt(second.pk) is None

    second.refresh_from_db()
    assert second.status == DeliveryStatus.PENDING
    assert second.next_attempt_at > timezone.now()
    assert fake.pushes == []


# --- what is pushed, or skipped ------------------------------------------------------------------


def test_an_unmapped_sku_is_skipped_with_a_reason(tiny, fake, settings, django_capture_on_commit_callbacks):
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory(sku="NOT-THERE")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(product, 3, wh)
    delivery = Delivery.objects.get(connection=connection)
    assert delivery.status == DeliveryStatus.SKIPPED
    assert "NOT-THERE is not mapped" in delivery.last_error
    assert fake.requests == []


def test_an_unchanged_quantity_is_skipped_and_a_replay_pushes_anyway(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    from integrations.webhooks_out import delivery_replay

    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        receive(product, 4, wh)
    with django_capture_on_commit_callbacks(execute=True):
        level_changed(product, wh)  # announced again, same quantity
    first, again = Delivery.objects.filter(connection=connection).order_by("pk")
    assert first.status == DeliveryStatus.SUCCEEDED
    assert again.status == DeliveryStatus.SKIPPED
    assert again.last_error.startswith("No change")
    assert len(fake.pushes) == 1

    with django_capture_on_commit_callbacks(execute=True):
        replay = delivery_replay(delivery=again)

    replay.refresh_from_db()
    assert replay.status == DeliveryStatus.SUCCEEDED
    assert [p["available"] for p in fake.pushes] == [4, 4]
    assert fake.pushes[1]["previous"] == 4  # what we last pushed, for compare-and-set


def test_available_is_read_at_the_connections_warehouse(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh, other = warehouse("WH1"), warehouse("WH2")
    connection = make_connection(sales_channel=ChannelFactory(warehouse=wh))
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            receive(product, 50, other)  # not this connection's stock: no delivery
        with transaction.atomic():
            receive(product, 3, wh)
    assert [p["available"] for p in fake.pushes] == [3]
    assert available_for(connection, product.pk) == 3


def test_a_shipment_pushes_a_fulfilment_with_the_tools_line_ids_and_tracking(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    # given: an order that came from the tool (its ids mapped by the inbound side)
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    channel = ChannelFactory()
    connection = make_connection(sales_channel=channel)
    shirt, mug = stocked_product(5), stocked_product(5)
    order = order_for((shirt, 2), (mug, 1), channel=channel)
    order_confirm(order=order)
    ExternalRefFactory(connection=connection, object_type="order", external_id="450789469", internal=order)
    for i, line in enumerate(order.lines.order_by("pk")):
        ExternalRefFactory(
            connection=connection, object_type="order_line", external_id=f"1071823{i}", internal=line
        )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z999")

    # then
    assert fake.fulfilments == [
        {
            "order": "450789469",
            "lines": [["10718230", 2], ["10718231", 1]],
            "carrier": "UPS",
            "tracking_number": "1Z999",
        }
    ]
    delivery = Delivery.objects.get(connection=connection, topic="sales.shipment_shipped")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.last_status_code == 201
    fulfilment = ExternalRef.objects.get(connection=connection, object_type="fulfilment")
    assert (fulfilment.external_id, fulfilment.object_id) == ("9001", shipment.pk)

    # and the same shipment announced again is not fulfilled twice
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.emit("sales.shipment_shipped", aggregate=order, payload={"shipment_id": shipment.pk})
    assert len(fake.fulfilments) == 1
    assert "pushed already" in Delivery.objects.filter(topic="sales.shipment_shipped").first().last_error


def test_new_tracking_updates_the_fulfilment_the_channel_has_and_one_it_never_got_is_sent_whole(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    # given: a shipment of an order from the tool, fulfilled there
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    channel = ChannelFactory()
    connection = make_connection(sales_channel=channel)
    order = order_for((stocked_product(5), 2), channel=channel)
    order_confirm(order=order)
    ExternalRefFactory(connection=connection, object_type="order", external_id="450789469", internal=order)
    ExternalRefFactory(
        connection=connection, object_type="order_line", external_id="10718230", internal=order.lines.get()
    )
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="USPS", tracking_number="9400OLD")

    # when: its label is replaced
    with django_capture_on_commit_callbacks(execute=True):
        shipment_tracking_set(shipment=shipment, carrier="UPS", tracking_number="1ZNEW")

    # then: the tool's one fulfilment travels under the new number
    assert fake.fulfilments == [
        {"order": "450789469", "lines": [["10718230", 2]], "carrier": "UPS", "tracking_number": "1ZNEW"}
    ]
    delivery = Delivery.objects.get(connection=connection, topic="sales.shipment_updated")
    assert delivery.status == DeliveryStatus.SUCCEEDED

    # and a channel whose fulfilment was never made (its push dead) gets the shipment whole
    ExternalRef.objects.filter(connection=connection, object_type="fulfilment").delete()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_tracking_set(shipment=shipment, carrier="UPS", tracking_number="1ZNEWER")
    assert len(fake.fulfilments) == 2
    assert fake.fulfilments[1]["tracking_number"] == "1ZNEWER"


def test_a_shipment_of_an_order_from_elsewhere_is_skipped(
    tiny, fake, settings, django_capture_on_commit_callbacks
):
    channel = ChannelFactory()
    connection = make_connection(sales_channel=channel)
    order = order_for((stocked_product(3), 1), channel=channel)
    order_confirm(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order)
    delivery = Delivery.objects.get(connection=connection, topic="sales.shipment_shipped")
    assert delivery.status == DeliveryStatus.SKIPPED
    assert "did not come from" in delivery.last_error
    assert fake.fulfilments == []


def test_a_paused_connections_deliveries_wait_until_it_resumes(tiny, fake, settings):
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    level_changed(product, wh)
    delivery = Delivery.objects.get(connection=connection)
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.PAUSED)

    assert outbound.delivery_attempt(delivery.pk) is None
    assert not outbound.deliveries_due().exists()

    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
    assert list(outbound.deliveries_due()) == [delivery]
    assert outbound.delivery_attempt(delivery.pk).status == DeliveryStatus.SUCCEEDED


def test_a_second_worker_arriving_during_a_push_does_not_push_again(tiny, fake, settings):
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    map_variant(connection, product, "v-1")
    level_changed(product, wh)
    delivery = Delivery.objects.get(connection=connection)
    second_worker: list[object] = []

    def while_pushing(request: httpx.Request) -> httpx.Response:
        second_worker.append(outbound.delivery_attempt(delivery.pk))
        return httpx.Response(200, json={})

    fake.then(while_pushing)

    assert outbound.delivery_attempt(delivery.pk).status == DeliveryStatus.SUCCEEDED
    assert second_worker == [None]
    assert len(fake.requests) == 1


def test_a_landed_push_stays_succeeded_when_its_result_cannot_be_recorded(tiny, fake, settings):
    # given: the mapping is removed while the push is on the wire
    settings.INTEGRATIONS_COALESCE_SECONDS = 0
    wh = warehouse("WH1")
    connection = make_connection(warehouse=wh)
    product = ProductFactory()
    ref = map_variant(connection, product, "v-1")
    level_changed(product, wh)
    delivery = Delivery.objects.get(connection=connection)

    def unmapped_meanwhile(request: httpx.Request) -> httpx.Response:
        ExternalRef.objects.filter(pk=ref.pk).delete()
        return httpx.Response(200, json={})

    fake.then(unmapped_meanwhile)

    # when
    landed = outbound.delivery_attempt(delivery.pk)

    # then: not left claimed to be pushed again when the claim expires
    assert landed.status == DeliveryStatus.SUCCEEDED
    assert landed.claimed_until is None
