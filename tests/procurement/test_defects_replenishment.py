"""Issue #21, defect 1: replenishment made a second draft purchase order for the same need, because a
draft did not count. Drafts (purchase and manufacturing) count now: a need they cover says so,
linked, and ordering it again makes nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client

from inventory import replenishment as stock_replenishment
from inventory import services as stock
from procurement import replenishment, services
from procurement.models import PurchaseOrder
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def need():
    """A product with a preferred supplier, nothing on hand, a rule of min 5 / max 20."""
    wh = warehouse("WH1")
    product = stock.product_create(sku="BOLT-M8", name="Bolt M8")
    services.supplier_item_set(
        supplier=SupplierFactory(name="Bolts Ltd"), product=product, unit_price="0.50", is_preferred=True
    )
    stock.reorder_rule_set(product=product, warehouse=wh, min_quantity=5, max_quantity=20)
    return {"product": product, "warehouse": wh}


@pytest.fixture
def buyer() -> Client:
    client = Client()
    client.force_login(UserFactory(username="bob", roles=["Purchasing"]))
    return client


def test_clicking_create_twice_makes_one_draft(buyer, need):
    key = f"{need['product'].pk}-{need['warehouse'].pk}"

    first = buyer.post("/procurement/replenishment/", {"key": key})
    second = buyer.post("/procurement/replenishment/", {"key": key})

    assert first.status_code == 302
    assert second.status_code == 302
    assert PurchaseOrder.objects.count() == 1
    draft = PurchaseOrder.objects.get()
    assert draft.lines.get().quantity == D("20")


def test_a_need_covered_by_a_draft_says_so_with_a_link_and_cannot_be_ticked(buyer, need):
    key = f"{need['product'].pk}-{need['warehouse'].pk}"
    buyer.post("/procurement/replenishment/", {"key": key})
    draft = PurchaseOrder.objects.get()

    page = buyer.get("/procurement/replenishment/").content.decode()

    assert "covered by draft" in page
    assert f'href="/procurement/orders/{draft.pk}/"' in page
    assert f'name="key" value="{key}"' not in page
    assert "Create draft purchase orders" not in page  # nothing left to tick


def test_the_service_refuses_a_covered_suggestion_naming_the_draft(need):
    key = f"{need['product'].pk}-{need['warehouse'].pk}"
    [draft] = replenishment.orders_from_suggestions(keys=[key])

    with pytest.raises(Exception, match=rf"covered by draft orders: BOLT-M8 by {draft.number}"):
        replenishment.orders_from_suggestions(keys=[key])
    assert PurchaseOrder.objects.count() == 1


def test_a_small_draft_leaves_the_rest_to_order(need):
    services.po_create(
        supplier=SupplierFactory(),
        warehouse=need["warehouse"],
        lines=[services.POLineSpec(need["product"], 2, unit_cost="0.50")],
    )

    [s] = replenishment.suggestions()

    assert not s.covered
    assert s.stock.drafted == D("2")
    assert s.quantity == D("18")  # up to max 20 once the draft's 2 arrive


def test_a_draft_manufacturing_order_covers_the_need_too(need):
    BomFactory(product=need["product"])
    ManufacturingOrderFactory(product=need["product"], quantity=30, warehouse=need["warehouse"])

    [s] = stock_replenishment.suggestions()

    assert s.covered
    assert s.drafts[0].number.startswith("MO-")
    assert stock_replenishment.suggestions(covered=False) == []


def test_the_inventory_replenishment_page_shows_the_covering_draft(need):
    [draft] = replenishment.orders_from_suggestions(keys=[f"{need['product'].pk}-{need['warehouse'].pk}"])
    keeper = Client()
    keeper.force_login(UserFactory(username="kim", roles=["Warehouse"]))

    page = keeper.get("/inventory/replenishment/").content.decode()

    assert "covered by draft" in page
    assert draft.number in page
