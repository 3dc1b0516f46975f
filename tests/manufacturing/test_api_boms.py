"""The manufacturing API's work centres and BOMs: roll-up, units, cycles, versions, where-used, rights."""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.services import product_unit_set
from manufacturing.models import BillOfMaterials, BomComponent
from tests.inventory.factories import ProductFactory, unit
from tests.manufacturing.api_support import (
    BASE,
    Api,
    api_as,
    api_fixture,  # noqa: F401  (a fixture)
    create_centre,
    create_wheel_bom,
    field_errors,
    ok,
    parts_fixture,  # noqa: F401  (a fixture)
    wheel_bom_fixture,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.django_db


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
