"""An order edited in the tool to add a line or grow one is followed here: the lines, their
reservations (what is missing backordered) and the totals, which must still be the tool's."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from erp.models import OutboxEvent
from integrations import appliers, inbound
from integrations.contract import Action, InboundItem
from integrations.models import ExternalRef, InboundEvent, InboundStatus
from integrations.records import RefundLineRecord, RefundRecord, Restock
from sales.models import OrderStatus, SalesOrder
from sales.selectors import order_detail, order_figures, reserved_by_line
from sales.services import shipment_create
from tests.integrations.factories import SyncRunFactory
from tests.integrations.fake_tool import T0, acme_connection, acme_environment, acme_order, order_item
from tests.sales.factories import stocked_product

LATER = T0 + datetime.timedelta(hours=1)


def vat(amount: str) -> list[dict[str, str]]:
    return [{"name": "VAT", "rate": "0.2", "amount": amount}]


def tent(qty: int = 1) -> dict:
    return {
        "id": "1001-1",
        "sku": "TENT",
        "variant_id": "v-tent",
        "qty": qty,
        "price": "100.00",
        "taxes": vat(f"{20 * qty}.00"),
    }


MUGS = {"id": "1001-2", "sku": "MUG", "qty": 2, "price": "10.00", "discount": "2.00", "taxes": vat("3.60")}
STOVES = {
    "id": "1001-3",
    "sku": "STOVE",
    "qty": 2,
    "price": "45.50",
    "discount": "5.00",
    "taxes": vat("17.20"),
}


@pytest.fixture
def acme(db):
    with acme_environment() as fake:
        yield fake


@pytest.fixture
def connection(acme):
    return acme_connection()


@pytest.fixture
def products(db):
    """5 tents, 10 mugs and 1 stove in stock."""
    return {
        "TENT": stocked_product(5, sku="TENT", price="100.00"),
        "MUG": stocked_product(10, sku="MUG", price="10.00"),
        "STOVE": stocked_product(1, sku="STOVE", price="45.50"),
    }


def deliver(client, acme, connection, topic, order, capture) -> InboundEvent:
    hook = acme.webhook(topic, order)
    with capture(execute=True):
        response = client.post(
            reverse("integrations:hook", args=[connection.pk]),
            data=hook.body,
            content_type="application/json",
            headers=hook.headers,
        )
    assert response.status_code == 200, response.content
    return InboundEvent.objects.get(external_id=hook.headers["X-Acme-Delivery"])


def placed(client, acme, connection, capture) -> SalesOrder:
    """Order 1001 as placed in the tool: a tent and two mugs, confirmed here."""
    event = deliver(
        client, acme, connection, "order.created", acme_order("1001", lines=[tent(), dict(MUGS)]), capture
    )
    assert event.status == InboundStatus.PROCESSED, event.last_error
    return SalesOrder.objects.get()


def totals_of(order: SalesOrder) -> dict[str, D]:
    order.refresh_from_db()
    return {
        "subtotal": order.subtotal,
        "discount": order.discount_total,
        "shipping": order.shipping_amount,
        "tax": order.tax_total,
        "total": order.total,
    }


def test_a_line_added_and_a_line_grown_in_the_tool_are_followed_with_the_tools_totals(
    client, acme, connection, products, django_capture_on_commit_callbacks
):
    # given
    order = placed(client, acme, connection, django_capture_on_commit_callbacks)
    tents, mugs = order.lines.order_by("position")

    # when: edited in the tool: three tents instead of one, and two stoves more
    edited = acme_order("1001", lines=[tent(3), dict(MUGS), dict(STOVES)], updated_at=LATER)
    event = deliver(client, acme, connection, "order.updated", edited, django_capture_on_commit_callbacks)

    # then: the lines as in the tool, priced as it charged them
    assert event.status == InboundStatus.PROCESSED, event.last_error
    assert event.result["items"][0]["reason"] == "edited as in the tool"
    lines = list(order.lines.order_by("position"))
    assert [(ln.product.sku, ln.quantity, ln.line_subtotal, ln.tax_amount) for ln in lines] == [
        ("TENT", D(3), D("300.00"), D("60.00")),
        ("MUG", D(2), D("18.00"), D("3.60")),
        ("STOVE", D(2), D("86.00"), D("17.20")),
    ]
    assert lines[0].pk == tents.pk
    # reserved as at confirmation: the one stove in stock, the other backordered
    stoves = lines[2]
    assert reserved_by_line([ln.pk for ln in lines]) == {tents.pk: D(3), mugs.pk: D(2), stoves.pk: D(1)}
    assert order_figures(order_detail(order.pk)).backordered[stoves.pk] == D(1)
    # our totals are the tool's
    assert totals_of(order) == {k: D(v) for k, v in edited["totals"].items()}
    assert totals_of(order)["total"] == D("484.80")
    # the new line is linked, for the fulfilment push
    ref = ExternalRef.objects.get(connection=connection, object_type="order_line", external_id="1001-3")
    assert (ref.object_id, ref.extra) == (stoves.pk, {"order": "1001"})
    update = OutboxEvent.objects.filter(topic="sales.order_updated").latest("pk")
    assert update.payload["reason"] == f"edited in {connection.name}"
    assert [(ln["sku"], ln["change"]) for ln in update.payload["lines"]] == [
        ("TENT", "grown"),
        ("STOVE", "added"),
    ]


def test_an_unknown_sku_in_an_added_line_quarantines_the_event_with_nothing_applied(
    client, acme, connection, products, django_capture_on_commit_callbacks
):
    # given
    order = placed(client, acme, connection, django_capture_on_commit_callbacks)
    tents = order.lines.get(position=1)
    ghost = {"id": "1001-9", "sku": "GHOST-1", "variant_id": "v-ghost", "qty": 1, "price": "5.00"}

    # when: a tent more and a product the hub does not know
    edited = acme_order("1001", lines=[tent(2), dict(MUGS), ghost], updated_at=LATER)
    event = deliver(client, acme, connection, "order.updated", edited, django_capture_on_commit_callbacks)

    # then: quarantined as a new order's unknown SKU is, the tent not grown either
    assert event.status == InboundStatus.QUARANTINED
    assert event.missing == {"kind": "sku", "value": "GHOST-1"}
    assert "line 3" in event.last_error
    assert (order.lines.count(), reserved_by_line([tents.pk])) == (2, {tents.pk: D(1)})
    assert totals_of(order)["total"] == D("141.60")

    # when: a person maps it
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            inbound.quarantine_map_sku(connection=connection, sku="GHOST-1", product=products["STOVE"]) == 1
        )

    # then: the edit is followed
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.last_error
    assert [(ln.product.sku, ln.quantity) for ln in order.lines.order_by("position")] == [
        ("TENT", D(2)),
        ("MUG", D(2)),
        ("STOVE", D(1)),
    ]
    assert totals_of(order) == {k: D(v) for k, v in edited["totals"].items()}


def test_totals_that_still_differ_after_following_the_edit_quarantine_it(
    client, acme, connection, products, django_capture_on_commit_callbacks
):
    order = placed(client, acme, connection, django_capture_on_commit_callbacks)
    edited = acme_order("1001", lines=[tent(2), dict(MUGS)], updated_at=LATER)
    edited["totals"] = {**edited["totals"], "total": "999.00"}  # something else changed in the tool

    event = deliver(client, acme, connection, "order.updated", edited, django_capture_on_commit_callbacks)

    assert event.status == InboundStatus.QUARANTINED
    assert "our totals differ from the tool's" in event.last_error
    assert order.lines.get(position=1).quantity == 1  # nothing of the edit stays


# --- records with the tool's edits and refunds (current quantities), straight to the applier -----


@pytest.fixture
def run(connection):
    return SyncRunFactory(connection=connection, job="webhook")


def test_a_line_swapped_in_the_tool_shrinks_first_so_the_added_line_takes_its_stock(
    connection, run, products
):
    # given: the five tents in stock ordered and reserved
    appliers.apply_order(connection, order_item(acme_order("1001", lines=[tent(5)])), run)
    order = SalesOrder.objects.get()
    tents = order.lines.get()

    # when: in the tool two tents were edited away (a cancel refund) and added back as a line of
    # their own; the tool's totals are still those of the order as placed (Shopify's total_price)
    two = {"id": "1001-5", "sku": "TENT", "qty": 2, "price": "100.00", "taxes": vat("40.00")}
    record = order_item(acme_order("1001", lines=[tent(5), two], updated_at=LATER)).record
    first, second = record.lines
    record = dataclasses.replace(
        record,
        lines=(
            dataclasses.replace(first, current_quantity=D(3)),
            dataclasses.replace(second, current_quantity=D(2)),
        ),
        refunds=(RefundRecord("r-1", LATER, (RefundLineRecord("1001-1", D(2), Restock.CANCEL),), D(0)),),
    )
    applied = appliers.apply_order(
        connection, InboundItem("order", "1001", Action.UPSERT, LATER, record), run
    )

    # then: the tent line is down to three, the new line holds the two tents it released
    assert applied.outcome == "updated", applied.reason
    added = order.lines.get(position=2)
    assert (added.quantity, added.line_subtotal, added.tax_amount) == (D(2), D("200.00"), D("40.00"))
    assert reserved_by_line([tents.pk, added.pk]) == {tents.pk: D(3), added.pk: D(2)}
    order.refresh_from_db()
    assert order.total == D("600.00")


def test_a_shipped_order_takes_nothing_more_and_says_so(connection, run, products):
    appliers.apply_order(connection, order_item(acme_order("1001", lines=[tent(1)])), run)
    order = SalesOrder.objects.get()
    shipment_create(order=order)
    ghost = {"id": "1001-9", "sku": "GHOST-1", "qty": 1, "price": "5.00"}

    applied = appliers.apply_order(
        connection, order_item(acme_order("1001", lines=[tent(2), ghost], updated_at=LATER)), run
    )

    order.refresh_from_db()
    assert (order.status, order.lines.get().quantity) == (OrderStatus.SHIPPED, D(1))
    assert "lines were added or grown in the tool, but" in applied.reason
    assert "is shipped here: not followed" in applied.reason
    assert run.errors[-1]["level"] == "warning"
