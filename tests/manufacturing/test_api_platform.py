"""The manufacturing API as a platform: ordering, updated_since, expand=components at a constant
number of queries, ETag / If-Match on BOMs, and the one money format (costs in the base currency)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from manufacturing import schemas as manufacturing_schemas
from manufacturing.models import BillOfMaterials, ManufacturingOrder
from manufacturing.services import (
    ComponentSpec,
    OperationSpec,
    bom_activate,
    work_centre_create,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import ProductFactory
from tests.inventory.test_api_platform import (
    PlatformApi,
    assert_one_tag_per_area,
    assert_schemas_documented,
    errors_of,
    patch_while_another_writer_holds_the_row,
)
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory, stock
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/manufacturing"


@pytest.fixture
def api() -> PlatformApi:
    return PlatformApi(api_key_for(UserFactory(roles=["Production"])), base=BASE)


def _bom(**kwargs) -> BillOfMaterials:
    part, other = ProductFactory(), ProductFactory()
    for component in (part, other):
        stock(component, 1000, "2.50")
    return BomFactory(components=[ComponentSpec(part, 2), ComponentSpec(other, 1)], **kwargs)


def _order(bom: BillOfMaterials, quantity: int = 3, **kwargs) -> ManufacturingOrder:
    return ManufacturingOrderFactory(bom=bom, quantity=quantity, confirmed=True, **kwargs)


# --- ordering and updated_since ---------------------------------------------------------------------


def test_orders_sort_by_allowed_keys_and_refuse_others(api: PlatformApi):
    bom = _bom()
    later = _order(bom, planned_start=datetime.date(2030, 2, 1))
    sooner = _order(bom, planned_start=datetime.date(2030, 1, 1))

    assert [o["id"] for o in api.get("/orders", ordering="planned_start").json()["items"]] == [
        sooner.pk,
        later.pk,
    ]
    assert [o["id"] for o in api.get("/orders", ordering="-start").json()["items"]] == [later.pk, sooner.pk]
    assert [o["id"] for o in api.get("/orders", ordering="-id").json()["items"]] == [sooner.pk, later.pk]
    refused = api.get("/orders", ordering="colour")
    assert refused.status_code == 422
    assert "planned_start" in refused.json()["allowed"]
    assert "colour" in errors_of(refused)["ordering"]
    for path in ("/boms", "/work-centres", "/mrp/suggestions"):
        assert api.get(path, ordering="-id").status_code == 200, path
        assert api.get(path, ordering="nope").status_code == 422, path


def test_updated_since_on_orders_and_boms(api: PlatformApi):
    old_bom = _bom()
    old_order = _order(old_bom)
    long_ago = timezone.now() - datetime.timedelta(days=30)
    BillOfMaterials.objects.update(updated_at=long_ago)
    ManufacturingOrder.objects.update(updated_at=long_ago)
    new_bom = _bom()
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    assert [b["id"] for b in api.get("/boms", updated_since=cut).json()["items"]] == [new_bom.pk]
    assert api.get("/orders", updated_since=cut).json()["count"] == 0
    before = (long_ago - datetime.timedelta(days=1)).isoformat()
    assert [o["id"] for o in api.get("/orders", updated_since=before).json()["items"]] == [old_order.pk]


# --- expand -----------------------------------------------------------------------------------------


def test_orders_expand_components_like_the_detail(api: PlatformApi):
    mo = _order(_bom(), quantity=4)

    plain = api.get("/orders").json()["items"][0]
    expanded = api.get("/orders", expand="components").json()["items"][0]
    refused = api.get("/orders", expand="operations")

    assert plain["components"] is None
    assert expanded["components"] == api.get(f"/orders/{mo.pk}").json()["components"]
    assert [(c["required"], c["reserved"]) for c in expanded["components"]] == [
        ("8.0000", "8.0000"),
        ("4.0000", "4.0000"),
    ]
    assert refused.status_code == 422
    assert refused.json()["allowed"] == ["components"]


def test_expanded_orders_cost_the_same_queries_for_5_as_for_50(api: PlatformApi):
    bom = _bom()

    def seed(n: int) -> None:
        for _ in range(n):
            _order(bom, quantity=1)

    seed(5)

    def list_them() -> None:
        items = api.get("/orders", expand="components").json()["items"]
        assert all(len(o["components"]) == 2 for o in items)

    queries = assert_constant_queries(list_them, lambda: seed(45))
    assert queries < 15


# --- ETag / If-Match ----------------------------------------------------------------------------------


def test_a_bom_answers_an_etag_that_if_match_checks(api: PlatformApi):
    bom = _bom()
    etag = api.get(f"/boms/{bom.pk}")["ETag"]

    fresh = api.patch(f"/boms/{bom.pk}", {"lead_time_days": 3}, if_match=etag)
    stale = api.patch(f"/boms/{bom.pk}", {"notes": "from what I read"}, if_match=etag)
    unconditional = api.patch(f"/boms/{bom.pk}", {"notes": "whatever is there"})

    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["lead_time_days"] == 3
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == fresh["ETag"]
    assert unconditional.status_code == 200
    bom.refresh_from_db()
    assert bom.notes == "whatever is there"


def test_activating_a_bom_makes_its_tag_stale(api: PlatformApi):
    bom = _bom(activate=False)
    etag = api.get(f"/boms/{bom.pk}")["ETag"]
    bom_activate(bom=bom)

    assert api.patch(f"/boms/{bom.pk}", {"lead_time_days": 5}, if_match=etag).status_code == 412


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_bom_if_match_check_is_made_under_the_row_lock():
    api = PlatformApi(api_key_for(UserFactory(roles=["Production"])), base=BASE)
    bom = _bom()
    etag = api.get(f"/boms/{bom.pk}")["ETag"]

    answer = patch_while_another_writer_holds_the_row(
        api, f"/boms/{bom.pk}", BillOfMaterials, bom.pk, {"notes": "mine"}, etag
    )

    assert answer.status_code == 412, answer.content
    bom.refresh_from_db()
    assert bom.notes == ""


# --- money format ------------------------------------------------------------------------------------


def test_costs_are_in_the_base_currency_with_its_minor_unit_digits(api: PlatformApi):
    # given: 2 x 2.50 + 1 x 2.50 of material, 6 minutes at 30.00 an hour, and a sub-cent operation
    centre = work_centre_create(code="ASM", name="Assembly", cost_per_hour="30")
    bom = _bom(operations=[OperationSpec("Assemble", centre, 6), OperationSpec("Glue", centre, "0.025")])
    mo = _order(bom, quantity=2)

    # when
    detail = api.get(f"/boms/{bom.pk}").json()
    order = api.get(f"/orders/{mo.pk}").json()
    centres = api.get("/work-centres").json()["items"]

    # then
    assert detail["cost"]["currency"] == "USD"
    assert (detail["cost"]["material_cost"], detail["cost"]["operations_cost"]) == ("7.50", "3.0125")
    assert detail["operations"][0]["cost_per_hour"] == "30.00"
    assert detail["components"][0]["quantity"] == "2.0000"
    assert (order["currency"], order["produced_cost"], order["quantity"]) == ("USD", "0.00", "2.0000")
    assert centres[0]["cost_per_hour"] == "30.00"


# --- the schema ---------------------------------------------------------------------------------------


def test_every_manufacturing_schema_has_an_example_and_every_operation_its_area_tag():
    assert assert_schemas_documented(manufacturing_schemas) > 20
    assert_one_tag_per_area("/api/v1/manufacturing/", "Manufacturing")
