"""The fake BigCommerce's orders and stock as a shopper and the merchant change them, and its snapshot."""

from __future__ import annotations

import datetime

import pytest

from integrations.bigcommerce.fake import FakeBigCommerce, OutOfStock
from integrations.bigcommerce.fake_data import sample
from integrations.fakes.clock import SimClock


def start() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC))


def test_a_new_order_has_the_samples_shape_four_decimal_money_and_rfc_2822_dates():
    fake = FakeBigCommerce(clock=start())

    order = fake.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2)], discount="10")
    products = fake.order_products(order["id"])

    assert set(order) == set(sample("v2_order_get_response.json"))
    assert set(products[0]) == set(sample("v2_order_products_response.json")[0])
    assert (order["subtotal_ex_tax"], order["total_inc_tax"], order["total_tax"]) == (
        "607.0000",
        "643.3700",
        "36.4200",
    )
    assert order["date_created"] == "Sat, 14 Mar 2026 15:00:00 +0000"
    assert [(p["sku"], p["quantity"], p["price_inc_tax"]) for p in products] == [
        ("TENT-2P-GRN", 1, "263.9400"),
        ("SLBAG-20F-REG", 2, "189.7400"),
    ]


def test_a_customer_order_takes_stock_at_its_location_and_beyond_stock_is_refused_by_default():
    fake = FakeBigCommerce(clock=start())

    fake.create_order([("SLBAG-20F-REG", 5)])
    with pytest.raises(OutOfStock):
        fake.create_order([("SLBAG-20F-REG", 8)])
    fake.allow_backorders = True
    fake.create_order([("SLBAG-20F-REG", 8)])

    assert fake.stock("SLBAG-20F-REG", 1) == 12 - 5 - 8
    assert fake.stock("SLBAG-20F-REG", 2) == 4


def test_cancelling_puts_the_unshipped_units_back_once():
    fake = FakeBigCommerce(clock=start())
    order = fake.create_order([("TENT-2P-ORG", 3)])
    fake.ship_order(order["id"], {"TENT-2P-ORG": 1})

    fake.cancel_order(order["id"])
    fake.update_status(order["id"], 5)

    assert fake.order(order["id"])["status"] == "Cancelled"
    assert fake.stock("TENT-2P-ORG", 1) == 18 - 3 + 2


def test_refunds_move_the_status_and_refunded_amount():
    fake = FakeBigCommerce(clock=start())

    partial = fake.refund_order(250, {"SLBAG-20F-REG": 1}, restock=True)
    middle = fake.order(250)
    fake.refund_order(250)
    done = fake.order(250)
    products = fake.order_products(250)

    assert partial["total_amount"] == 189.74
    assert (middle["status_id"], middle["refunded_amount"], middle["payment_status"]) == (
        14,
        "189.7400",
        "partially refunded",
    )
    assert (done["status_id"], done["status"], done["refunded_amount"]) == (4, "Refunded", "643.3700")
    assert [(p["quantity_refunded"], p["is_refunded"]) for p in products] == [(1, True), (2, True)]
    assert fake.stock("SLBAG-20F-REG", 1) == 13


def test_an_archived_order_leaves_the_list():
    fake = FakeBigCommerce(clock=start())

    fake.archive_order(250)

    assert fake.snapshot()["orders"] == {}
    assert fake.order(250)["is_deleted"] is True


def test_the_snapshot_has_the_fake_shopifys_shape():
    clock = start()
    fake = FakeBigCommerce(clock=clock)
    order = fake.create_order([("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)])
    fake.ship_order(order["id"], {"TENT-2P-GRN": 2}, tracking_number="1Z999")
    fake.refund_order(order["id"], {"STOVE-TI-01": 1}, restock=True)
    fake.set_stock("TENT-2P-ORG", 2, 11)

    snapshot = fake.snapshot()
    only = fake.snapshot(order_ids=[order["id"]])

    assert snapshot["tool"] == "bigcommerce"
    assert snapshot["at"] == "2026-03-14T15:00:00+00:00"
    assert list(only["orders"]) == [str(order["id"])]
    entry = snapshot["orders"][str(order["id"])]
    assert entry == {
        "name": str(order["id"]),
        "status_id": 14,
        "cancelled": False,
        "financial_status": "partially_refunded",
        "fulfillment_status": "partial",
        "current_total_price": "537.83",  # 600.37 total - 62.54 refunded
        "lines": {
            "TENT-2P-GRN": {"quantity": 2, "current_quantity": 2, "fulfilled": 2, "refunded": 0},
            "STOVE-TI-01": {"quantity": 1, "current_quantity": 0, "fulfilled": 0, "refunded": 1},
        },
        "tracking_numbers": ["1Z999"],
        "refunds": [
            {
                "id": "1",
                "amount": "62.54",
                "lines": {"STOVE-TI-01": 1},
                "restocked": {"STOVE-TI-01": 1},
                "returned": {},  # restocked, but it never shipped: nothing came back
            }
        ],
    }
    assert snapshot["orders"]["250"]["financial_status"] == "paid"
    assert snapshot["stock"]["TENT-2P-GRN"] == {"1": 40, "2": 10}
    assert snapshot["stock"]["STOVE-TI-01"] == {"1": 15, "2": 5}
    assert snapshot["stock"]["TENT-2P-ORG"] == {"1": 18, "2": 11}
