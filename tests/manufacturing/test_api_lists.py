"""Every list of the manufacturing API costs the same number of queries with a few rows as with many:
the selectors fetch what the schemas read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from inventory.models import Product
from manufacturing.models import ManufacturingOrder
from manufacturing.mrp import mrp_run
from manufacturing.services import (
    ComponentSpec,
    OperationSpec,
    bom_create,
    mo_confirm,
    mo_create,
    work_centre_create,
)
from procurement.services import supplier_item_set
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.procurement.factories import SupplierFactory
from tests.queries import FEW, MANY, assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/manufacturing"


def glue() -> Product:
    """A component every BOM uses, in stock for all of them (so MRP buys none of it)."""
    existing = Product.objects.filter(sku="GLUE").first()
    if existing:
        return existing
    from inventory.services import stock_receive

    product = ProductFactory(sku="GLUE")
    stock_receive(product=product, location=bin_of(warehouse()), quantity=10_000, unit_cost="0.50")
    return product


def make_row(n: int) -> ManufacturingOrder:
    """One of each: a work centre; a product made of a bought part (none in stock, a preferred supplier)
    and glue, with an operation; a confirmed order for it (short of the part, so MRP buys it)."""
    centre = work_centre_create(code=f"WC{n:03d}", name=f"Centre {n}", cost_per_hour="30")
    part, product = ProductFactory(sku=f"PART-{n:03d}"), ProductFactory(sku=f"MADE-{n:03d}")
    supplier_item_set(supplier=SupplierFactory(), product=part, unit_price="2", is_preferred=True)
    bom_create(
        product=product,
        components=[ComponentSpec(part, 2), ComponentSpec(glue(), 1, scrap_percent=5)],
        operations=[OperationSpec("Assemble", centre, 10)],
    )
    mo, _ = mo_confirm(mo=mo_create(product=product, quantity=3, warehouse=warehouse()))
    return mo


def grow_from(start: int, count: int) -> Callable[[], None]:
    def grow() -> None:
        for n in range(start, start + count):
            make_row(n)
        mrp_run()

    return grow


@pytest.fixture
def client() -> Client:
    c = Client()
    c.defaults.update(bearer(api_key_for(UserFactory(roles=["Production"]))))
    return c


def listed(client: Client, path: str, **params: Any) -> Callable[[], Any]:
    def action() -> Any:
        response = client.get(BASE + path, params)
        assert response.status_code == 200, response.content
        return response.json()

    return action


def size(body: Any) -> int:
    return body["count"] if isinstance(body, dict) else len(body)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/work-centres", {}),
        ("/boms", {}),
        ("/boms", {"is_active": True, "q": "MADE"}),
        ("/boms/where-used", {"product": "GLUE"}),
        ("/orders", {}),
        ("/orders", {"status": "open", "ordering": "number"}),
        ("/mrp/suggestions", {}),
        ("/mrp/suggestions", {"kind": "buy", "open": True}),
    ],
)
def test_each_list_costs_the_same_queries_for_few_rows_as_for_many(client: Client, path: str, params: dict):
    # given
    grow_from(0, FEW)()
    if params.get("product") == "GLUE":
        params = {"product": glue().pk}
    action = listed(client, path, **params)
    assert size(action()) == FEW

    # when / then
    assert_constant_queries(action, grow_from(FEW, MANY - FEW))
    body = action()
    assert size(body) == MANY
    if isinstance(body, dict):
        assert len(body["items"]) == MANY
