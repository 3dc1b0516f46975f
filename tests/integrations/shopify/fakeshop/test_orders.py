"""The fake Shopify's admin: fulfilments, refunds and order edits made by the merchant, and
taxes-included shops."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from integrations.models import InboundEvent, InboundStatus
from integrations.records import Restock
from integrations.shopify import mapping
from integrations.shopify.fake import (
    LOCATION_ID,
    FakeShopify,
)
from sales.models import SalesOrder
from tests.integrations.shopify.fakeshop.support import (
    line_ids,
    rest,
)
from tests.integrations.shopify.scenario import deliver, shopify_connection, stocked_store

# --- fulfilments made in the admin -----------------------------------------------------------------


def test_fulfilling_in_the_admin_records_a_rest_fulfilment_and_updates_the_order(fake, order, clock):
    lines = line_ids(order)

    first = fake.fulfil_order(
        order["id"], {lines["SLBAG-20F-REG"]: 1}, tracking_number="1ZFIRST", tracking_company="UPS"
    )

    assert first["order_id"] == order["id"]
    assert (first["status"], first["service"], first["name"]) == ("success", "manual", "#1043.1")
    assert first["created_at"] == first["updated_at"] == "2026-05-04T10:05:00-04:00"
    assert (first["tracking_company"], first["tracking_number"], first["tracking_numbers"]) == (
        "UPS",
        "1ZFIRST",
        ["1ZFIRST"],
    )
    assert first["tracking_url"] == "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1ZFIRST"
    assert first["tracking_urls"] == [first["tracking_url"]]
    assert [(li["id"], li["quantity"]) for li in first["line_items"]] == [(lines["SLBAG-20F-REG"], 1)]
    now = fake.order(order["id"])
    bag = next(li for li in now["line_items"] if li["sku"] == "SLBAG-20F-REG")
    assert (bag["fulfillable_quantity"], bag["fulfillment_status"], bag["current_quantity"]) == (
        1,
        "partial",
        2,
    )
    assert now["fulfillment_status"] == "partial"
    assert now["updated_at"] == "2026-05-04T10:05:00-04:00"

    clock.tick(minutes=1)
    rest_of_it = fake.fulfil_order(
        order["id"], tracking_number="9400100000000000000000", tracking_company="USPS"
    )

    assert rest_of_it["name"] == "#1043.2"
    assert sorted((li["sku"], li["quantity"]) for li in rest_of_it["line_items"]) == [
        ("SLBAG-20F-REG", 1),
        ("STOVE-TI-01", 1),
        ("TENT-2P-GRN", 1),
    ]
    now = fake.order(order["id"])
    assert now["fulfillment_status"] == "fulfilled"
    assert {li["fulfillment_status"] for li in now["line_items"]} == {"fulfilled"}
    assert [f["id"] for f in now["fulfillments"]] == [first["id"], rest_of_it["id"]]
    http = rest(fake)
    assert http.get(f"/orders/{order['id']}/fulfillments.json").json()["fulfillments"] == now["fulfillments"]
    assert http.get(f"/orders/{order['id']}/fulfillments/{first['id']}.json").json()["fulfillment"] == first
    [fulfilment_order] = http.get(f"/orders/{order['id']}/fulfillment_orders.json").json()[
        "fulfillment_orders"
    ]
    assert fulfilment_order["status"] == "closed"
    with pytest.raises(ValueError, match="fulfil"):
        fake.fulfil_order(order["id"])


def test_the_hub_reads_a_fulfilment_made_in_the_admin(fake, order):
    fake.fulfil_order(order["id"], tracking_number="1ZALL", tracking_company="UPS")

    [shipment] = mapping.order(fake.order(order["id"])).shipments

    assert (shipment.carrier, shipment.service, shipment.tracking_number) == ("UPS", "", "1ZALL")
    assert sorted(line.quantity for line in shipment.lines) == [D(1), D(1), D(2)]


# --- refunds and order edits -------------------------------------------------------------------------


def test_a_refund_with_restock_pays_back_the_line_and_puts_the_goods_back(fake, order, clock):
    lines = line_ids(order)
    fake.fulfil_order(order["id"], tracking_number="1ZALL", tracking_company="UPS")
    bags = fake.available("SLBAG-20F-REG")
    clock.tick(days=2)

    refund = fake.refund_order(order["id"], {lines["SLBAG-20F-REG"]: 1}, note="Arrived damaged")

    [item] = refund["refund_line_items"]
    assert (item["line_item_id"], item["quantity"], item["restock_type"], item["location_id"]) == (
        lines["SLBAG-20F-REG"],
        1,
        "return",
        LOCATION_ID,
    )
    assert (item["subtotal"], item["total_tax"]) == (179.0, 10.74)  # numbers, as REST refund lines have
    assert item["subtotal_set"]["shop_money"] == {"amount": "179.00", "currency_code": "USD"}
    assert item["line_item"]["sku"] == "SLBAG-20F-REG"
    [transaction] = refund["transactions"]
    assert (transaction["kind"], transaction["status"], transaction["amount"]) == (
        "refund",
        "success",
        "189.74",
    )
    assert refund["processed_at"] == refund["created_at"] == "2026-05-06T10:05:00-04:00"
    assert (refund["note"], refund["restock"], refund["order_id"]) == ("Arrived damaged", True, order["id"])
    assert fake.available("SLBAG-20F-REG") == bags + 1
    now = fake.order(order["id"])
    bag = next(li for li in now["line_items"] if li["sku"] == "SLBAG-20F-REG")
    assert (bag["quantity"], bag["current_quantity"]) == (2, 1)
    assert now["financial_status"] == "partially_refunded"
    assert (now["total_price"], now["current_total_price"]) == (order["total_price"], "526.17")
    assert (now["current_subtotal_price"], now["current_total_tax"]) == ("487.00", "29.22")
    assert now["updated_at"] == "2026-05-06T10:05:00-04:00"
    assert now["refunds"] == [refund]
    http = rest(fake)
    assert http.get(f"/orders/{order['id']}/refunds.json").json() == {"refunds": [refund]}
    assert http.get(f"/orders/{order['id']}/refunds/{refund['id']}.json").json() == {"refund": refund}
    assert http.get(f"/orders/{order['id']}/refunds/1.json").status_code == 404
    [record] = mapping.order(now).refunds
    assert (record.amount, [(ln.quantity, ln.restock) for ln in record.lines]) == (
        D("189.74"),
        [(D(1), Restock.RETURN)],
    )


def test_refunding_everything_makes_the_order_refunded_with_nothing_left(fake, order):
    fake.fulfil_order(order["id"])

    fake.refund_order(order["id"], {li["id"]: li["quantity"] for li in order["line_items"]}, amount="715.91")

    now = fake.order(order["id"])
    assert now["financial_status"] == "refunded"
    assert (now["current_subtotal_price"], now["current_total_tax"]) == ("0.00", "0.00")
    assert now["current_total_price"] == "9.95"  # the shipping was not refunded
    assert {li["current_quantity"] for li in now["line_items"]} == {0}


def test_restock_types_follow_what_was_shipped(fake, order):
    lines = line_ids(order)
    stoves = fake.available("STOVE-TI-01")

    with pytest.raises(ValueError, match="shipped"):
        fake.refund_order(order["id"], {lines["STOVE-TI-01"]: 1}, restock_type="return")  # nothing shipped
    cancel = fake.refund_order(order["id"], {lines["STOVE-TI-01"]: 1}, restock_type="cancel", amount="62.54")
    kept = fake.refund_order(order["id"], {lines["TENT-2P-GRN"]: 1}, restock_type="no_restock", amount="0")

    assert cancel["refund_line_items"][0]["restock_type"] == "cancel"
    assert fake.available("STOVE-TI-01") == stoves + 1
    assert kept["transactions"] == []
    assert kept["refund_line_items"][0]["location_id"] is None
    now = fake.order(order["id"])
    by_sku = {li["sku"]: li for li in now["line_items"]}
    assert (by_sku["STOVE-TI-01"]["fulfillable_quantity"], by_sku["TENT-2P-GRN"]["fulfillable_quantity"]) == (
        0,
        0,
    )
    with pytest.raises(ValueError, match="restock_type"):
        fake.refund_order(order["id"], {lines["SLBAG-20F-REG"]: 1}, restock_type="legacy_restock")


def test_an_order_edit_removes_unfulfilled_units_as_a_cancel_refund_without_money(fake, order, clock):
    lines = line_ids(order)
    bags = fake.available("SLBAG-20F-REG")
    clock.tick(hours=1)

    edited = fake.edit_order(order["id"], {lines["SLBAG-20F-REG"]: 1})

    bag = next(li for li in edited["line_items"] if li["sku"] == "SLBAG-20F-REG")
    assert (bag["quantity"], bag["current_quantity"], bag["fulfillable_quantity"]) == (2, 1, 1)
    [removal] = edited["refunds"]
    assert [(i["line_item_id"], i["quantity"], i["restock_type"]) for i in removal["refund_line_items"]] == [
        (lines["SLBAG-20F-REG"], 1, "cancel")
    ]
    assert removal["transactions"] == []
    assert fake.available("SLBAG-20F-REG") == bags + 1
    assert edited["total_price"] == order["total_price"] == "715.91"  # what was sold
    assert edited["current_total_price"] == "526.17"  # 715.91 - 179.00 - 10.74
    assert edited["current_subtotal_price"] == "487.00"
    assert edited["financial_status"] == "paid"
    assert edited["updated_at"] == "2026-05-04T11:05:00-04:00"
    fo_lines = (
        rest(fake).get(f"/orders/{order['id']}/fulfillment_orders.json").json()["fulfillment_orders"][0]
    )
    bag_fo = next(li for li in fo_lines["line_items"] if li["line_item_id"] == lines["SLBAG-20F-REG"])
    assert (bag_fo["quantity"], bag_fo["fulfillable_quantity"]) == (1, 1)
    shipped = fake.fulfil_order(order["id"])  # what is left ships
    assert sorted(li["quantity"] for li in shipped["line_items"]) == [1, 1, 1]
    with pytest.raises(ValueError, match="unfulfilled"):
        fake.edit_order(order["id"], {lines["TENT-2P-GRN"]: 1})


def test_cancelling_a_paid_order_refunds_it_and_restocks_once(fake, order):
    tents = fake.available("TENT-2P-GRN")

    cancelled = fake.cancel_order(order["id"], reason="customer")

    [refund] = cancelled["refunds"]
    assert sorted((i["quantity"], i["restock_type"]) for i in refund["refund_line_items"]) == [
        (1, "cancel"),
        (1, "cancel"),
        (2, "cancel"),
    ]
    assert [t["amount"] for t in refund["transactions"]] == ["715.91"]
    assert cancelled["financial_status"] == "refunded"
    assert {(li["current_quantity"], li["fulfillable_quantity"]) for li in cancelled["line_items"]} == {
        (0, 0)
    }
    assert fake.available("TENT-2P-GRN") == tents + 1
    unpaid = fake.cancel_order(fake.create_order([("STOVE-TI-01", 1)], financial_status="pending")["id"])
    assert (unpaid["financial_status"], unpaid["refunds"]) == ("voided", [])


def test_refunds_can_be_created_through_rest_too(fake, order):
    lines = line_ids(order)
    fake.fulfil_order(order["id"])
    body = {
        "refund": {
            "note": "Wrong size",
            "refund_line_items": [
                {"line_item_id": lines["TENT-2P-GRN"], "quantity": 1, "restock_type": "return"}
            ],
            "transactions": [{"kind": "refund", "gateway": "shopify_payments", "amount": "253.94"}],
        }
    }

    created = rest(fake).post(f"/orders/{order['id']}/refunds.json", json=body)
    too_many = rest(fake).post(f"/orders/{order['id']}/refunds.json", json=body)

    assert created.status_code == 201
    assert created.json()["refund"]["transactions"][0]["amount"] == "253.94"
    assert created.json()["refund"]["note"] == "Wrong size"
    assert too_many.status_code == 422
    assert "refund_line_items" in too_many.json()["errors"]


# --- taxes-included shops ------------------------------------------------------------------------------


def test_a_taxes_included_shop_prices_its_orders_with_the_tax_in():
    fake = FakeShopify(taxes_included=True)

    order = fake.create_order([("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)], discount="10")
    shop = rest(fake).get("/shop.json").json()["shop"]

    assert shop["taxes_included"] is True
    assert order["taxes_included"] is True
    # tax = price - price / 1.06 per line: (498 - 10) -> 27.62, 59 -> 3.34
    assert [li["tax_lines"][0]["price"] for li in order["line_items"]] == ["27.62", "3.34"]
    assert (order["subtotal_price"], order["total_tax"], order["total_price"]) == (
        "547.00",
        "30.96",
        "556.95",
    )
    assert FakeShopify().create_order([("STOVE-TI-01", 1)])["taxes_included"] is False
    fake.taxes_included = False
    assert fake.create_order([("STOVE-TI-01", 1)])["total_tax"] == "3.54"


def test_the_hub_imports_a_taxes_included_order_with_shopifys_totals(
    client, db, shop, django_capture_on_commit_callbacks
):
    connection = shopify_connection(stocked_store())
    shop.taxes_included = True
    placed = shop.create_order([("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2)])
    assert (placed["subtotal_price"], placed["total_tax"], placed["total_price"]) == (
        "607.00",
        "34.35",
        "616.95",
    )

    deliver(client, connection, shop.webhook("orders/create", placed), django_capture_on_commit_callbacks)

    assert InboundEvent.objects.get().status == InboundStatus.PROCESSED
    order = SalesOrder.objects.get()
    assert order.prices_include_tax is True
    assert (order.tax_total, order.total) == (D("34.35"), D("616.95"))
    assert sorted(order.lines.values_list("tax_amount", flat=True)) == [D("14.09"), D("20.26")]
