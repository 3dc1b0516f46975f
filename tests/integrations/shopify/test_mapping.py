"""Shopify JSON -> canonical records: the shared sample order and product, field by field."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal

import pytest

from integrations.contract import Action
from integrations.records import (
    CustomerRecord,
    OrderLineRecord,
    OrderTotals,
    ShippingLineRecord,
    TaxLine,
    VariantRecord,
)
from integrations.shopify import mapping
from integrations.shopify.fake_data import sample, sample_bytes

EDT = datetime.timezone(datetime.timedelta(hours=-4))
KY_TAX = "KY State Tax"


@pytest.fixture
def order_json():
    return json.loads(sample_bytes("webhook_orders_create.json"))


def test_the_sample_order_maps_to_every_canonical_field(order_json):
    record = mapping.order(order_json)

    assert record.external_id == "5834021535987"
    assert record.number == "#1042"
    assert record.created_at == datetime.datetime(2026, 3, 14, 10, 21, 7, tzinfo=EDT)
    assert record.updated_at == datetime.datetime(2026, 3, 14, 10, 21, 9, tzinfo=EDT)
    assert record.currency == "USD"
    assert record.prices_include_tax is False
    assert record.financial_status == "paid"
    assert record.cancelled_at is None
    assert record.cancel_reason == ""
    assert record.tags == ()
    assert record.note == ""
    assert record.customer == CustomerRecord(
        external_id="7712345678901",
        name="Jane Buyer",
        email="jane.buyer@example.com",
        phone="+15025550142",
        company="",
    )
    expected_address = {
        "name": "Jane Buyer",
        "company": "",
        "line1": "410 W Main St",
        "line2": "Apt 3",
        "city": "Louisville",
        "region": "KY",
        "postal_code": "40202",
        "country": "US",
        "phone": "+15025550142",
    }
    assert dict(record.billing_address) == expected_address
    assert dict(record.shipping_address) == expected_address
    assert record.lines == (
        OrderLineRecord(
            external_id="13950000000001",
            sku="TENT-2P-GRN",
            variant_external_id="44012345678901",
            title="Trail Tent 2P - Green",
            quantity=Decimal(1),
            unit_price=Decimal("249.00"),
            discount=Decimal("10.00"),
            taxes=(TaxLine(KY_TAX, Decimal("0.06"), Decimal("14.94")),),
            current_quantity=Decimal(1),
        ),
        OrderLineRecord(
            external_id="13950000000002",
            sku="SLBAG-20F-REG",
            variant_external_id="44012345678902",
            title="Down Sleeping Bag 20F - Regular",
            quantity=Decimal(2),
            unit_price=Decimal("179.00"),
            discount=Decimal(0),
            taxes=(TaxLine(KY_TAX, Decimal("0.06"), Decimal("21.48")),),
            current_quantity=Decimal(2),
        ),
        OrderLineRecord(
            external_id="13950000000003",
            sku="STOVE-TI-01",
            variant_external_id="44012345678903",
            title="Titanium Stove",
            quantity=Decimal(1),
            unit_price=Decimal("59.00"),
            discount=Decimal(0),
            taxes=(TaxLine(KY_TAX, Decimal("0.06"), Decimal("3.54")),),
            current_quantity=Decimal(1),
        ),
    )
    assert record.shipping == (ShippingLineRecord("Standard Shipping", Decimal("9.95"), Decimal("0.00"), ()),)
    assert record.totals == OrderTotals(
        subtotal=Decimal("656.00"),
        discount=Decimal("10.00"),
        shipping=Decimal("9.95"),
        tax=Decimal("39.96"),
        total=Decimal("705.91"),
    )


def test_the_sample_totals_add_up_the_way_shopify_adds_them(order_json):
    record = mapping.order(order_json)
    totals = record.totals

    line_net = sum((ln.quantity * ln.unit_price - ln.discount for ln in record.lines), Decimal(0))
    line_tax = sum((t.amount for ln in record.lines for t in ln.taxes), Decimal(0))

    assert line_net == totals.subtotal
    assert line_tax == totals.tax
    assert totals.subtotal + totals.shipping + totals.tax == totals.total == Decimal("705.91")


def test_amounts_are_decimals_never_floats(order_json):
    record = mapping.order(order_json)

    amounts = [record.totals.total, record.totals.tax]
    for line in record.lines:
        amounts += [line.quantity, line.unit_price, line.discount, *(t.rate for t in line.taxes)]
    assert all(isinstance(a, Decimal) for a in amounts)
    assert str(record.lines[0].taxes[0].rate) == "0.06"


def test_shop_money_wins_over_the_presentment_string(order_json):
    # given an order paid in EUR by the customer, in a USD shop: the bare strings are in EUR
    order_json["currency"] = "EUR"
    order_json["total_price"] = "650.00"
    order_json["line_items"][0]["price"] = "230.00"
    order_json["line_items"][0]["discount_allocations"][0]["amount"] = "9.20"

    record = mapping.order(order_json)

    assert record.currency == "USD"
    assert record.totals.total == Decimal("705.91")
    assert record.lines[0].unit_price == Decimal("249.00")
    assert record.lines[0].discount == Decimal("10.00")


def test_without_sets_the_bare_amounts_are_read(order_json):
    for line in order_json["line_items"]:
        del line["price_set"]
    del order_json["total_price_set"]

    record = mapping.order(order_json)

    assert record.lines[1].unit_price == Decimal("179.00")
    assert record.totals.total == Decimal("705.91")
    assert record.currency == "USD"


def test_a_shipping_discount_and_shipping_tax_are_kept(order_json):
    shipping = order_json["shipping_lines"][0]
    shipping["discounted_price"] = "4.95"
    shipping["discounted_price_set"]["shop_money"]["amount"] = "4.95"
    shipping["tax_lines"] = [{"title": "KY State Tax", "rate": 0.06, "price": "0.30"}]
    removed = copy.deepcopy(shipping) | {"is_removed": True, "title": "Express"}
    order_json["shipping_lines"].append(removed)

    record = mapping.order(order_json)

    assert record.shipping == (
        ShippingLineRecord(
            "Standard Shipping",
            amount=Decimal("9.95"),
            discount=Decimal("5.00"),
            taxes=(TaxLine("KY State Tax", Decimal("0.06"), Decimal("0.30")),),
        ),
    )
    assert record.totals.shipping == Decimal("4.95")


def test_a_cancelled_order_with_tags_and_note(order_json):
    order_json.update(
        cancelled_at="2026-03-15T09:00:00-04:00",
        cancel_reason="customer",
        tags="vip, wholesale ,",
        note="Leave at the door",
        taxes_included=True,
    )

    item = mapping.order_item(order_json)

    assert item.action == Action.CANCEL
    assert item.record.cancelled_at == datetime.datetime(2026, 3, 15, 9, tzinfo=EDT)
    assert item.record.cancel_reason == "customer"
    assert item.record.tags == ("vip", "wholesale")
    assert item.record.note == "Leave at the door"
    assert item.record.prices_include_tax is True


def test_a_guest_order_without_customer_or_addresses(order_json):
    order_json["customer"] = None
    order_json["billing_address"] = None
    del order_json["shipping_address"]
    order_json["line_items"][2]["variant_id"] = None
    order_json["line_items"][2]["sku"] = None

    record = mapping.order(order_json)

    assert record.customer is None
    assert record.billing_address == {}
    assert record.shipping_address == {}
    assert record.lines[2].variant_external_id == ""
    assert record.lines[2].sku == ""


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.pop("id"),
        lambda o: o.update(created_at="yesterday"),
        lambda o: o.update(created_at="2026-03-14T10:21:07"),  # no offset
        lambda o: o["line_items"][0].update(price_set=None, price="12,50"),
        lambda o: o["line_items"][0].pop("id"),
    ],
)
def test_an_unreadable_order_is_a_value_error(order_json, change):
    change(order_json)

    with pytest.raises(ValueError):  # noqa: PT011 - MappingError is a ValueError, which the hub expects
        mapping.order(order_json)


def test_a_product_maps_with_its_variants_and_inventory_items():
    raw = sample("rest_products_list_response.json")["products"][0]

    item = mapping.product_item(raw)
    record = item.record

    assert item.object_type == "product"
    assert item.external_id == "8012345678901"
    assert item.updated_at == datetime.datetime(2026, 3, 14, 10, 30, 13, tzinfo=EDT)
    assert record.title == "Trail Tent 2P"
    assert record.status == "active"
    assert record.description == "Two-person backpacking tent."
    assert record.variants == (
        VariantRecord(
            external_id="44012345678901",
            sku="TENT-2P-GRN",
            title="Trail Tent 2P - Green",
            price=Decimal("249.00"),
            barcode="084001278901",
            extra={"inventory_item_id": 46012345678901},
        ),
        VariantRecord(
            external_id="44012345678911",
            sku="TENT-2P-ORG",
            title="Trail Tent 2P - Orange",
            price=Decimal("249.00"),
            barcode="084001278911",
            extra={"inventory_item_id": 46012345678911},
        ),
    )


def test_a_single_variant_product_takes_the_product_title():
    raw = sample("rest_products_list_response.json")["products"][0]
    raw["variants"] = raw["variants"][:1]
    raw["variants"][0].update(title="Default Title", barcode=None, price=None)

    variant = mapping.product(raw).variants[0]

    assert variant.title == "Trail Tent 2P"
    assert variant.barcode == ""
    assert variant.price is None
