"""The inventory API's stock operations: receipts, issues, reservations, transfers, counts, the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from inventory.models import CountSheet, LocationKind, MoveKind, StockLevel, StockMove, Transfer
from inventory.services import lot_get_or_create, stock_receive, virtual_location
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


class Api:
    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Warehouse"])))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def on_hand(product, location, lot=None) -> Decimal:
    level = StockLevel.objects.filter(product=product, location=location, lot=lot).first()
    return level.on_hand if level else Decimal(0)


def test_receipt_then_levels_reservation_consume_and_the_moves(api: Api):
    # given
    wh = warehouse("WH1")
    stock = bin_of(wh)
    product = ProductFactory(sku="BOLT")

    # when: 10 received at 2.50
    receipt = api.post(
        "/receipts",
        {
            "product": product.pk,
            "location": stock.pk,
            "quantity": "10",
            "unit_cost": "2.5",
            "reference": "OPEN-1",
        },
    )

    # then
    assert receipt.status_code == 201, receipt.content
    assert receipt.json()["kind"] == "receipt"
    assert receipt.json()["unit_cost"] == "2.50"  # money: minor-unit digits (erp.api_helpers)
    assert receipt.json()["from_location_path"] == "Partners/Suppliers"
    levels = api.get("/levels", product=product.pk).json()
    assert [
        (lv["location_path"], lv["warehouse_code"], lv["on_hand"], lv["available"]) for lv in levels["items"]
    ] == [("WH1/Stock", "WH1", "10.0000", "10.0000")]

    # when: 4 reserved for an order line
    reserved = api.post(
        "/reservations",
        {
            "product": product.pk,
            "warehouse": wh.pk,
            "quantity": 4,
            "demand_type": "sales.orderline",
            "demand_id": "77",
            "reference": "SO-77",
        },
    )

    # then
    assert reserved.status_code == 201, reserved.content
    assert (reserved.json()["requested"], reserved.json()["reserved"]) == ("4.0000", "4.0000")
    [held] = reserved.json()["reservations"]
    assert (held["status"], held["location_path"], held["quantity"]) == ("active", "WH1/Stock", "4.0000")
    [level] = api.get("/levels", product=product.pk).json()["items"]
    assert (level["on_hand"], level["reserved"], level["available"]) == ("10.0000", "4.0000", "6.0000")
    listed = api.get("/reservations", demand_type="sales.orderline", demand_id="77", status="active").json()
    assert [r["id"] for r in listed["items"]] == [held["id"]]

    # when: what is held is consumed (shipped)
    consumed = api.post(f"/reservations/{held['id']}/consume")

    # then
    assert consumed.status_code == 201, consumed.content
    assert consumed.json()["reservation"]["status"] == "consumed"
    assert consumed.json()["reservation"]["consumed_quantity"] == "4.0000"
    move = consumed.json()["move"]
    assert (move["kind"], move["quantity"], move["to_location_path"]) == (
        "issue",
        "4.0000",
        "Partners/Customers",
    )
    assert (move["document_type"], move["document_id"], move["reference"]) == (
        "sales.orderline",
        "77",
        "SO-77",
    )
    [level] = api.get("/levels", product=product.pk).json()["items"]
    assert (level["on_hand"], level["reserved"], level["available"]) == ("6.0000", "0.0000", "6.0000")
    moves = api.get("/moves", product=product.pk).json()
    assert [(m["kind"], m["quantity"]) for m in moves["items"]] == [
        ("issue", "4.0000"),
        ("receipt", "10.0000"),
    ]
    assert api.get("/moves", reference="OPEN").json()["count"] == 1


def test_negative_stock_is_a_409_naming_product_location_requested_and_available(api: Api):
    # given
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory(sku="WIDGET")
    stock_receive(product=product, location=stock, quantity=3, unit_cost=1)

    # when
    response = api.post("/issues", {"product": product.pk, "location": stock.pk, "quantity": 5})

    # then
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("InsufficientStock")
    for part in ("WIDGET", "WH1/Stock", "5 requested", "3 available"):
        assert part in body["detail"]
    assert on_hand(product, stock) == 3


def test_issue_within_the_available_stock(api: Api):
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory()
    stock_receive(product=product, location=stock, quantity=3, unit_cost=1)

    response = api.post(
        "/issues", {"product": product.pk, "location": stock.pk, "quantity": 2, "reference": "MANUAL-1"}
    )

    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["reference"]) == ("issue", "MANUAL-1")
    assert on_hand(product, stock) == 1


def test_reservation_is_all_or_nothing_unless_partial_and_can_be_released(api: Api):
    # given
    wh = warehouse("WH1")
    product = ProductFactory(sku="NUT")
    stock_receive(product=product, location=bin_of(wh), quantity=3, unit_cost=1)
    ask = {"product": product.pk, "warehouse": wh.pk, "quantity": "5", "demand_type": "x", "demand_id": "1"}

    # when
    refused = api.post("/reservations", ask)
    partial = api.post("/reservations", {**ask, "allow_partial": True})
    held = partial.json()["reservations"][0]["id"]
    released = api.post(f"/reservations/{held}/release", {"quantity": "1"})
    rest = api.post(f"/reservations/{held}/release")
    again = api.post(f"/reservations/{held}/release")

    # then
    assert refused.status_code == 409
    assert "5 requested, 3 available" in refused.json()["detail"]
    assert (partial.json()["requested"], partial.json()["reserved"]) == ("5.0000", "3.0000")
    assert (released.json()["quantity"], released.json()["released_quantity"]) == ("2.0000", "1.0000")
    assert (rest.json()["status"], rest.json()["quantity"]) == ("released", "0.0000")
    assert again.status_code == 422
    assert api.get("/reservations", status="active").json()["count"] == 0
    assert api.get("/reservations", status="released").json()["count"] == 1


def test_receipt_with_a_lot_and_expiry_and_tracked_products_need_one(api: Api):
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory(tracking="lot")

    with_lot = api.post(
        "/receipts",
        {
            "product": product.pk,
            "location": stock.pk,
            "quantity": 5,
            "lot": "L-1",
            "expiry_date": "2030-01-31",
        },
    )
    without = api.post("/receipts", {"product": product.pk, "location": stock.pk, "quantity": 5})

    assert with_lot.status_code == 201, with_lot.content
    assert with_lot.json()["lot_code"] == "L-1"
    assert product.lots.get(code="L-1").expiry_date == date(2030, 1, 31)
    [level] = api.get("/levels", lot=with_lot.json()["lot"]).json()["items"]
    assert (level["lot_code"], level["on_hand"]) == ("L-1", "5.0000")
    assert without.status_code == 422
    assert "lot" in field_errors(without)


def test_quantities_are_quantized_and_whole_units_enforced(api: Api):
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory()

    # JSON numbers are accepted; the service rounds half up to 0.0001
    costly = api.post(
        "/receipts", {"product": product.pk, "location": stock.pk, "quantity": 2, "unit_cost": 1.23456}
    )
    fraction = api.post("/receipts", {"product": product.pk, "location": stock.pk, "quantity": "1.5"})
    nonsense = api.post("/receipts", {"product": product.pk, "location": stock.pk, "quantity": "lots"})

    assert costly.status_code == 201
    assert costly.json()["unit_cost"] == "1.2346"
    assert fraction.status_code == 422
    assert "whole number" in fraction.json()["detail"]
    assert nonsense.status_code == 422
    assert "quantity" in field_errors(nonsense)


def test_unknown_references_are_404_naming_the_field(api: Api):
    product = ProductFactory()

    unknown_location = api.post("/receipts", {"product": product.pk, "location": 999999, "quantity": 1})
    unknown_product = api.post(
        "/issues", {"product": 999999, "location": bin_of(warehouse()).pk, "quantity": 1}
    )

    assert unknown_location.status_code == 404
    assert "location" in field_errors(unknown_location)
    assert unknown_product.status_code == 404
    assert "product" in field_errors(unknown_product)


def test_adjust_to_a_quantity_by_a_delta_and_scrap(api: Api):
    # given
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory()
    stock_receive(product=product, location=stock, quantity=10, unit_cost=1)
    where = {"product": product.pk, "location": stock.pk}

    # when
    set_to = api.post("/adjustments", {**where, "quantity": "7", "reason": "found less"})
    unchanged = api.post("/adjustments", {**where, "quantity": 7, "reason": "recount"})
    delta = api.post("/adjustments", {**where, "delta": "2", "reason": "found more"})
    both = api.post("/adjustments", {**where, "quantity": 1, "delta": 1, "reason": "confused"})
    scrap = api.post("/scrap", {**where, "quantity": 1, "reason": "broken"})

    # then
    assert set_to.status_code == 200, set_to.content
    assert (set_to.json()["move"]["kind"], set_to.json()["move"]["quantity"]) == ("adjustment", "3.0000")
    assert set_to.json()["move"]["to_location_path"] == "Virtual/Inventory adjustment"
    assert set_to.json()["level"]["on_hand"] == "7.0000"
    assert unchanged.json()["move"] is None
    assert delta.json()["level"]["on_hand"] == "9.0000"
    assert both.status_code == 422
    assert scrap.status_code == 201
    assert (scrap.json()["kind"], scrap.json()["reason"]) == ("scrap", "broken")
    assert on_hand(product, stock) == 8


def test_direct_transfer_answers_its_moves(api: Api):
    wh = warehouse("WH1")
    a, b = bin_of(wh, "A"), bin_of(wh, "B")
    product = ProductFactory()
    stock_receive(product=product, location=a, quantity=5, unit_cost=1)

    response = api.post(
        "/transfers",
        {"from_location": a.pk, "to_location": b.pk, "lines": [{"product": product.pk, "quantity": 2}]},
    )

    assert response.status_code == 201, response.content
    [move] = response.json()["moves"]
    assert (move["kind"], move["from_location_path"], move["to_location_path"]) == (
        "transfer",
        "WH1/A",
        "WH1/B",
    )
    assert (on_hand(product, a), on_hand(product, b)) == (3, 2)


def test_two_step_transfer_ships_into_transit_and_is_received(api: Api):
    # given
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    source, destination = bin_of(wh1), bin_of(wh2)
    product = ProductFactory()
    lot_product = ProductFactory(tracking="lot")
    lot = lot_get_or_create(product=lot_product, code="L-9")
    stock_receive(product=product, location=source, quantity=10, unit_cost=1)
    stock_receive(product=lot_product, location=source, quantity=3, unit_cost=1, lot=lot)

    # when
    shipped = api.post(
        "/transfers",
        {
            "from_location": source.pk,
            "to_location": destination.pk,
            "two_step": True,
            "note": "restock east",
            "lines": [
                {"product": product.pk, "quantity": "4"},
                {"product": lot_product.pk, "quantity": 3, "lot": lot.pk},
            ],
        },
    )

    # then: it left the source and waits in transit, counted as incoming at WH2
    assert shipped.status_code == 201, shipped.content
    transfer = shipped.json()
    assert transfer["status"] == "in_transit"
    assert transfer["number"].startswith("TR-")
    assert {(ln["sku"], ln["quantity"], ln["lot_code"]) for ln in transfer["lines"]} == {
        (product.sku, "4.0000", None),
        (lot_product.sku, "3.0000", "L-9"),
    }
    assert on_hand(product, source) == 6
    assert on_hand(product, virtual_location(LocationKind.TRANSIT)) == 4
    incoming = {
        r["warehouse_code"]: r["incoming"] for r in api.get(f"/products/{product.pk}").json()["availability"]
    }
    assert incoming["WH2"] == "4.0000"
    assert [t["id"] for t in api.get("/transfers", status="in_transit").json()["items"]] == [transfer["id"]]

    # when received
    received = api.post(f"/transfers/{transfer['id']}/receive")
    twice = api.post(f"/transfers/{transfer['id']}/receive")

    # then
    assert received.status_code == 200
    assert received.json()["status"] == "done"
    assert received.json()["received_at"] is not None
    assert on_hand(product, destination) == 4
    assert on_hand(lot_product, destination, lot) == 3
    assert on_hand(product, virtual_location(LocationKind.TRANSIT)) == 0
    assert twice.status_code == 409
    assert api.get(f"/transfers/{transfer['id']}").json()["status"] == "done"


def test_a_cancelled_transfer_returns_to_the_source(api: Api):
    source, destination = bin_of(warehouse("WH1")), bin_of(warehouse("WH2"))
    product = ProductFactory()
    stock_receive(product=product, location=source, quantity=5, unit_cost=1)
    shipped = api.post(
        "/transfers",
        {
            "from_location": source.pk,
            "to_location": destination.pk,
            "two_step": True,
            "lines": [{"product": product.pk, "quantity": 5}],
        },
    ).json()

    cancelled = api.post(f"/transfers/{shipped['id']}/cancel")

    assert cancelled.json()["status"] == "cancelled"
    assert on_hand(product, source) == 5
    assert Transfer.objects.get(pk=shipped["id"]).status == "cancelled"


def test_transfer_with_an_unknown_product_changes_nothing(api: Api):
    wh = warehouse("WH1")
    a, b = bin_of(wh, "A"), bin_of(wh, "B")
    product = ProductFactory()
    stock_receive(product=product, location=a, quantity=5, unit_cost=1)

    response = api.post(
        "/transfers",
        {
            "from_location": a.pk,
            "to_location": b.pk,
            "lines": [{"product": product.pk, "quantity": 1}, {"product": 999999, "quantity": 1}],
        },
    )

    assert response.status_code == 404
    assert "lines.1.product" in field_errors(response)
    assert on_hand(product, a) == 5


def test_count_sheet_lines_and_apply_produce_count_adjustments(api: Api):
    # given: the system thinks 10 A and 4 B are in the bin
    stock = bin_of(warehouse("WH1"))
    a, b, c = ProductFactory(sku="A"), ProductFactory(sku="B"), ProductFactory(sku="C")
    stock_receive(product=a, location=stock, quantity=10, unit_cost=1)
    stock_receive(product=b, location=stock, quantity=4, unit_cost=1)

    # when: a prefilled sheet, 8 A counted, B counted right, 2 C found by scanning twice
    created = api.post("/counts", {"location": stock.pk, "prefill": True})
    sheet = created.json()["id"]
    api.post(f"/counts/{sheet}/lines", {"product": a.pk, "counted": "8"})
    api.post(f"/counts/{sheet}/lines", {"product": b.pk, "counted": 4})
    api.post(f"/counts/{sheet}/lines", {"product": c.pk, "counted": 1, "add": True})
    scanned = api.post(f"/counts/{sheet}/lines", {"product": c.pk, "counted": 1, "add": True})
    detail = api.get(f"/counts/{sheet}")

    # then: expected, counted, difference per line
    assert created.status_code == 201, created.content
    assert [(ln["sku"], ln["expected"], ln["counted"]) for ln in created.json()["lines"]] == [
        ("A", "10.0000", None),
        ("B", "4.0000", None),
    ]
    assert scanned.json()["counted"] == "2.0000"
    assert [
        (ln["sku"], ln["expected"], ln["counted"], ln["difference"]) for ln in detail.json()["lines"]
    ] == [
        ("A", "10.0000", "8.0000", "-2.0000"),
        ("B", "4.0000", "4.0000", "0.0000"),
        ("C", "0.0000", "2.0000", "2.0000"),
    ]

    # when applied
    applied = api.post(f"/counts/{sheet}/apply")

    # then: count moves set each level to what was counted
    assert applied.status_code == 200, applied.content
    assert applied.json()["status"] == "applied"
    assert (on_hand(a, stock), on_hand(b, stock), on_hand(c, stock)) == (8, 4, 2)
    counts = api.get("/moves", kind="count").json()["items"]
    assert sorted((m["sku"], m["quantity"], m["reference"]) for m in counts) == [
        ("A", "2.0000", created.json()["number"]),
        ("C", "2.0000", created.json()["number"]),
    ]
    assert api.get("/counts", status="applied").json()["count"] == 1
    late = api.post(f"/counts/{sheet}/lines", {"product": a.pk, "counted": 1})
    assert late.status_code == 409


def test_a_count_sheet_can_be_cancelled(api: Api):
    stock = bin_of(warehouse("WH1"))

    sheet = api.post("/counts", {"location": stock.pk, "prefill": False}).json()
    cancelled = api.post(f"/counts/{sheet['id']}/cancel")
    nothing = api.post(f"/counts/{sheet['id']}/apply", {"zero_uncounted": True})

    assert cancelled.json()["status"] == "cancelled"
    assert nothing.status_code == 409
    assert CountSheet.objects.get(pk=sheet["id"]).status == "cancelled"


def test_reverse_a_move_once(api: Api):
    # given
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory()
    wrong = stock_receive(product=product, location=stock, quantity=10, unit_cost=3)

    # when
    reversal = api.post(f"/moves/{wrong.pk}/reverse", {"reason": "received twice"})
    again = api.post(f"/moves/{wrong.pk}/reverse", {"reason": "again"})
    no_reason = api.post(f"/moves/{reversal.json()['id']}/reverse", {"reason": ""})

    # then
    assert reversal.status_code == 201, reversal.content
    body = reversal.json()
    assert (body["kind"], body["reversal_of"], body["reason"]) == ("reversal", wrong.pk, "received twice")
    assert (body["from_location_path"], body["to_location_path"]) == ("WH1/Stock", "Partners/Suppliers")
    assert on_hand(product, stock) == 0
    assert api.get(f"/moves/{wrong.pk}").json()["reversed_by"] == body["id"]
    assert again.status_code == 422
    assert "already been reversed" in again.json()["detail"]
    assert no_reason.status_code == 422
    assert StockMove.objects.filter(kind=MoveKind.REVERSAL).count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_moves_are_never_updated_or_deleted(api: Api, method: str):
    # given
    move = stock_receive(product=ProductFactory(), location=bin_of(warehouse()), quantity=1, unit_cost=1)

    # when
    response = getattr(api.client, method)(
        f"{BASE}/moves/{move.pk}", {"quantity": "5"}, content_type="application/json", **api.headers
    )

    # then
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert "GET" in response["Allow"]
    assert StockMove.objects.get(pk=move.pk).quantity == 1


def test_moves_cannot_be_posted_directly(api: Api):
    response = api.post("/moves", {"quantity": 1})

    assert response.status_code == 405
    assert response.json()["status"] == 405
