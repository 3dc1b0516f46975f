"""Refunds made in Shopify: a credit note here, the money paid back recorded against it, and the
goods Shopify restocked back in stock, once.

Hub v2's "done when": a refund with restock ends as a credit note and the stock back; an edit
removing a line removes it and its reservation.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.money import round_money
from integrations.models import ExternalRef, InboundEvent
from integrations.shopify.fake import sample_webhook
from inventory.models import MoveKind, Reservation, ReservationStatus, StockMove
from sales.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OrderLine,
    Refund,
    ReturnStatus,
    SalesOrder,
    SalesReturn,
)
from tests.integrations.shopify.scenario import (
    deliver,
    fulfilment,
    on_hand,
    refund,
    shopify_connection,
    stocked_store,
    updated,
)

EVERYTHING = {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2, "STOVE-TI-01": 1}


@pytest.fixture
def store(db):
    return stocked_store()


@pytest.fixture
def connection(store, shop):
    return shopify_connection(store)


@pytest.fixture
def shipped(client, connection, shop, django_capture_on_commit_callbacks):
    """The sample order, created and then fulfilled in Shopify: a delivery function for what follows."""
    shipment = fulfilment(4001, EVERYTHING)

    def send(*refunds, minute: int):
        body = updated(shipment, refunds=refunds, minute=minute)
        return deliver(
            client, connection, shop.webhook("orders/updated", body), django_capture_on_commit_callbacks
        )

    send(minute=1)
    assert on_hand("SLBAG-20F-REG") == D(8)
    return send


def sleeping_bag_share(quantity: int) -> D:
    """What our credit note credits for ``quantity`` of the order's sleeping bags (2 ordered)."""
    line = OrderLine.objects.get(product__sku="SLBAG-20F-REG")
    return round_money(line.line_subtotal * quantity / line.quantity, "USD") + round_money(
        line.tax_amount * quantity / line.quantity, "USD"
    )


def test_a_refund_with_restock_ends_as_a_credit_note_a_refund_and_the_stock_back(shipped, connection):
    # when: one sleeping bag is refunded in Shopify and restocked
    shipped(refund(7001, {"SLBAG-20F-REG": 1}, restock="return", amount="179.00"), minute=2)

    # then: a received return, its credit note, the money paid back, the bag back on the shelf
    credit = sleeping_bag_share(1)
    sales_return = SalesReturn.objects.get()
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert sales_return.status == ReturnStatus.RECEIVED
    assert sales_return.credit_note == note
    assert note.total == credit
    assert list(Refund.objects.values_list("amount", "reference")) == [(min(D("179.00"), credit), "7001")]
    assert on_hand("SLBAG-20F-REG") == D(9)
    assert OrderLine.objects.get(product__sku="SLBAG-20F-REG").quantity_returned == D(1)
    assert ExternalRef.objects.get(connection=connection, object_type="refund").external_id == "7001"
    event = InboundEvent.objects.filter(topic="orders/updated").latest("pk")
    assert "1 refund(s) recorded from the tool" in event.result["items"][0]["reason"]

    # when: Shopify sends the order again (another change), the refund still on it
    shipped(refund(7001, {"SLBAG-20F-REG": 1}, restock="return", amount="179.00"), minute=3)

    # then: nothing twice
    assert (SalesReturn.objects.count(), Refund.objects.count()) == (1, 1)
    assert StockMove.objects.filter(kind=MoveKind.RETURN, product__sku="SLBAG-20F-REG").count() == 1
    assert on_hand("SLBAG-20F-REG") == D(9)


def test_a_refund_without_restock_credits_the_goods_and_moves_no_stock(shipped):
    shipped(refund(7002, {"TENT-2P-GRN": 1}, restock="no_restock", amount="0.00"), minute=2)

    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.status == InvoiceStatus.ISSUED
    assert list(note.lines.values_list("order_line__product__sku", "quantity")) == [("TENT-2P-GRN", D(1))]
    assert not SalesReturn.objects.exists()
    assert on_hand("TENT-2P-GRN") == D(9)


def test_more_paid_back_than_the_goods_are_worth_is_recorded_up_to_the_credit_and_noted(shipped):
    shipped(refund(7003, {"SLBAG-20F-REG": 1}, restock="return", amount="500.00"), minute=2)

    credit = sleeping_bag_share(1)
    assert Refund.objects.get().amount == credit
    event = InboundEvent.objects.filter(topic="orders/updated").latest("pk")
    assert f"paid back 500.00, the returned goods are credited {credit}" in event.result["items"][0]["reason"]


def test_an_edit_removing_a_line_removes_it_and_its_reservation(
    client, connection, shop, django_capture_on_commit_callbacks
):
    # given: the sample order came in, holding its stock
    capture = django_capture_on_commit_callbacks
    deliver(client, connection, sample_webhook(), capture)
    assert on_hand("STOVE-TI-01") == D(10)
    assert SalesOrder.objects.get().lines.count() == 3

    # when: the merchant removes the stove in an order edit (a refund with restock "cancel")
    edit = refund(7004, {"STOVE-TI-01": 1}, restock="cancel", amount="0.00")
    deliver(client, connection, shop.webhook("orders/updated", updated(refunds=(edit,))), capture)

    # then: the line and its reservation are gone, nothing is credited, the rest ships as before
    order = SalesOrder.objects.get()
    assert sorted(order.lines.values_list("product__sku", flat=True)) == ["SLBAG-20F-REG", "TENT-2P-GRN"]
    assert not Reservation.objects.filter(
        product__sku="STOVE-TI-01", status=ReservationStatus.ACTIVE
    ).exists()
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    event = InboundEvent.objects.filter(topic="orders/updated").latest("pk")
    assert event.result["items"][0]["reason"] == "edited as in the tool"

    # and when the rest ships in Shopify, the order is shipped with nothing left reserved
    rest = fulfilment(4001, {"TENT-2P-GRN": 1, "SLBAG-20F-REG": 2})
    deliver(
        client, connection, shop.webhook("orders/updated", updated(rest, refunds=(edit,), minute=2)), capture
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()


def test_every_line_taken_back_before_it_shipped_cancels_the_order_here(
    client, connection, shop, django_capture_on_commit_callbacks
):
    # given: the sample order came in, holding its stock
    capture = django_capture_on_commit_callbacks
    deliver(client, connection, sample_webhook(), capture)
    assert Reservation.objects.filter(status=ReservationStatus.ACTIVE).count() == 3

    # when: the merchant takes every line back before anything shipped (Shopify keeps the order,
    # open, with nothing left on it)
    everything = refund(7005, EVERYTHING, restock="cancel", amount="0.00")
    deliver(client, connection, shop.webhook("orders/updated", updated(refunds=(everything,))), capture)

    # then: nothing is left to ship, so the order is cancelled here and its stock released
    order = SalesOrder.objects.get()
    assert order.status == "cancelled"
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    event = InboundEvent.objects.filter(topic="orders/updated").latest("pk")
    assert "every line was removed in the tool: cancelled here" in event.result["items"][0]["reason"]
