"""The inventory API's planning and control: reorder rules, replenishment, valuation, stock checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import ReorderRule, StockLevel
from inventory.services import (
    Demand,
    Line,
    reorder_rule_set,
    stock_issue,
    stock_receive,
    stock_reserve,
    transfer_ship,
)
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

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self.headers)


@pytest.fixture
def user():
    return UserFactory(username="keeper", roles=["Warehouse"])


@pytest.fixture
def api(user) -> Api:
    return Api(api_key_for(user))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_reorder_rules_are_upserted_listed_and_deleted(api: Api):
    # given
    wh = warehouse("WH1")
    product = ProductFactory(sku="GLUE")
    rule = {"product": product.pk, "warehouse": wh.pk, "min_quantity": "5", "max_quantity": "20"}

    # when
    created = api.post("/reorder-rules", rule)
    changed = api.post("/reorder-rules", {**rule, "max_quantity": 30, "multiple": "6"})
    listed = api.get("/reorder-rules", warehouse=wh.pk)

    # then
    assert created.status_code == 200, created.content
    assert changed.json()["id"] == created.json()["id"]
    assert (changed.json()["min_quantity"], changed.json()["max_quantity"], changed.json()["multiple"]) == (
        "5.0000",
        "30.0000",
        "6.0000",
    )
    assert [(r["sku"], r["warehouse_code"]) for r in listed.json()["items"]] == [("GLUE", "WH1")]

    # when deleted
    deleted = api.delete(f"/reorder-rules/{created.json()['id']}")
    twice = api.delete(f"/reorder-rules/{created.json()['id']}")

    # then
    assert deleted.status_code == 204
    assert twice.status_code == 404
    assert not ReorderRule.objects.exists()


def test_an_inconsistent_rule_is_422_naming_the_field(api: Api):
    wh = warehouse("WH1")
    product = ProductFactory()

    response = api.post(
        "/reorder-rules",
        {"product": product.pk, "warehouse": wh.pk, "min_quantity": 10, "max_quantity": 5},
    )

    assert response.status_code == 422
    assert "max_quantity" in field_errors(response)
    assert not ReorderRule.objects.exists()


def test_replenishment_suggests_up_to_max_in_multiples_from_the_projected_quantity(api: Api):
    # given
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    low, fine, far = ProductFactory(sku="LOW"), ProductFactory(sku="FINE"), ProductFactory(sku="FAR")
    # LOW: 4 on hand, 1 reserved -> projected 3, under min 10
    stock_receive(product=low, location=bin_of(wh1), quantity=4, unit_cost=1)
    stock_reserve(product=low, warehouse=wh1, quantity=1, demand=Demand("sales.orderline", 1))
    reorder_rule_set(product=low, warehouse=wh1, min_quantity=10, max_quantity=50, multiple=12)
    # FINE: 20 on hand, min 10 -> nothing to order
    stock_receive(product=fine, location=bin_of(wh1), quantity=20, unit_cost=1)
    reorder_rule_set(product=fine, warehouse=wh1, min_quantity=10, max_quantity=30)
    # FAR: nothing at WH2 but 5 on their way -> projected 5, under min 6
    stock_receive(product=far, location=bin_of(wh1), quantity=5, unit_cost=1)
    transfer_ship(
        from_location=bin_of(wh1), to_location=bin_of(wh2), lines=[Line(product=far, quantity=Decimal(5))]
    )
    reorder_rule_set(product=far, warehouse=wh2, min_quantity=6, max_quantity=9)

    # when
    everything = api.get("/replenishment")
    in_wh2 = api.get("/replenishment", warehouse=wh2.pk)

    # then
    assert everything.status_code == 200, everything.content
    suggested = {s["rule"]["sku"]: s for s in everything.json()["items"]}
    assert set(suggested) == {"LOW", "FAR"}
    # max 50 - projected 3 = 47, rounded up to a multiple of 12
    assert suggested["LOW"]["quantity"] == "48.0000"
    assert suggested["LOW"]["availability"] == {
        "on_hand": "4.0000",
        "reserved": "1.0000",
        "available": "3.0000",
        "incoming": "0.0000",
        "outgoing": "0.0000",
        "projected": "3.0000",
    }
    assert (suggested["FAR"]["availability"]["incoming"], suggested["FAR"]["quantity"]) == (
        "5.0000",
        "4.0000",
    )
    assert [s["rule"]["sku"] for s in in_wh2.json()["items"]] == ["FAR"]
    unknown = api.get("/replenishment", warehouse=999999)
    assert unknown.status_code == 422
    assert "warehouse" in field_errors(unknown)


@pytest.fixture
def january_and_february(monkeypatch: pytest.MonkeyPatch) -> None:
    """WH1: 10 in at 4.00 on Jan 10, 2 out on Jan 20, 10 in at 8.00 on Feb 10; WH2: 5 in at 2.00 on Feb 10."""
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    product = ProductFactory()

    def on(day: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: day)

    on(datetime(2025, 1, 10, 9, 0, tzinfo=UTC))
    stock_receive(product=product, location=bin_of(wh1), quantity=10, unit_cost="4.00")
    on(datetime(2025, 1, 20, 9, 0, tzinfo=UTC))
    stock_issue(product=product, location=bin_of(wh1), quantity=2)  # leaves at the average, 4.00
    on(datetime(2025, 2, 10, 9, 0, tzinfo=UTC))
    stock_receive(product=product, location=bin_of(wh1), quantity=10, unit_cost="8.00")
    stock_receive(product=product, location=bin_of(wh2), quantity=5, unit_cost="2.00")
    monkeypatch.undo()


def test_valuation_now_is_on_hand_at_the_moving_average(api: Api, january_and_february: None):
    response = api.get("/valuation")

    # (8 x 4 + 10 x 8 + 5 x 2) / 23 = 5.3043 per unit, whichever the warehouse
    assert response.status_code == 200, response.content
    current = response.json()
    assert current["as_of"] is None
    assert [(w["warehouse_code"], w["quantity"], w["value"]) for w in current["warehouses"]] == [
        ("WH1", "18.0000", "95.48"),
        ("WH2", "5.0000", "26.52"),
    ]
    assert (current["total_quantity"], current["total_value"]) == ("23.0000", "122.00")


def test_valuation_as_of_a_past_moment_reads_the_ledger(api: Api, january_and_february: None):
    # when
    end_of_january = api.get("/valuation", as_of="2025-01-31T23:59:59+00:00")
    before_anything = api.get("/valuation", as_of="2024-12-31T00:00:00Z")

    # then: the first receipt less the issue, at the costs they moved at
    assert end_of_january.status_code == 200, end_of_january.content
    january = end_of_january.json()
    assert january["as_of"].startswith("2025-01-31T23:59:59")
    assert [(w["warehouse_code"], w["quantity"], w["value"]) for w in january["warehouses"]] == [
        ("WH1", "8.0000", "32.00"),
        ("WH2", "0.0000", "0.00"),
    ]
    assert (january["total_quantity"], january["total_value"]) == ("8.0000", "32.00")
    assert before_anything.json()["total_value"] == "0.00"


def test_valuation_as_of_must_be_a_datetime(api: Api):
    response = api.get("/valuation", as_of="last tuesday")

    assert response.status_code == 422
    assert "as_of" in field_errors(response)


def test_stock_check_runs_now_and_reports_drift(api: Api, user):
    # given
    stock = bin_of(warehouse("WH1"))
    product = ProductFactory()
    stock_receive(product=product, location=stock, quantity=10, unit_cost=1)

    # when: a clean run, then a run after the cached level was corrupted behind the ledger's back
    clean = api.post("/stock-checks")
    StockLevel.objects.filter(product=product, location=stock).update(on_hand=99)
    drifting = api.post("/stock-checks")
    listed = api.get("/stock-checks")

    # then
    assert clean.status_code == 201, clean.content
    assert (clean.json()["drift_count"], clean.json()["drifts"]) == (0, [])
    assert clean.json()["levels_checked"] >= 2  # the bin and the supplier's counterpart
    assert drifting.json()["drift_count"] == 1
    [drift] = drifting.json()["drifts"]
    assert (drift["field"], Decimal(drift["cached"]), Decimal(drift["ledger"])) == ("on_hand", 99, 10)
    assert [(r["id"], r["triggered_by"]) for r in listed.json()["items"]] == [
        (drifting.json()["id"], user.username),
        (clean.json()["id"], user.username),
    ]
    assert "drifts" not in listed.json()["items"][0]
    assert api.get(f"/stock-checks/{drifting.json()['id']}").json()["drifts"] == [drift]
    assert StockLevel.objects.get(product=product, location=stock).on_hand == 99  # reported, not repaired
