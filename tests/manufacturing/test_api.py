"""The manufacturing API: work centres, BOMs with components and operations in one request and their
cost roll-up, cycles refused, versions, where-used, the manufacturing order flow over HTTP, MRP, and
the errors (403, 404, 409, 422) it answers with."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from inventory.services import product_unit_set, stock_issue, stock_receive
from manufacturing.models import BillOfMaterials, BomComponent, ManufacturingOrder, MrpSuggestion
from procurement.models import PurchaseOrder
from procurement.services import supplier_item_set
from sales.services import order_confirm
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/manufacturing"


class Api:
    """The manufacturing API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)


def api_as(*roles: str, scopes: list[str] | None = None) -> Api:
    return Api(api_key_for(UserFactory(roles=list(roles)), scopes=scopes))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def stock(product, quantity, cost: str = "1.00") -> None:
    stock_receive(product=product, location=bin_of(warehouse()), quantity=quantity, unit_cost=cost)


def issue_all(product) -> None:
    level = StockLevel.objects.get(product=product, location=bin_of(warehouse()))
    stock_issue(product=product, location=level.location, quantity=level.on_hand)


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def api() -> Api:
    return api_as("Production")


@pytest.fixture
def parts() -> dict[str, Any]:
    """Bought: FRAME (50.00), RIM (8.00), SPOKE (0.10), all in stock; made: WHEEL and BIKE."""
    frame, rim, spoke = ProductFactory(sku="FRAME"), ProductFactory(sku="RIM"), ProductFactory(sku="SPOKE")
    stock(frame, 10, "50.00")
    stock(rim, 20, "8.00")
    stock(spoke, 1000, "0.10")
    return {
        "frame": frame,
        "rim": rim,
        "spoke": spoke,
        "wheel": ProductFactory(sku="WHEEL"),
        "bike": ProductFactory(sku="BIKE"),
    }


def create_centre(api: Api, code: str = "ASM", cost: str = "60.00") -> dict[str, Any]:
    return ok(api.post("/work-centres", {"code": code, "name": "Assembly", "cost_per_hour": cost}), 201)


def create_wheel_bom(api: Api, parts: dict[str, Any], centre: dict[str, Any]) -> dict[str, Any]:
    """wheel = 1 rim + 32 spokes (+10 % scrap), laced in 30 minutes."""
    return ok(
        api.post(
            "/boms",
            {
                "sku": "WHEEL",
                "components": [
                    {"sku": "rim", "quantity": 1},
                    {"product": parts["spoke"].pk, "quantity": "32", "scrap_percent": "10"},
                ],
                "operations": [
                    {"work_centre": centre["id"], "name": "Lace and true", "minutes_per_unit": 30}
                ],
                "lead_time_days": 2,
            },
        ),
        201,
    )


@pytest.fixture
def wheel_bom(api: Api, parts: dict[str, Any]) -> dict[str, Any]:
    return create_wheel_bom(api, parts, create_centre(api))


# --- work centres and BOMs ------------------------------------------------------------------------


def test_a_bom_with_components_and_operations_in_one_request_rolls_its_cost_up(api: Api, parts):
    # given
    centre = create_centre(api)
    assert centre["cost_per_hour"] == "60.00"  # money: the base currency's minor-unit digits

    # when
    wheel = create_wheel_bom(api, parts, centre)
    bike = ok(
        api.post(
            "/boms",
            {
                "product": parts["bike"].pk,
                "components": [{"sku": "FRAME", "quantity": 1}, {"sku": "WHEEL", "quantity": 2}],
                "operations": [
                    {
                        "work_centre": centre["id"],
                        "name": "Assemble",
                        "minutes_per_unit": "60",
                        "cost_per_hour": "45.00",
                    }
                ],
                "lead_time_days": 3,
                "notes": "city bike",
            },
        ),
        201,
    )

    # then: the wheel is rim 8 + 32 x 1.1 spokes x 0.10 = 3.52, + 30 min at 60/h = 30
    assert (wheel["version"], wheel["is_active"], wheel["lead_time_days"]) == (1, True, 2)
    assert [(c["sku"], c["quantity"], c["unit"], c["scrap_percent"]) for c in wheel["components"]] == [
        ("RIM", "1.0000", "pcs", "0.000"),
        ("SPOKE", "32.0000", "pcs", "10.000"),
    ]
    assert wheel["components"][1]["stock_quantity_per_output"] == "35.2000"
    assert [(o["name"], o["work_centre_code"], o["cost_per_hour"]) for o in wheel["operations"]] == [
        ("Lace and true", "ASM", "60.00")  # the work centre's cost
    ]
    assert wheel["cost"] == {
        "components": [
            {
                "product": parts["rim"].pk,
                "sku": "RIM",
                "quantity": "1.0000",
                "unit_cost": "8.00",
                "cost": "8.00",
                "source": "average cost",
            },
            {
                "product": parts["spoke"].pk,
                "sku": "SPOKE",
                "quantity": "35.2000",
                "unit_cost": "0.10",
                "cost": "3.52",
                "source": "average cost",
            },
        ],
        "material_cost": "11.52",
        "operations_cost": "30.00",
        "unit_cost": "41.52",
        "currency": "USD",
    }
    # and the bike: frame 50 + 2 wheels rolled up at 41.52 + 60 min at its own 45/h
    assert [(c["sku"], c["unit_cost"], c["cost"], c["source"]) for c in bike["cost"]["components"]] == [
        ("FRAME", "50.00", "50.00", "average cost"),
        ("WHEEL", "41.52", "83.04", "rolled up"),
    ]
    assert (bike["cost"]["operations_cost"], bike["cost"]["unit_cost"]) == ("45.00", "178.04")
    assert ok(api.get(f"/boms/{bike['id']}")) == bike
    listed = ok(api.get("/boms", component=parts["wheel"].pk))
    assert [(b["sku"], b["component_count"], b["operation_count"]) for b in listed["items"]] == [
        ("BIKE", 2, 1)
    ]
    assert [c["code"] for c in ok(api.get("/work-centres"))["items"]] == ["ASM"]


def test_a_component_in_another_unit_is_converted_to_stock_units(api: Api, parts, wheel_bom):
    glue = ProductFactory(sku="GLUE", stock_unit=unit("g"))
    product_unit_set(product=glue, unit="kg", factor=1000)

    bom = ok(
        api.post(
            "/boms",
            {
                "sku": "RIM",
                "components": [{"sku": "GLUE", "quantity": "0.05", "unit": "KG"}],
                "activate": False,
            },
        ),
        201,
    )

    [line] = bom["components"]
    assert (line["unit"], line["factor"], line["stock_quantity_per_output"]) == ("kg", "1000.0000", "50.0000")
    assert bom["is_active"] is False


def test_a_cycle_is_a_422_naming_the_path_and_nothing_is_saved(api: Api, parts, wheel_bom):
    # given: WHEEL uses SPOKE; BIKE uses WHEEL
    ok(api.post("/boms", {"sku": "BIKE", "components": [{"sku": "WHEEL", "quantity": 2}]}), 201)
    before = (BillOfMaterials.objects.count(), BomComponent.objects.count())

    # when: WHEEL would be made of BIKE, or SPOKE of BIKE
    direct = api.post("/boms", {"sku": "WHEEL", "components": [{"sku": "BIKE", "quantity": 1}]})
    deeper = api.post(
        "/boms",
        {"sku": "SPOKE", "components": [{"sku": "BIKE", "quantity": 1}], "operations": []},
    )

    # then
    assert direct.status_code == 422
    assert direct.json()["detail"] == "That makes a cycle: WHEEL → BIKE → WHEEL."
    assert field_errors(direct) == {"components": "Cycle: WHEEL → BIKE → WHEEL."}
    assert deeper.status_code == 422
    assert "SPOKE → BIKE → WHEEL → SPOKE" in deeper.json()["detail"]
    assert (BillOfMaterials.objects.count(), BomComponent.objects.count()) == before
    assert list(BillOfMaterials.objects.filter(product=parts["wheel"]).values_list("version", flat=True)) == [
        1
    ]


def test_invalid_components_and_operations_are_422_naming_each_field(api: Api, parts):
    centre = create_centre(api)

    response = api.post(
        "/boms",
        {
            "sku": "WHEEL",
            "components": [
                {"sku": "NOPE", "quantity": 1},
                {"product": parts["rim"].pk, "sku": "RIM", "quantity": 1},
                {"sku": "SPOKE", "quantity": 1, "unit": "parsec"},
            ],
            "operations": [{"work_centre": centre["id"] + 99, "name": "Lace", "minutes_per_unit": 1}],
        },
    )
    no_product = api.post("/boms", {"sku": "MISSING", "components": [{"sku": "RIM", "quantity": 1}]})
    bad_unit = api.post(
        "/boms", {"sku": "WHEEL", "components": [{"sku": "RIM", "quantity": 1, "unit": "kg"}]}
    )
    nothing = api.post("/boms", {"sku": "WHEEL", "components": []})

    assert response.status_code == 422
    assert field_errors(response) == {
        "components.0.sku": "No product with SKU 'NOPE'.",
        "components.1.product": "Give the product id or its SKU, one of the two.",
        "components.2.unit": "No unit 'parsec'.",
    }
    assert field_errors(no_product) == {"sku": "No product with SKU 'MISSING'."}
    assert bad_unit.status_code == 422
    assert "components.0.unit" in field_errors(bad_unit)  # RIM has no kg
    assert nothing.status_code == 422
    assert BillOfMaterials.objects.count() == 0
    unknown_centre = api.post(
        "/boms",
        {
            "sku": "WHEEL",
            "components": [{"sku": "RIM", "quantity": 1}],
            "operations": [{"work_centre": centre["id"] + 99, "name": "Lace", "minutes_per_unit": 1}],
        },
    )
    assert field_errors(unknown_centre) == {
        "operations.0.work_centre": f"No work centre with id {centre['id'] + 99}."
    }
    duplicate = api.post("/work-centres", {"code": "ASM", "name": "Again"})
    assert (duplicate.status_code, field_errors(duplicate)) == (422, {"code": "Already used."})
    assert api.get("/boms/999999").status_code == 404


def test_a_second_version_is_activated_and_the_first_is_changed_in_place(api: Api, parts, wheel_bom):
    # when: version 2 saved inactive, then activated
    v2 = ok(
        api.post(
            "/boms",
            {
                "sku": "WHEEL",
                "components": [{"sku": "RIM", "quantity": 1}, {"sku": "SPOKE", "quantity": 28}],
                "activate": False,
            },
        ),
        201,
    )
    assert (v2["version"], v2["is_active"]) == (2, False)
    activated = ok(api.post(f"/boms/{v2['id']}/activate"))

    # then
    assert activated["is_active"] is True
    assert ok(api.get(f"/boms/{wheel_bom['id']}"))["is_active"] is False
    versions = ok(api.get("/boms", product=parts["wheel"].pk))["items"]
    assert [(b["version"], b["is_active"]) for b in versions] == [(2, True), (1, False)]
    assert [b["version"] for b in ok(api.get("/boms", q="whe", is_active=True))["items"]] == [2]

    # when: version 1 is changed: components replaced, lead time, notes; operations kept
    patched = ok(
        api.patch(
            f"/boms/{wheel_bom['id']}",
            {
                "components": [{"sku": "RIM", "quantity": 1}, {"sku": "SPOKE", "quantity": 36}],
                "lead_time_days": 4,
                "notes": "36 spokes",
            },
        )
    )

    # then
    assert [(c["sku"], c["quantity"]) for c in patched["components"]] == [
        ("RIM", "1.0000"),
        ("SPOKE", "36.0000"),
    ]
    assert (patched["lead_time_days"], patched["notes"], len(patched["operations"])) == (4, "36 spokes", 1)
    assert patched["cost"]["material_cost"] == "11.60"  # 8 + 36 x 0.10
    assert api.patch(f"/boms/{wheel_bom['id']}", {"notes": None}).status_code == 422


def test_where_used_lists_boms_through_sub_assemblies(api: Api, parts, wheel_bom):
    ok(
        api.post(
            "/boms",
            {"sku": "BIKE", "components": [{"sku": "FRAME", "quantity": 1}, {"sku": "WHEEL", "quantity": 2}]},
        ),
        201,
    )

    used = ok(api.get("/boms/where-used", product=parts["spoke"].pk))["items"]  # a paginated list

    assert [(u["depth"], u["sku"], u["version"], u["is_active"]) for u in used] == [
        (1, "WHEEL", 1, True),
        (2, "BIKE", 1, True),
    ]
    assert used[0]["bom"] == wheel_bom["id"]
    assert ok(api.get("/boms/where-used", product=parts["bike"].pk)) == {"count": 0, "items": []}
    unknown = api.get("/boms/where-used", product=999999)
    assert (unknown.status_code, field_errors(unknown)) == (422, {"product": "No product with id 999999."})


# --- manufacturing orders -------------------------------------------------------------------------


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


# --- MRP ------------------------------------------------------------------------------------------


def test_mrp_run_lists_suggestions_and_converts_them_into_draft_orders(api: Api, parts, wheel_bom):
    # given: a sales order for 5 wheels in 10 days, none in stock; rims bought from a preferred supplier
    today = timezone.localdate()
    assert ok(api.get("/mrp/suggestions"))["count"] == 0  # no run yet
    for_rims = SupplierFactory(lead_time_days=4, name="Rim Works")
    supplier_item_set(supplier=for_rims, product=parts["rim"], unit_price="8", is_preferred=True)
    issue_all(parts["rim"])
    order_confirm(
        order=order_for((parts["wheel"], 5), order_date=timezone.now() + datetime.timedelta(days=10))
    )

    # when
    run = ok(api.post("/mrp/run", {"horizon": (today + datetime.timedelta(days=30)).isoformat()}), 201)

    # then: make 5 wheels, due in 10 days, started 2 days earlier; buy 5 rims for then, 4 days ahead
    plan = [
        (s["kind"], s["sku"], s["quantity"], s["due_date"], s["release_date"], s["level"])
        for s in run["suggestions"]
    ]
    day = lambda n: (today + datetime.timedelta(days=n)).isoformat()  # noqa: E731
    assert plan == [
        ("make", "WHEEL", "5.0000", day(10), day(8), 0),
        ("buy", "RIM", "5.0000", day(8), day(4), 1),
    ]
    make, buy = run["suggestions"]
    assert (buy["supplier"], buy["supplier_name"], make["supplier"]) == (for_rims.pk, "Rim Works", None)
    assert make["covers"][0]["demand"].endswith("line 1")
    assert buy["covers"] == [{"demand": "proposed MO for 5 WHEEL", "date": day(8), "quantity": "5.0000"}]
    assert run["horizon"] == day(30)

    listed = ok(api.get("/mrp/suggestions"))
    assert [s["id"] for s in listed["items"]] == [make["id"], buy["id"]]
    assert [s["sku"] for s in ok(api.get("/mrp/suggestions", kind="buy"))["items"]] == ["RIM"]
    assert ok(api.get("/mrp/suggestions", run=run["id"], open=True))["count"] == 2

    # when: both converted
    converted = ok(api.post("/mrp/convert", {"suggestions": [make["id"], buy["id"]]}), 201)

    # then: a draft manufacturing order and a draft purchase order
    mo_number, po_number = converted["documents"]
    mo = ManufacturingOrder.objects.get(number=mo_number)
    assert (mo.product, mo.quantity, mo.status) == (parts["wheel"], 5, "draft")
    po = PurchaseOrder.objects.get(number=po_number)
    assert (po.supplier, po.status, po.lines.get().quantity) == (for_rims, "draft", 5)
    assert {s["converted_to"] for s in ok(api.get("/mrp/suggestions", open=False))["items"]} == {
        mo_number,
        po_number,
    }
    assert ok(api.get("/mrp/suggestions", open=True))["count"] == 0
    assert api.post("/mrp/convert", {"suggestions": [make["id"]]}).status_code == 422  # converted already
    assert not MrpSuggestion.objects.filter(converted_to="").exists()
    unknown_run = api.get("/mrp/suggestions", run=999999)
    assert (unknown_run.status_code, field_errors(unknown_run)) == (
        422,
        {"run": "No MRP run with id 999999."},
    )
    assert api.post("/mrp/run", {"horizon": "2000-01-01"}).status_code == 422


# --- scopes ---------------------------------------------------------------------------------------


def test_production_writes_a_warehouse_key_only_reads_and_sales_cannot_read(parts):
    production, warehouse_key, sales = api_as("Production"), api_as("Warehouse"), api_as("Sales")
    body = {"code": "PNT", "name": "Paint shop", "cost_per_hour": "40"}

    by_warehouse = warehouse_key.post("/work-centres", body)
    by_sales = sales.get("/work-centres")
    by_production = production.post("/work-centres", body)

    assert by_warehouse.status_code == 403
    assert (
        by_warehouse.json()["detail"]
        == "Scope 'manufacturing:write' is required; this API key does not have it."
    )
    assert warehouse_key.get("/work-centres").status_code == 200
    assert warehouse_key.post("/mrp/run").status_code == 403
    assert by_sales.status_code == 403
    assert sales.get("/orders").status_code == 403
    assert by_production.status_code == 201
    assert [c["code"] for c in warehouse_key.get("/work-centres").json()["items"]] == ["PNT"]
    read_only = api_as("Production", scopes=["manufacturing:read"])
    assert read_only.get("/boms").status_code == 200
    assert read_only.post("/work-centres", {"code": "X1"}).status_code == 403
    assert Client().get(BASE + "/boms").status_code == 401
