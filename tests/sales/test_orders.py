"""Order to cash through the services: lifecycle, reservations, backorders, shipments, invoices, returns."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import transaction

from erp.exceptions import InvalidTransition, ValidationFailed
from erp.models import OutboxEvent
from inventory import availability
from inventory.models import LocationKind, Reservation, StockLevel
from inventory.services import stock_receive, virtual_location
from sales import lifecycle
from sales.models import InvoiceStatus, OrderStatus
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    ReturnLineSpec,
    ShipLine,
    invoice_create,
    invoice_issue,
    invoice_void,
    order_cancel,
    order_close,
    order_confirm,
    order_create,
    order_hold,
    order_release,
    order_update,
    payment_record,
    refund_record,
    return_create,
    return_receive,
    shipment_create,
)
from tests.inventory.factories import bin_of, warehouse
from tests.sales.factories import VAT, ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db
S = OrderStatus


def reserved(order) -> dict[int, D]:
    return reserved_by_line([ln.pk for ln in order.lines.all()])


# --- lifecycle ------------------------------------------------------------------

LEGAL = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table_is_explicit_and_illegal_moves_name_both_states(current, target):
    if (current, target) in LEGAL:
        lifecycle.check(current, target)
    else:
        with pytest.raises(InvalidTransition) as refusal:
            lifecycle.check(current, target)
        assert f"'{current}'" in str(refusal.value)
        assert f"'{target}'" in str(refusal.value)


def test_draft_confirm_ship_close_with_events():
    product = stocked_product(10)
    order = order_for((product, 3))
    assert order.status == S.DRAFT
    assert order.number.startswith("SO-")

    order = order_confirm(order=order)
    assert order.status == S.CONFIRMED
    assert sum(reserved(order).values()) == 3

    shipment_create(order=order, carrier="UPS", tracking_number="1Z999")
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    order = order_close(order=order)
    assert order.status == S.CLOSED
    topics = list(
        OutboxEvent.objects.filter(aggregate_type="sales.salesorder", aggregate_id=str(order.pk))
        .order_by("sequence")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "sales.order_created",
        "sales.order_confirmed",
        "sales.shipment_shipped",
        "sales.order_closed",
    ]


def test_illegal_actions_change_nothing():
    order = order_for((stocked_product(5), 1))
    with pytest.raises(InvalidTransition, match="'draft' to 'closed'"):
        order_close(order=order)
    with pytest.raises(InvalidTransition, match="'draft' to 'shipped'"):
        shipment_create(order=order)
    order_cancel(order=order)
    with pytest.raises(InvalidTransition, match="'cancelled' to 'confirmed'"):
        order_confirm(order=order)
    order.refresh_from_db()
    assert order.status == S.CANCELLED


def test_hold_and_release_return_to_the_state_it_was_in():
    order = order_confirm(order=order_for((stocked_product(5), 2)))
    order = order_hold(order=order, reason="fraud check")
    assert (order.status, order.held_from) == (S.ON_HOLD, S.CONFIRMED)
    with pytest.raises(InvalidTransition, match="'on_hold' to 'shipped'"):
        shipment_create(order=order)
    with pytest.raises(InvalidTransition, match="'on_hold' to 'confirmed'"):
        order_confirm(order=order)
    order = order_release(order=order)
    assert order.status == S.CONFIRMED
    with pytest.raises(InvalidTransition, match=r"'confirmed' to 'released'"):
        order_release(order=order)


# --- stock ------------------------------------------------------------------------


def test_confirm_reserves_what_is_there_and_backorders_the_rest():
    product = stocked_product(4)
    order = order_confirm(order=order_for((product, 10)))

    assert sum(reserved(order).values()) == 4
    event = OutboxEvent.objects.get(topic="sales.order_confirmed")
    assert event.payload["lines"][0]["backordered"] == "6.0000"
    flows = availability.of(product.pk, order.channel.warehouse_id)
    assert (flows.on_hand, flows.reserved, flows.outgoing, flows.projected) == (4, 4, 6, -6)


def test_partial_shipments_then_the_rest(django_capture_on_commit_callbacks):
    product = stocked_product(10)
    order = order_confirm(order=order_for((product, 6)))
    line = order.lines.get()

    shipment_create(order=order, lines=[ShipLine(line, 2)])
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, line.quantity_shipped) == (S.PARTIALLY_SHIPPED, 2)
    assert reserved(order) == {line.pk: 4}
    with pytest.raises(ValidationFailed, match=r"only 4 is (open|reserved)"):
        shipment_create(order=order, lines=[ShipLine(line, 5)])

    shipment_create(order=order)
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert (
        StockLevel.objects.get(product=product, location=virtual_location(LocationKind.CUSTOMER)).on_hand == 6
    )


def test_backorders_are_allocated_oldest_order_first_when_stock_arrives(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    product = stocked_product(0)
    now = timezone.now()
    newer = order_confirm(order=order_for((product, 3), order_date=now))
    older = order_confirm(order=order_for((product, 3), order_date=now - timedelta(days=2)))
    oldest_partial = order_confirm(order=order_for((product, 2), order_date=now - timedelta(days=5)))

    # when 4 units arrive, and the outbox dispatch and allocation run after commit
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        stock_receive(product=product, location=bin_of(warehouse("WH1")), quantity=4, unit_cost=1)

    # then the oldest order gets its 2, the next one 2 of 3, the newest nothing
    assert sum(reserved(oldest_partial).values()) == 2
    assert sum(reserved(older).values()) == 2
    assert sum(reserved(newer).values()) == 0


def test_cancel_releases_reservations():
    product = stocked_product(5)
    order = order_confirm(order=order_for((product, 5)))
    assert StockLevel.objects.get(product=product, location=bin_of(warehouse("WH1"))).reserved == 5

    order_cancel(order=order, reason="customer changed mind")

    assert StockLevel.objects.get(product=product, location=bin_of(warehouse("WH1"))).reserved == 0
    assert not Reservation.objects.filter(status="active").exists()
    assert OutboxEvent.objects.filter(topic="sales.order_cancelled").exists()


def test_services_ship_without_stock():
    service = stocked_product(0, kind="service")
    order = order_confirm(order=order_for((service, 1)))
    shipment_create(order=order)
    order.refresh_from_db()
    assert order.status == S.SHIPPED


# --- money --------------------------------------------------------------------------


def test_totals_with_line_discount_order_discount_tax_and_shipping():
    product = stocked_product(10, price="30.00")
    cheap = stocked_product(10, price="10.00")
    order = order_create(
        channel=ChannelFactory(),
        customer=CustomerFactory(),
        lines=[LineSpec(product, 1, taxes=VAT), LineSpec(cheap, 2, discount_percent=50, taxes=VAT)],
        order_discount="8.00",
        shipping_amount="5.00",
        shipping_tax_rate="0.2",
    )
    # lines 30 and 10 (20 less 50 %), order discount 8 shared 6/2: net 24 + 8 = 32, tax 6.40, shipping 5 + 1
    assert (order.subtotal, order.discount_total, order.tax_total, order.shipping_total, order.total) == (
        D("32.00"),
        D("18.00"),
        D("7.40"),
        D("6.00"),
        D("44.40"),
    )
    lines = list(order.lines.all())
    assert [ln.line_total for ln in lines] == [D("28.80"), D("9.60")]


def test_only_drafts_change_lines_and_amounts():
    product = stocked_product(10)
    order = order_for((product, 1))
    order = order_update(order=order, lines=[LineSpec(product, 4, unit_price="2.50")], shipping_amount="1.00")
    assert order.total == D("11.00")
    order = order_confirm(order=order)
    with pytest.raises(ValidationFailed, match="only notes, tags and addresses"):
        order_update(order=order, lines=[LineSpec(product, 1)])
    order = order_update(order=order, notes="leave at the door", tags=["vip", " vip", "gift"])
    assert order.tags == ["gift", "vip"]


def test_bad_lines_are_refused_with_field_errors():
    product = stocked_product(1)
    with pytest.raises(ValidationFailed) as refusal:
        order_create(
            channel=ChannelFactory(),
            customer=CustomerFactory(),
            lines=[LineSpec(product, 0), LineSpec(product, "1.5")],
        )
    assert set(refusal.value.field_errors) == {"lines.0.quantity", "lines.1.quantity"}
    with pytest.raises(ValidationFailed, match="at least one line"):
        order_create(channel=ChannelFactory(), customer=CustomerFactory(), lines=[])


def test_invoice_policy_shipped_invoices_what_shipped_and_payment_states():
    product = stocked_product(10, price="10.00")
    order = order_confirm(order=order_for((product, 4), shipping_amount="5.00"))
    line = order.lines.get()
    with pytest.raises(ValidationFailed, match="Nothing of"):
        invoice_create(order=order)  # nothing shipped yet... but shipping is billable
    shipment_create(order=order, lines=[ShipLine(line, 1)])

    first = invoice_issue(invoice=invoice_create(order=order))
    assert (first.total, first.status) == (D("15.00"), InvoiceStatus.ISSUED)  # 1 x 10 + shipping 5
    assert first.number.startswith("INV-")
    assert (first.due_date - first.issue_date).days == 30

    payment_record(invoice=first, amount="5.00", method="card")
    first.refresh_from_db()
    assert first.status == InvoiceStatus.PARTIALLY_PAID
    with pytest.raises(ValidationFailed, match=r"more than the \$10\.00 still due"):
        payment_record(invoice=first, amount="11")
    payment_record(invoice=first, amount="10.00")
    first.refresh_from_db()
    assert first.status == InvoiceStatus.PAID
    with pytest.raises(InvalidTransition):
        invoice_void(invoice=first)

    shipment_create(order=order)
    second = invoice_create(order=order)
    assert second.total == D("30.00")  # the other 3, shipping already billed
    invoice_void(invoice=second)
    line.refresh_from_db()
    assert line.quantity_invoiced == 1
    assert invoice_create(order=order).total == D("30.00")


def test_invoice_policy_ordered_invoices_the_whole_order_at_confirmation():
    product = stocked_product(0, price="3.33")
    order = order_confirm(
        order=order_for((product, 3), channel=ChannelFactory(code="b2b", invoice_policy="ordered"))
    )
    invoice = invoice_create(order=order)
    assert invoice.total == D("9.99")


def test_return_restocks_or_scraps_and_credits_then_refunds():
    product = stocked_product(10, price="20.00")
    order = order_confirm(order=order_for((product, 3)))
    shipment_create(order=order)
    line = order.lines.get()
    with pytest.raises(ValidationFailed, match="4 to return, but 3 can be"):
        return_create(order=order, lines=[ReturnLineSpec(line, 4)])

    rma = return_create(
        order=order,
        lines=[ReturnLineSpec(line, 1, "restock", "wrong size"), ReturnLineSpec(line, 1, "scrap", "torn")],
        reason="customer return",
    )
    rma = return_receive(sales_return=rma)

    stock = StockLevel.objects.get(product=product, location=bin_of(warehouse("WH1")))
    assert stock.on_hand == 8  # 10 - 3 shipped + 1 restocked
    assert StockLevel.objects.get(product=product, location=virtual_location(LocationKind.SCRAP)).on_hand == 1
    line.refresh_from_db()
    assert line.quantity_returned == 2
    assert rma.credit_note.total == D("40.00")
    assert rma.credit_note.number.startswith("CN-")
    refund = refund_record(sales_return=rma, method="card")
    assert refund.amount == D("40.00")
    rma.credit_note.refresh_from_db()
    assert rma.credit_note.status == InvoiceStatus.PAID
    assert OutboxEvent.objects.filter(topic="sales.return_received").exists()
    with pytest.raises(InvalidTransition):
        return_receive(sales_return=rma)


def test_channel_changes_are_validated_like_new_channels():
    from sales.services import channel_update

    channel = ChannelFactory()
    with pytest.raises(ValidationFailed) as refusal:
        channel_update(channel=channel, kind="telepathy", currency="XXXX", invoice_policy="never")
    assert set(refusal.value.field_errors) == {"kind", "currency", "invoice_policy"}
    assert channel_update(channel=channel, name="Web shop").name == "Web shop"


def test_confirming_does_not_trigger_backorder_allocation(django_capture_on_commit_callbacks):
    from unittest import mock

    product = stocked_product(10)
    with mock.patch("sales.tasks.allocate_backorders_task.delay") as allocate:
        with django_capture_on_commit_callbacks(execute=True):
            order_confirm(order=order_for((product, 2)))
        assert allocate.call_count == 0  # availability went down
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            stock_receive(product=product, location=bin_of(warehouse("WH1")), quantity=1, unit_cost=1)
        assert allocate.call_count == 1  # it went up
