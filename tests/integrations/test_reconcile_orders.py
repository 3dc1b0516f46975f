"""Reconciliation of a channel's orders, against the fake Shopify: each order the shop changed in
the window exists here once with the shop's status, total, shipments (with their tracking) and
refunds. Every drift names its kind, the run counts them, and what the hub can follow by reading
the order again (a shipment or a refund missed here, a cancellation) is healed that way.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from erp.exceptions import ValidationFailed
from integrations import polling, reconcile
from integrations.errors import HubError
from integrations.http import mounted
from integrations.models import Connection, Drift, DriftStatus, ExternalRef
from integrations.shopify.fake import FakeShopify
from sales.models import Invoice, InvoiceKind, OrderStatus, SalesOrder, Shipment
from sales.services import order_cancel
from tests.integrations.shopify.conftest import SHOP_URL
from tests.integrations.shopify.scenario import shopify_connection, stocked_store
from tests.integrations.ui_support import reader_fixture  # noqa: F401  (a fixture)
from tests.queries import assert_constant_queries

TENT, STOVE = "TENT-2P-GRN", "STOVE-TI-01"


def ticking() -> Callable[[], datetime.datetime]:
    """The shop's clock: a second later at every reading, so each change has its own updated_at
    (Shopify's are to the second; the hub tells its poll events apart by them)."""
    seconds = itertools.count()
    start = timezone.now().replace(microsecond=0)
    return lambda: start + datetime.timedelta(seconds=next(seconds))


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    fake = FakeShopify(bucket_size=1000, clock=ticking())
    with mounted(SHOP_URL, httpx.MockTransport(fake.handle)):
        yield fake


@pytest.fixture
def connection(db, shop: FakeShopify) -> Connection:
    return shopify_connection(stocked_store())


def sold(shop: FakeShopify, connection: Connection, *lines: tuple[str, int]) -> dict[str, Any]:
    """An order placed in the shop and imported here (by a poll, as a webhook would)."""
    order = shop.create_order(list(lines) or [(TENT, 1)])
    polling.poll(connection=connection, object_type="order")
    assert SalesOrder.objects.filter(external_reference=order["name"]).exists()
    return order


def ours(order: dict[str, Any]) -> SalesOrder:
    return SalesOrder.objects.get(external_reference=order["name"])


def run_orders(connection: Connection):
    return reconcile.reconcile(connection=connection, object_type="order")


def drift_of(kind: str) -> Drift:
    return Drift.objects.get(object_type="order", kind=kind)


def test_orders_as_the_shop_has_them_are_in_sync(shop, connection):
    sold(shop, connection, (TENT, 1))
    sold(shop, connection, (STOVE, 2))

    run = run_orders(connection)

    assert (run.status, run.created, run.skipped) == ("succeeded", 0, 2)
    assert run.errors == []
    assert not Drift.objects.exists()


def test_a_shipment_made_in_the_shop_and_missed_here_is_found_then_healed_by_reading_the_order(
    shop, connection
):
    order = sold(shop, connection, (TENT, 1))
    shipped = shop.fulfil_order(order["id"], tracking_number="1Z999AA1", tracking_company="UPS")

    run = run_orders(connection)

    drift = drift_of("fulfilment_missing_here")
    assert (drift.external_id, drift.label, drift.healable) == (str(order["id"]), order["name"], True)
    assert drift.tool_value == f"{shipped['id']} (1Z999AA1)"
    assert run.errors == [
        {
            "level": "info",
            "message": "1 drift: 1 fulfilment_missing_here.",
            "drifts": {"fulfilment_missing_here": 1},
        }
    ]
    assert not Shipment.objects.exists()

    reconcile.drift_heal(drift=drift)

    drift.refresh_from_db()
    assert drift.status == DriftStatus.HEALED
    shipment = Shipment.objects.get()
    assert (shipment.order, shipment.tracking_number) == (ours(order), "1Z999AA1")
    assert ours(order).status == OrderStatus.SHIPPED
    assert (run_orders(connection).created, Drift.objects.filter(status=DriftStatus.OPEN).count()) == (0, 0)


def test_a_refund_made_in_the_shop_and_missed_here_is_found_then_healed_as_a_credit_note(shop, connection):
    order = sold(shop, connection, (TENT, 1))
    shop.fulfil_order(order["id"], tracking_number="1Z999AA2", tracking_company="UPS")
    polling.poll(connection=connection, object_type="order")  # the shipment is recorded here
    line = order["line_items"][0]["id"]
    refund = shop.refund_order(order["id"], {line: 1}, restock_type="return")

    run_orders(connection)

    drift = drift_of("refund_missing_here")
    assert drift.healable
    assert drift.tool_value.startswith(f"{refund['id']} (")
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()

    reconcile.drift_heal(drift=drift)

    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.order == ours(order)
    assert ExternalRef.objects.get(connection=connection, object_type="refund").external_id == str(
        refund["id"]
    )
    assert run_orders(connection).created == 0


def test_an_order_cancelled_in_the_shop_is_cancelled_here_by_healing(shop, connection):
    order = sold(shop, connection, (TENT, 1))
    shop.cancel_order(order["id"])  # a paid order: the shop refunds it too (nothing had shipped)

    run = run_orders(connection)

    # the refund of goods that never left is expected here only while the order is not cancelled
    assert {d.kind for d in Drift.objects.all()} == {"status_mismatch", "refund_missing_here"}
    status = drift_of("status_mismatch")
    assert (status.hub_value, status.tool_value, status.healable) == ("confirmed", "cancelled", True)
    assert run.errors[0]["message"] == "2 drifts: 1 refund_missing_here, 1 status_mismatch."

    reconcile.drift_heal(drift=status)

    assert ours(order).status == OrderStatus.CANCELLED
    again = run_orders(connection)
    assert (again.created, again.updated, again.skipped) == (0, 0, 1)
    assert drift_of("refund_missing_here").status == DriftStatus.RESOLVED


def test_an_order_cancelled_here_only_is_for_a_person(shop, connection, admin_user):
    order = sold(shop, connection, (TENT, 1))
    order_cancel(order=ours(order), reason="customer called")

    run_orders(connection)

    drift = drift_of("status_mismatch")
    assert (drift.hub_value, drift.tool_value, drift.healable) == ("cancelled", "not cancelled", False)
    with pytest.raises(ValidationFailed, match="cannot be healed"):
        reconcile.drift_heal(drift=drift)
    assert reconcile.drift_resolve(drift=drift, user=admin_user).status == DriftStatus.RESOLVED


def test_a_total_that_differs_is_for_a_person(shop, connection):
    order = sold(shop, connection, (TENT, 1))
    total = ours(order).total
    shop.update_order(
        order["id"],
        total_price="1.00",
        total_price_set={"shop_money": {"amount": "1.00", "currency_code": "USD"}},
    )

    run_orders(connection)

    drift = drift_of("total_mismatch")
    assert (drift.hub_value, drift.tool_value, drift.healable) == (
        str(total.quantize(Decimal("0.01"))),
        "1.00",
        False,
    )


def test_tracking_changed_in_the_shop_is_for_a_person(shop, connection):
    order = sold(shop, connection, (TENT, 1))
    shipped = shop.fulfil_order(order["id"], tracking_number="1Z-OLD", tracking_company="UPS")
    polling.poll(connection=connection, object_type="order")
    with shop._lock:  # the carrier's number corrected in the shop's admin, no webhook
        [fulfilment] = shop.orders[order["id"]]["fulfillments"]
        fulfilment.update(tracking_number="1Z-NEW", tracking_numbers=["1Z-NEW"])

    run_orders(connection)

    drift = drift_of("tracking_mismatch")
    assert (drift.hub_value, drift.tool_value, drift.healable) == (
        f"{shipped['id']}: 1Z-OLD",
        f"{shipped['id']}: 1Z-NEW",
        False,
    )
    assert Shipment.objects.get().tracking_number == "1Z-OLD"


def test_a_heal_that_changes_nothing_leaves_the_drift_open_saying_why(shop, connection):
    order = sold(shop, connection, (TENT, 1))
    shop.fulfil_order(order["id"], tracking_number="1Z999AA3", tracking_company="UPS")
    run_orders(connection)
    drift = drift_of("fulfilment_missing_here")
    order_cancel(order=ours(order), reason="cancelled here meanwhile")  # nothing can ship here now

    with pytest.raises(HubError, match="still fulfilment_missing_here"):
        reconcile.drift_heal(drift=drift)

    drift.refresh_from_db()
    assert drift.status == DriftStatus.OPEN


def test_reconciling_orders_costs_the_same_queries_as_the_window_grows(shop, connection):
    def more_orders(count: int) -> None:
        for _ in range(count):
            order = shop.create_order([(STOVE, 1)])
            shop.fulfil_order(order["id"], tracking_number=f"1Z{order['id']}", tracking_company="UPS")
            line = order["line_items"][0]["id"]
            shop.refund_order(order["id"], {line: 1}, restock_type="no_restock", amount="0")
        polling.poll(connection=connection, object_type="order")

    more_orders(1)
    assert_constant_queries(lambda: run_orders(connection), lambda: more_orders(4))
    assert not Drift.objects.exists()


def test_the_drifts_page_counts_the_drifts_per_kind(shop, connection, reader: Client):
    first = sold(shop, connection, (TENT, 1))
    second = sold(shop, connection, (STOVE, 1))
    for order in (first, second):
        shop.fulfil_order(order["id"], tracking_number=f"1Z{order['id']}", tracking_company="UPS")
    order_cancel(order=ours(first), reason="here only")
    run_orders(connection)

    page = reader.get(reverse("integrations:connection-drifts", args=[connection.pk]))

    assert page.status_code == 200
    assert "3 drifts: 2 fulfilment_missing_here, 1 status_mismatch" in page.content.decode()
