"""BigCommerce's samples (integrations/bigcommerce/samples)
mapped to the hub's records, to the cent."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from integrations.bigcommerce import mapping
from integrations.contract import Action
from integrations.records import Restock

SAMPLES = Path(__file__).resolve().parents[3] / "integrations" / "bigcommerce" / "samples"
UTC = datetime.UTC


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def raw() -> dict[str, Any]:
    return sample("v2_order_get_response.json")


def record(raw: dict[str, Any], **parts: Any) -> Any:
    return mapping.order(
        raw,
        parts.get("products", sample("v2_order_products_response.json")),
        parts.get("addresses", sample("v2_order_shipping_addresses_response.json")),
        parts.get("shipments", ()),
        parts.get("refunds", ()),
    )


def test_the_sample_order_maps_to_its_lines_totals_customer_and_addresses(raw):
    order = record(raw)

    assert (order.external_id, order.number, order.currency) == ("250", "250", "USD")
    assert order.created_at == datetime.datetime(2026, 3, 14, 14, 21, 7, tzinfo=UTC)
    assert order.updated_at == datetime.datetime(2026, 3, 14, 14, 21, 9, tzinfo=UTC)
    assert order.prices_include_tax is False
    assert order.financial_status == "captured"
    assert order.cancelled_at is None
    tent, bag = order.lines
    assert (tent.external_id, tent.sku, tent.variant_external_id) == ("401", "TENT-2P-GRN", "77")
    assert tent.title == "Trail Tent 2P - Green"
    assert (tent.quantity, tent.unit_price, tent.discount) == (
        Decimal(1),
        Decimal("249.00"),
        Decimal("10.00"),
    )
    assert [(t.name, t.rate, t.amount) for t in tent.taxes] == [("Tax", Decimal("0.0600"), Decimal("14.94"))]
    assert (bag.sku, bag.variant_external_id, bag.title) == ("SLBAG-20F-REG", "81", "Down Sleeping Bag 20F")
    assert (bag.quantity, bag.unit_price, bag.discount) == (Decimal(2), Decimal("179.00"), Decimal(0))
    assert [(t.rate, t.amount) for t in bag.taxes] == [(Decimal("0.0600"), Decimal("21.48"))]
    [shipping] = order.shipping
    assert (shipping.title, shipping.amount, shipping.taxes) == ("Flat Rate", Decimal("9.95"), ())
    totals = order.totals
    assert (totals.subtotal, totals.discount, totals.shipping, totals.tax, totals.total) == (
        Decimal("597.00"),
        Decimal("10.00"),
        Decimal("9.95"),
        Decimal("36.42"),
        Decimal("643.37"),
    )
    # the hub's arithmetic gives the store's total: lines after discounts + shipping + tax
    lines = sum((ln.unit_price * ln.quantity - ln.discount for ln in order.lines), Decimal(0))
    tax = sum((t.amount for ln in order.lines for t in ln.taxes), Decimal(0))
    assert lines + shipping.amount + tax == totals.total
    assert order.customer is not None
    assert (order.customer.external_id, order.customer.name, order.customer.email) == (
        "58",
        "Jane Buyer",
        "jane.buyer@example.com",
    )
    expected = {
        "name": "Jane Buyer",
        "company": "",
        "line1": "410 W Main St",
        "line2": "Apt 3",
        "city": "Louisville",
        "region": "Kentucky",
        "postal_code": "40202",
        "country": "US",
        "phone": "5025550142",
    }
    assert order.billing_address == expected
    assert order.shipping_address == expected


def test_the_list_sample_is_the_same_order(raw):
    [listed] = sample("v2_orders_list_response.json")
    assert record(listed) == record(raw)


def test_amounts_keep_their_four_decimals_exactly(raw):
    raw = {**raw, "total_inc_tax": "643.3749", "total_tax": "36.4249"}
    totals = record(raw).totals
    assert (totals.total, totals.tax) == (Decimal("643.3749"), Decimal("36.4249"))
    assert mapping.money("62.6793") == Decimal("62.6793")
    assert mapping.money(118.5) == Decimal("118.5")


def test_rfc2822_dates_are_parsed_with_their_offset():
    assert mapping.rfc2822("Tue, 05 Mar 2019 21:40:11 +0000") == datetime.datetime(
        2019, 3, 5, 21, 40, 11, tzinfo=UTC
    )
    parsed = mapping.rfc2822("Sat, 14 Mar 2026 09:21:07 -0500")
    assert parsed == datetime.datetime(2026, 3, 14, 14, 21, 7, tzinfo=UTC)
    assert parsed.utcoffset() == datetime.timedelta(hours=-5)
    assert mapping.rfc2822("") is None
    with pytest.raises(mapping.MappingError):
        mapping.rfc2822("2026-03-14")
    assert mapping.format_rfc2822(datetime.datetime(2026, 3, 14, 14, 21, 9, tzinfo=UTC)) == (
        "Sat, 14 Mar 2026 14:21:09 +0000"
    )


@pytest.mark.parametrize(
    ("status_id", "outcome"),
    [
        (0, mapping.WAIT),
        (1, mapping.WAIT),
        (7, mapping.WAIT),
        (12, mapping.WAIT),
        (99, mapping.WAIT),
        (11, mapping.IMPORT),
        (9, mapping.IMPORT),
        (8, mapping.IMPORT),
        (2, mapping.IMPORT),
        (3, mapping.IMPORT),
        (10, mapping.IMPORT),
        (13, mapping.IMPORT),
        (4, mapping.IMPORT),
        (14, mapping.IMPORT),
        (5, mapping.CANCEL),
        (6, mapping.CANCEL),
    ],
)
def test_status_ids_decide_whether_the_order_is_imported_confirmed_or_cancelled(raw, status_id, outcome):
    assert mapping.status_of({**raw, "status_id": status_id}) == (status_id, outcome)


def test_a_cancelled_or_declined_order_is_a_cancel(raw):
    for status_id, status in ((5, "Cancelled"), (6, "Declined")):
        item = mapping.order_item(
            {**raw, "status_id": status_id, "status": status}, sample("v2_order_products_response.json")
        )
        assert item.action == Action.CANCEL
        assert item.record.cancelled_at == datetime.datetime(2026, 3, 14, 14, 21, 9, tzinfo=UTC)
        assert item.record.cancel_reason == status


def test_an_order_not_payable_yet_carries_nothing_to_import(raw):
    item = mapping.waiting_item({**raw, "status_id": 7})
    assert (item.object_type, item.external_id, item.action, item.record) == (
        "order",
        "250",
        Action.DELETE,
        None,
    )


def test_tax_inclusive_prices_use_the_gross_amounts(raw):
    raw = {**raw, "is_tax_inclusive_pricing": True}
    order = record(raw)
    assert order.prices_include_tax is True
    assert order.lines[0].unit_price == Decimal("263.94")
    assert order.totals.subtotal == Decimal("643.42") - Decimal("10")


def test_handling_and_taxed_shipping_are_shipping_lines(raw):
    raw = {
        **raw,
        "shipping_cost_ex_tax": "10.0000",
        "shipping_cost_inc_tax": "10.6000",
        "shipping_cost_tax": "0.6000",
        "handling_cost_ex_tax": "2.5000",
        "handling_cost_inc_tax": "2.5000",
    }
    order = record(raw)
    ship, handling = order.shipping
    assert (ship.amount, [(t.rate, t.amount) for t in ship.taxes]) == (
        Decimal("10"),
        [(Decimal("0.06"), Decimal("0.6"))],
    )
    assert (handling.title, handling.amount) == ("Handling", Decimal("2.5"))
    assert order.totals.shipping == Decimal("12.50")


def test_a_guest_has_no_customer_record(raw):
    assert record({**raw, "customer_id": 0}).customer is None


def test_a_bundles_children_are_not_lines(raw):
    products = copy.deepcopy(sample("v2_order_products_response.json"))
    products[1]["parent_order_product_id"] = 401
    assert [ln.external_id for ln in record(raw, products=products).lines] == ["401"]


def test_a_shipment_made_in_the_admin_comes_with_its_tracking(raw):
    shipped = {
        "id": 12,
        "order_id": 250,
        "order_address_id": 151,
        "date_created": "Sun, 15 Mar 2026 10:00:00 +0000",
        "tracking_number": "9400111899223197428490",
        "shipping_method": "Flat Rate",
        "shipping_provider": "",
        "tracking_carrier": "usps",
        "tracking_link": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490",
        "comments": "",
        "items": [{"order_product_id": 401, "product_id": 112, "quantity": 1}],
    }
    [shipment] = record(raw, shipments=[shipped]).shipments
    assert (shipment.external_id, shipment.order_external_id, shipment.carrier) == ("12", "250", "usps")
    assert shipment.tracking_number == "9400111899223197428490"
    assert shipment.tracking_url.startswith("https://tools.usps.com/")
    assert shipment.created_at == datetime.datetime(2026, 3, 15, 10, tzinfo=UTC)
    assert [(ln.line_external_id, ln.quantity) for ln in shipment.lines] == [("401", Decimal(1))]


def test_refunds_carry_their_product_lines_and_the_money_paid_back(raw):
    products = copy.deepcopy(sample("v2_order_products_response.json"))
    products[0]["quantity_shipped"] = 1
    refunded = {
        "id": 3,
        "order_id": 250,
        "created": "2026-03-16T09:30:00+00:00",
        "reason": "Damaged",
        "total_amount": 263.94,
        "items": [
            {"item_type": "PRODUCT", "item_id": 401, "quantity": 1, "requested_amount": None},
            {"item_type": "PRODUCT", "item_id": 402, "quantity": 1, "requested_amount": None},
            {"item_type": "SHIPPING", "item_id": 151, "quantity": 1, "requested_amount": "9.95"},
        ],
        "payments": [
            {"id": 1, "provider_id": "testgateway", "amount": 263.94, "offline": False, "is_declined": False},
            {"id": 2, "provider_id": "testgateway", "amount": 5.0, "offline": False, "is_declined": True},
        ],
    }
    [refund] = record(raw, products=products, refunds=[refunded]).refunds
    assert (refund.external_id, refund.amount, refund.note) == ("3", Decimal("263.94"), "Damaged")
    assert refund.created_at == datetime.datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
    assert [(ln.line_external_id, ln.quantity, ln.restock) for ln in refund.lines] == [
        ("401", Decimal(1), Restock.NONE),
        ("402", Decimal(1), Restock.CANCEL),
    ]


def test_catalog_variants_map_to_variants_linked_by_sku():
    [raw_variant] = sample("v3_catalog_variants_by_sku_response.json")["data"]
    product = mapping.product(
        {
            "id": 112,
            "name": "Trail Tent 2P",
            "date_modified": "2026-03-14T14:21:07+00:00",
            "is_visible": True,
            "variants": [raw_variant],
        }
    )
    assert (product.external_id, product.title, product.status) == ("112", "Trail Tent 2P", "active")
    assert product.updated_at == datetime.datetime(2026, 3, 14, 14, 21, 7, tzinfo=UTC)
    [variant] = product.variants
    assert (variant.external_id, variant.sku, variant.title) == ("77", "TENT-2P-GRN", "Trail Tent 2P - Green")
    assert (variant.price, variant.extra) == (Decimal("249.0"), {"product_id": 112})


def test_unreadable_payloads_are_mapping_errors(raw):
    with pytest.raises(mapping.MappingError):
        record({**raw, "id": None})
    with pytest.raises(mapping.MappingError):
        record({**raw, "total_inc_tax": "12,00"})
    with pytest.raises(mapping.MappingError):
        record({**raw, "status_id": None})
