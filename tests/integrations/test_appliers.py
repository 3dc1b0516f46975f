"""Appliers: canonical order and product records into sales and inventory, the same for every connector."""

from __future__ import annotations

import dataclasses
import datetime
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from erp.money import ZERO
from integrations import appliers
from integrations.canonical import content_hash
from integrations.contract import Action, InboundItem, PushResult
from integrations.errors import MissingDependency
from integrations.models import ExternalRef
from integrations.records import TaxLine
from inventory.models import Product
from sales.models import Customer, OrderLine, OrderStatus, SalesOrder
from sales.selectors import reserved_by_line
from tests.integrations.factories import ExternalRefFactory, SyncRunFactory
from tests.integrations.fake_tool import (
    T0,
    acme_connection,
    acme_environment,
    acme_order,
    order_item,
    product_item,
)
from tests.inventory.factories import ProductFactory
from tests.sales.factories import CustomerFactory, stocked_product

SHOPIFY_SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "integrations"
    / "shopify"
    / "samples"
    / "webhook_orders_create.json"
)


@pytest.fixture
def connection(db):
    with acme_environment():
        yield acme_connection()


@pytest.fixture
def run(connection):
    return SyncRunFactory(connection=connection, job="webhook")


def ref(connection, object_type, external_id):
    return ExternalRef.objects.get(connection=connection, object_type=object_type, external_id=external_id)


def test_the_shopify_sample_becomes_a_confirmed_order_whose_totals_are_shopifys(connection, run):
    # given: the sample order's products, one sleeping bag short
    from integrations.shopify import mapping

    for sku, qty in (("TENT-2P-GRN", 3), ("SLBAG-20F-REG", 1), ("STOVE-TI-01", 3)):
        stocked_product(qty, sku=sku)
    item = mapping.order_item(json.loads(SHOPIFY_SAMPLE.read_bytes()))

    # when
    applied = appliers.apply_order(connection, item, run)

    # then: Shopify's totals to the cent, tax as charged on the undiscounted tent
    order = SalesOrder.objects.get(pk=applied.internal_id)
    assert applied.outcome == "created"
    assert (order.subtotal, order.discount_total, order.tax_total, order.shipping_total, order.total) == (
        D("656.00"),
        D("10.00"),
        D("39.96"),
        D("9.95"),
        D("705.91"),
    )
    assert (order.status, order.external_reference, order.tags) == (OrderStatus.CONFIRMED, "#1042", ["paid"])
    tent = order.lines.get(product__sku="TENT-2P-GRN")
    assert (tent.discount_amount, tent.line_subtotal, tent.tax_amount) == (
        D("10.00"),
        D("239.00"),
        D("14.94"),
    )
    bag = order.lines.get(product__sku="SLBAG-20F-REG")
    assert reserved_by_line([bag.pk]) == {bag.pk: D(1)}  # the second one is backordered
    assert order.shipping_address["city"] == "Louisville"
    # the refs the hub keeps
    order_ref = ref(connection, "order", "5834021535987")
    assert order_ref.content_hash == content_hash(item.record)
    assert order_ref.external_updated_at == item.record.updated_at
    assert order_ref.extra["financial_status"] == "paid"
    assert ref(connection, "order_line", "13950000000001").object_id == tent.pk
    assert ref(connection, "variant", "44012345678901").object_id == tent.product_id  # linked by SKU
    customer = Customer.objects.get(pk=ref(connection, "customer", "7712345678901").object_id)
    assert (customer.email, order.customer) == ("jane.buyer@example.com", customer)


def test_lines_resolve_by_variant_ref_then_sku_ref_then_active_sku(connection, run):
    # given
    by_variant, by_sku_ref, by_sku = (
        ProductFactory(sku="P-VAR"),
        ProductFactory(sku="P-REF"),
        ProductFactory(sku="P-Sku"),
    )
    ProductFactory(sku="P-ARCH", is_active=False)
    ExternalRefFactory(connection=connection, object_type="variant", external_id="v-9", internal=by_variant)
    ExternalRefFactory(connection=connection, object_type="sku", external_id="TOOL-SKU", internal=by_sku_ref)
    lines = [
        {"id": "a", "sku": "P-SKU", "variant_id": "v-9", "qty": 1, "price": "1.00"},
        {"id": "b", "sku": "TOOL-SKU", "variant_id": "", "qty": 1, "price": "1.00"},
        {"id": "c", "sku": "p-sku", "variant_id": "", "qty": 1, "price": "1.00"},
    ]

    # when
    applied = appliers.apply_order(connection, order_item(acme_order("7", lines=lines)), run)

    # then
    products = list(
        OrderLine.objects.filter(order_id=applied.internal_id)
        .order_by("position")
        .values_list("product", flat=True)
    )
    assert products == [by_variant.pk, by_sku_ref.pk, by_sku.pk]
    archived = [{"id": "d", "sku": "P-ARCH", "qty": 1, "price": "1.00"}]
    with pytest.raises(MissingDependency) as missing:
        appliers.apply_order(connection, order_item(acme_order("8", lines=archived)), run)
    assert (missing.value.kind, missing.value.value) == ("sku", "P-ARCH")


def test_a_customer_is_matched_by_email_then_remembered(connection, run):
    stocked_product(5, sku="TENT")
    existing = CustomerFactory(email="Jane@Example.com")
    first = appliers.apply_order(connection, order_item(acme_order("1")), run)
    second = appliers.apply_order(connection, order_item(acme_order("2")), run)
    assert SalesOrder.objects.get(pk=first.internal_id).customer == existing
    assert SalesOrder.objects.get(pk=second.internal_id).customer == existing
    assert ref(connection, "customer", "c-1").object_id == existing.pk
    other = acme_order("3", customer={"id": "c-2", "name": "New Person", "email": "new@example.com"})
    created = SalesOrder.objects.get(
        pk=appliers.apply_order(connection, order_item(other), run).internal_id
    ).customer
    assert (created.name, created.payment_terms, created.addresses.count()) == ("New Person", "prepaid", 2)
    guestless = acme_order("4", customer=None)
    guestless["customer"] = None
    guest = SalesOrder.objects.get(
        pk=appliers.apply_order(connection, order_item(guestless), run).internal_id
    ).customer
    assert guest.name == f"{connection.name} guest"


def test_later_records_update_what_a_confirmed_order_allows(connection, run):
    stocked_product(5, sku="TENT")
    appliers.apply_order(connection, order_item(acme_order("1", tags=["web"], payment="pending")), run)
    order = SalesOrder.objects.get()
    order.tags = [*order.tags, "checked-by-anna"]
    order.save()

    # when: paid, retagged, and a line's quantity changed in the tool
    later = acme_order(
        "1", updated_at=T0 + datetime.timedelta(hours=1), tags=["gift"], payment="paid", note="ring twice"
    )
    later["lines"][0]["qty"] = 2
    later["totals"] = {**later["totals"], "subtotal": "200.00", "total": "200.00"}
    applied = appliers.apply_order(connection, order_item(later), run)

    # then: tags and notes follow, and so does the line (tests/integrations/test_edits_grow.py)
    order.refresh_from_db()
    assert applied.outcome == "updated"
    assert order.tags == ["checked-by-anna", "gift", "paid"]
    assert order.notes == "ring twice"
    assert (order.lines.get().quantity, order.total) == (2, D("200.00"))
    assert "edited as in the tool" in applied.reason
    assert not run.errors
    assert ref(connection, "order", "1").extra["financial_status"] == "paid"


def test_stale_and_unchanged_records_are_skipped(connection, run):
    stocked_product(5, sku="TENT")
    item = order_item(acme_order("1", updated_at=T0))
    appliers.apply_order(connection, item, run)
    assert appliers.apply_order(connection, item, run).reason == "unchanged"
    older = order_item(acme_order("1", updated_at=T0 - datetime.timedelta(seconds=1), note="old"))
    assert appliers.apply_order(connection, older, run).reason.startswith("stale")
    assert SalesOrder.objects.get().notes == ""


def test_an_order_cancelled_before_we_saw_it_is_created_cancelled_without_reservations(connection, run):
    stocked_product(5, sku="TENT")
    item = order_item(acme_order("1", cancelled_at=T0.isoformat()))
    assert item.action == Action.CANCEL
    applied = appliers.apply_order(connection, item, run)
    order = SalesOrder.objects.get()
    assert (applied.outcome, order.status) == ("created", OrderStatus.CANCELLED)
    assert reserved_by_line([ln.pk for ln in order.lines.all()]) == {}


def test_a_deleted_order_is_kept(connection, run):
    applied = appliers.apply_order(connection, InboundItem("order", "1", Action.DELETE), run)
    assert (applied.outcome, SalesOrder.objects.count()) == ("skipped", 0)


def test_products_are_created_or_linked_by_sku_with_their_variant_refs(connection, run):
    # given: one SKU the hub has, one it does not
    existing = ProductFactory(sku="Tent-Green", name="Our tent")
    raw = {
        "id": "p-1",
        "title": "Tent",
        "updated_at": T0.isoformat(),
        "variants": [
            {"id": "v-1", "sku": "TENT-GREEN", "title": "Tent - Green", "price": "249.00", "stock_item": 111},
            {"id": "v-2", "sku": "TENT-BLUE", "title": "Tent - Blue", "price": "259.00", "stock_item": 222},
        ],
    }

    # when
    applied = appliers.apply_product(connection, product_item(raw), run)

    # then
    blue = Product.objects.get(sku="TENT-BLUE")
    assert (blue.name, blue.sale_price) == ("Tent - Blue", D("259.00"))
    assert (applied.outcome, applied.reason) == ("created", "2 variant(s): 1 product(s) created, 1 linked")
    assert ref(connection, "variant", "v-1").object_id == existing.pk
    assert ref(connection, "variant", "v-2").extra == {"stock_item": 222}
    assert ref(connection, "sku", "TENT-BLUE").object_id == blue.pk
    assert ref(connection, "product", "p-1").extra == {"variants": ["v-1", "v-2"]}
    existing.refresh_from_db()
    assert existing.name == "Our tent"  # linked, never overwritten

    # the same record again is a no-op; a newer one with a new stock item id updates the ref
    assert appliers.apply_product(connection, product_item(raw), run).reason == "unchanged"
    raw["variants"][1]["stock_item"] = 333
    raw["updated_at"] = (T0 + datetime.timedelta(minutes=1)).isoformat()
    assert appliers.apply_product(connection, product_item(raw), run).outcome == "updated"
    assert ref(connection, "variant", "v-2").extra == {"stock_item": 333}
    assert Product.objects.count() == 2


def test_shipping_taxes_given_by_the_tool_are_kept(connection, run):
    stocked_product(5, sku="TENT")
    item = order_item(acme_order("1", shipping="10.00"))
    record = item.record
    assert record is not None
    shipping = (dataclasses.replace(record.shipping[0], taxes=(TaxLine("VAT", D("0.2"), D("1.99")),)),)
    totals = dataclasses.replace(record.totals, tax=D("1.99"), total=D("111.99"))
    item = dataclasses.replace(item, record=dataclasses.replace(record, shipping=shipping, totals=totals))
    order = SalesOrder.objects.get(pk=appliers.apply_order(connection, item, run).internal_id)
    assert (order.shipping_total, order.tax_total, order.total) == (D("11.99"), D("1.99"), D("111.99"))
    assert order.discount_total == ZERO


def test_records_after_a_cancel_are_quiet_no_ops(connection, run):
    stocked_product(5, sku="TENT")
    appliers.apply_order(connection, order_item(acme_order("1")), run)
    gone = {"cancelled_at": T0.isoformat()}
    cancelled = order_item(acme_order("1", updated_at=T0 + datetime.timedelta(hours=1), **gone))
    assert appliers.apply_order(connection, cancelled, run).outcome == "cancelled"
    refunded = order_item(
        acme_order("1", updated_at=T0 + datetime.timedelta(hours=2), payment="refunded", **gone)
    )
    applied = appliers.apply_order(connection, refunded, run)
    assert (applied.outcome, applied.reason, run.errors) == ("skipped", "no change", [])
    assert SalesOrder.objects.get().status == OrderStatus.CANCELLED


def test_an_order_taken_in_from_a_channel_forgets_what_was_pushed_of_its_products(connection, run):
    """The channel counted its own stock down when it sold: after the order is taken in, a level
    that comes back to the figure pushed last (a count gives the unit back) is pushed again, not
    skipped as "pushed already" (the channel shows one less). CI's simulated day: BigCommerce 28,
    here 29, every later push skipped."""
    from integrations.outbound_items import PUSHED_AVAILABLE, inventory_hash, resolve_inventory
    from inventory.services import stock_receive
    from tests.inventory.factories import bin_of, warehouse

    # given: 5 of the tent, 5 pushed to the channel last
    tent = stocked_product(5, sku="TENT")
    variant = ExternalRefFactory(
        connection=connection,
        object_type="variant",
        external_id="v-tent",
        internal=tent,
        pushed_hash=inventory_hash(5),
        extra={PUSHED_AVAILABLE: 5},
    )
    assert isinstance(resolve_inventory(connection, tent.pk), str)  # unchanged: nothing to push

    # when: the channel sells one (it shows 4) and the order is taken in; then a count finds one more
    appliers.apply_order(connection, order_item(acme_order("9")), run)
    stock_receive(product=tent, location=bin_of(warehouse("WH1")), quantity=1, unit_cost="4.00")

    # then: 5 is pushed again, compared with the 5 pushed last (compare-and-set tools answer a move)
    resolved = resolve_inventory(connection, tent.pk)
    assert not isinstance(resolved, str), resolved
    assert (resolved.item.available, resolved.item.previous) == (5, 5)
    variant.refresh_from_db()
    assert variant.pushed_hash == ""
    # an order that changes nothing leaves the memory alone
    resolved.remember(PushResult(external_id="v-tent"))
    appliers.apply_order(connection, order_item(acme_order("9")), run)
    assert isinstance(resolve_inventory(connection, tent.pk), str)
