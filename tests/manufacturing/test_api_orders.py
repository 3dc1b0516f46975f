"""Manufacturing orders through the API: confirmed short, produced in runs, finished, cancelled, refused."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from inventory.models import Reservation, StockLevel
from inventory.services import stock_issue
from manufacturing.models import ManufacturingOrder
from tests.inventory.factories import bin_of, warehouse
from tests.manufacturing.api_support import (
    Api,
    api_fixture,  # noqa: F401  (a fixture)
    field_errors,
    ok,
    parts_fixture,  # noqa: F401  (a fixture)
    wheel_bom_fixture,  # noqa: F401  (a fixture)
)
from tests.manufacturing.factories import stock

pytestmark = pytest.mark.django_db


def components_of(order: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["sku"]: (c["required"], c["reserved"], c["consumed"]) for c in order["components"]}


def test_an_order_is_confirmed_with_shortages_produced_in_two_runs_and_finished(api: Api, parts, wheel_bom):
    # given: only 3 rims for 4 wheels
    ok(api.post("/orders", {"sku": "RIM", "quantity": 1, "warehouse": warehouse().pk}), 422)  # no BOM
    stock_issue(product=parts["rim"], location=bin_of(warehouse()), quantity=17)

    # when: a draft for 4 wheels
    created = ok(api.post("/orders", {"sku": "WHEEL", "quantity": 4, "warehouse": warehouse().pk}), 201)

    # then: the components come from the BOM, scrap included (140.8 spokes up to whole ones)
    assert (created["status"], created["bom"], created["bom_version"]) == ("draft", wheel_bom["id"], 1)
    assert created["number"].startswith("MO-")
    assert components_of(created) == {
        "RIM": ("4.0000", "0.0000", "0.0000"),
        "SPOKE": ("141.0000", "0.0000", "0.0000"),
    }
    assert created["allowed_actions"] == ["confirm", "cancel"]
    assert (
        created["planned_finish"]
        == (datetime.date.fromisoformat(created["planned_start"]) + datetime.timedelta(days=2)).isoformat()
    )
    mo = f"/orders/{created['id']}"

    # when: confirmed
    confirmed = ok(api.post(f"{mo}/confirm"))

    # then: one rim short
    assert confirmed["shortages"] == [{"sku": "RIM", "quantity": "1.0000"}]
    order = confirmed["order"]
    assert order["status"] == "confirmed"
    assert components_of(order) == {
        "RIM": ("4.0000", "3.0000", "0.0000"),
        "SPOKE": ("141.0000", "141.0000", "0.0000"),
    }
    assert order["allowed_actions"] == ["start", "produce", "cancel"]

    # when: 1 of 4 produced
    first = ok(api.post(f"{mo}/produce", {"quantity": 1}))

    # then: a quarter of each component consumed (reserved stock first); the order is in progress
    assert (first["status"], first["quantity_produced"]) == ("in_progress", "1.0000")
    assert components_of(first) == {
        "RIM": ("4.0000", "2.0000", "1.0000"),
        "SPOKE": ("141.0000", "105.0000", "36.0000"),
    }
    assert first["allowed_actions"] == ["produce", "finish", "cancel"]
    assert first["produced_cost"] == "41.60"  # rim 8 + 36 spokes x 0.10 + 30 of lacing

    # when: the missing rim arrives, and the other 3 are produced
    stock(parts["rim"], 1, "8.00")
    rest = ok(api.post(f"{mo}/produce", {"quantity": "3"}))

    # then
    assert (rest["status"], rest["quantity_produced"], rest["produced_cost"]) == (
        "in_progress",
        "4.0000",
        "166.10",
    )
    assert components_of(rest) == {
        "RIM": ("4.0000", "0.0000", "4.0000"),
        "SPOKE": ("141.0000", "0.0000", "141.0000"),
    }
    too_many = api.post(f"{mo}/produce", {"quantity": 1})
    assert (too_many.status_code, field_errors(too_many)) == (422, {"quantity": "Too many."})

    # when: finished
    done = ok(api.post(f"{mo}/finish"))

    # then
    assert (done["status"], done["allowed_actions"]) == ("done", [])
    assert StockLevel.objects.get(product=parts["wheel"], location=bin_of(warehouse())).on_hand == 4
    assert not Reservation.objects.filter(status="active").exists()
    listed = ok(api.get("/orders", status="done"))["items"]
    assert [(o["number"], o["quantity_produced"]) for o in listed] == [(created["number"], "4.0000")]
    assert ok(api.get("/orders", status="open"))["count"] == 0


def test_cancelling_a_confirmed_order_releases_its_reservations(api: Api, parts, wheel_bom):
    created = ok(
        api.post("/orders", {"product": parts["wheel"].pk, "quantity": 2, "warehouse": warehouse().pk}), 201
    )
    confirmed = ok(api.post(f"/orders/{created['id']}/confirm"))
    assert confirmed["shortages"] == []
    assert StockLevel.objects.get(product=parts["rim"], location=bin_of(warehouse())).reserved == 2

    cancelled = ok(api.post(f"/orders/{created['id']}/cancel", {"reason": "order withdrawn"}))

    assert cancelled["status"] == "cancelled"
    assert "Cancelled: order withdrawn" in cancelled["notes"]
    assert {sku: reserved for sku, (_, reserved, _) in components_of(cancelled).items()} == {
        "RIM": "0.0000",
        "SPOKE": "0.0000",
    }
    assert StockLevel.objects.get(product=parts["rim"], location=bin_of(warehouse())).reserved == 0
    assert StockLevel.objects.get(product=parts["spoke"], location=bin_of(warehouse())).reserved == 0
    assert not Reservation.objects.filter(status="active").exists()


def test_an_illegal_transition_is_409_naming_both_states(api: Api, parts, wheel_bom):
    created = ok(api.post("/orders", {"sku": "WHEEL", "quantity": 1, "warehouse": warehouse().pk}), 201)
    mo = f"/orders/{created['id']}"

    started = api.post(f"{mo}/start")
    finished = api.post(f"{mo}/finish")
    produced = api.post(f"{mo}/produce", {"quantity": 1})

    assert started.status_code == 409
    body = started.json()
    assert body["detail"] == "A manufacturing order cannot go from 'draft' to 'in_progress'."
    assert (body["current"], body["target"]) == ("draft", "in_progress")
    assert finished.status_code == 409
    assert "'draft' to 'done'" in finished.json()["detail"]
    assert produced.status_code == 409
    assert "'draft' to 'produced'" in produced.json()["detail"]
    ok(api.post(f"{mo}/cancel"))
    again = api.post(f"{mo}/confirm")
    assert again.status_code == 409
    assert "'cancelled' to 'confirmed'" in again.json()["detail"]
    assert ManufacturingOrder.objects.get(pk=created["id"]).status == "cancelled"
    assert api.post("/orders/999999/confirm").status_code == 404


def test_order_references_are_checked(api: Api, parts, wheel_bom):
    wh = warehouse().pk
    unknown_warehouse = api.post("/orders", {"sku": "WHEEL", "quantity": 1, "warehouse": 999999})
    unknown_bom = api.post("/orders", {"sku": "WHEEL", "quantity": 1, "warehouse": wh, "bom": 999999})
    neither = api.post("/orders", {"quantity": 1, "warehouse": wh})
    zero = api.post("/orders", {"sku": "WHEEL", "quantity": 0, "warehouse": wh})
    late = api.post(
        "/orders",
        {
            "sku": "WHEEL",
            "quantity": 1,
            "warehouse": wh,
            "planned_start": "2030-01-10",
            "planned_finish": "2030-01-09",
        },
    )

    assert (unknown_warehouse.status_code, field_errors(unknown_warehouse)) == (
        404,
        {"warehouse": "No warehouse with id 999999."},
    )
    assert (unknown_bom.status_code, field_errors(unknown_bom)) == (
        404,
        {"bom": "No bill of materials with id 999999."},
    )
    assert (neither.status_code, field_errors(neither)) == (
        422,
        {"product": "Give the product id or its SKU, one of the two."},
    )
    assert (zero.status_code, field_errors(zero)) == (422, {"quantity": "Must be positive."})
    assert (late.status_code, field_errors(late)) == (422, {"planned_finish": "Too early."})
    assert ManufacturingOrder.objects.count() == 0
