"""Suppliers (list, detail, forms, contacts, items with price breaks) and replenishment."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client

from inventory import services as stock
from procurement.models import PurchaseOrder, PurchaseOrderStatus, Supplier, SupplierItem
from tests.inventory.factories import ProductFactory
from tests.procurement.factories import SupplierFactory
from tests.procurement.test_views import htmx, login, make_world, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> dict:
    return make_world()


@pytest.fixture
def buyer(client: Client) -> Client:
    return login(client, "Purchasing", username="pat")


def test_the_supplier_list_shows_open_orders_and_searches(buyer: Client, world):
    sent_order(world)
    SupplierFactory(name="Zeta Paper")
    page = buyer.get("/procurement/suppliers/", {"ordering": "-open_orders"})
    first = page.context["page"].object_list[0]
    assert (first.name, first.open_orders) == ("Acme Textiles", 1)

    found = buyer.get("/procurement/suppliers/", {"q": "zeta"}, **htmx("rows"))
    html = found.content.decode()
    assert "Zeta Paper" in html
    assert "Acme Textiles" not in html
    assert "<html" not in html


def test_create_and_edit_a_supplier(buyer: Client, world):
    created = buyer.post(
        "/procurement/suppliers/new/",
        {
            "name": "Baltic Wool",
            "currency": "eur",
            "payment_terms_days": "45",
            "lead_time_days": "10",
            "is_active": "on",
        },
    )
    supplier = Supplier.objects.get(name="Baltic Wool")
    assert created["Location"] == f"/procurement/suppliers/{supplier.pk}/"
    assert (supplier.currency, supplier.code.startswith("S-")) == ("EUR", True)

    buyer.post(
        f"/procurement/suppliers/{supplier.pk}/edit/",
        {"name": "Baltic Wool Ltd", "currency": "EUR", "payment_terms_days": "30", "lead_time_days": "10"},
    )
    supplier.refresh_from_db()
    assert (supplier.name, supplier.payment_terms_days, supplier.is_active) == ("Baltic Wool Ltd", 30, False)


def test_a_taken_code_or_a_bad_currency_is_shown_next_to_the_field(buyer: Client, world):
    taken = buyer.post(
        "/procurement/suppliers/new/",
        {
            "code": "S-ACME",
            "name": "Copy",
            "currency": "USD",
            "payment_terms_days": "30",
            "lead_time_days": "7",
        },
    )
    assert "Already used." in taken.content.decode()
    bad = buyer.post(
        "/procurement/suppliers/new/",
        {"name": "Copy", "currency": "XXQ", "payment_terms_days": "30", "lead_time_days": "7"},
    )
    assert "is not an ISO 4217 currency code" in bad.content.decode()
    assert Supplier.objects.count() == 1


def test_add_a_contact_with_htmx(buyer: Client, world):
    supplier = world["supplier"]
    response = buyer.post(
        f"/procurement/suppliers/{supplier.pk}/contacts/",
        {"name": "Jo Buyer", "role": "Sales", "email": "jo@acme.example"},
        **htmx("contacts"),
    )
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"
    assert "Jo Buyer" in response.content.decode()
    assert "<html" not in response.content.decode()
    refused = buyer.post(f"/procurement/suppliers/{supplier.pk}/contacts/", {"name": ""}, **htmx("contacts"))
    assert json.loads(refused["HX-Trigger"])["toast"]["level"] == "error"
    assert supplier.contacts.count() == 1


def test_add_and_edit_a_supplier_item_with_price_breaks(buyer: Client, world):
    supplier = world["supplier"]
    mug = stock.product_create(sku="MUG-1", name="Mug", barcodes=["MUG-EAN"])
    response = buyer.post(
        f"/procurement/suppliers/{supplier.pk}/items/new/",
        {
            "product": "MUG-EAN",
            "supplier_sku": "AC-MUG",
            "purchase_unit": "pcs",
            "factor": "1",
            "unit_price": "2.50",
            "min_order_quantity": "0",
            "break-qty-0": "100",
            "break-price-0": "2.20",
            "break-qty-1": "",
            "break-price-1": "",
        },
    )
    assert response.status_code == 302
    item = SupplierItem.objects.get(product=mug)
    assert [(b.min_quantity, b.unit_price) for b in item.price_breaks.all()] == [(D("100"), D("2.2"))]

    page = buyer.get(f"/procurement/suppliers/{supplier.pk}/items/{item.pk}/")
    assert page.context["break_rows"][0] == {"qty": "100", "price": "2.2"}
    buyer.post(
        f"/procurement/suppliers/{supplier.pk}/items/{item.pk}/",
        {
            "supplier_sku": "AC-MUG",
            "purchase_unit": "pcs",
            "factor": "1",
            "unit_price": "2.40",
            "min_order_quantity": "10",
            "break-qty-0": "",
        },
    )
    item.refresh_from_db()
    assert (item.unit_price, item.min_order_quantity, item.price_breaks.count()) == (D("2.4"), D("10"), 0)

    detail = buyer.get(f"/procurement/suppliers/{supplier.pk}/").content.decode()
    assert "AC-MUG" in detail
    assert "from 10: $55.00" in detail


def test_an_unknown_product_or_a_bad_break_is_refused(buyer: Client, world):
    supplier = world["supplier"]
    base = {"purchase_unit": "pcs", "factor": "1", "unit_price": "1", "min_order_quantity": "0"}
    unknown = buyer.post(f"/procurement/suppliers/{supplier.pk}/items/new/", {**base, "product": "NOPE"})
    assert "No product has the SKU or barcode “NOPE”." in unknown.content.decode()
    ProductFactory(sku="CUP")
    bad = buyer.post(
        f"/procurement/suppliers/{supplier.pk}/items/new/",
        {**base, "product": "CUP", "break-qty-0": "-5", "break-price-0": "1"},
    )
    assert "Each break has a distinct positive quantity" in bad.content.decode()
    assert SupplierItem.objects.count() == 1


# --- replenishment ---------------------------------------------------------------------------


def test_replenishment_select_and_create_draft_orders(buyer: Client, world):
    # given: the T-shirt below its minimum (preferred supplier: Acme, boxes of 12), a mug with no supplier
    wh = world["warehouse"]
    PurchaseOrder.objects.filter(pk=world["draft"].pk).delete()
    stock.reorder_rule_set(product=world["product"], warehouse=wh, min_quantity=24, max_quantity=60)
    mug = ProductFactory(sku="MUG-9")
    stock.reorder_rule_set(product=mug, warehouse=wh, min_quantity=5, max_quantity=10)

    # when
    page = buyer.get("/procurement/replenishment/")

    # then: the T-shirt can be ticked, the mug cannot and links to adding a supplier item
    html = page.content.decode()
    key = f"{world['product'].pk}-{wh.pk}"
    assert f'name="key" value="{key}"' in html
    assert f"/procurement/suppliers/items/new/?product={mug.pk}" in html
    assert page.context["selectable"] == 1

    # when: ticked and created
    response = buyer.post("/procurement/replenishment/", {"key": [key]}, **htmx("rows"))

    # then: one draft for Acme with 5 boxes (60 pieces needed, rounded up to boxes), linked
    po = PurchaseOrder.objects.get()
    assert po.status == PurchaseOrderStatus.DRAFT
    assert po.lines.get().quantity == 5
    assert f'href="/procurement/orders/{po.pk}/"' in response.content.decode()
    assert json.loads(response["HX-Trigger"])["toast"]["message"].startswith("1 draft purchase order created")


def test_replenishment_without_a_selection_or_with_an_unbuyable_one_says_why(buyer: Client, world):
    wh = world["warehouse"]
    mug = ProductFactory(sku="MUG-9")
    stock.reorder_rule_set(product=mug, warehouse=wh, min_quantity=5, max_quantity=10)
    nothing = buyer.post("/procurement/replenishment/", {}, **htmx("rows"))
    assert "Tick at least one suggestion." in nothing.content.decode()
    unbuyable = buyer.post("/procurement/replenishment/", {"key": f"{mug.pk}-{wh.pk}"}, **htmx("rows"))
    assert "No preferred supplier for: MUG-9" in unbuyable.content.decode()
    assert PurchaseOrder.objects.count() == 1  # only the fixture's draft


def test_replenishment_without_htmx_redirects_to_the_created_orders(buyer: Client, world):
    wh = world["warehouse"]
    PurchaseOrder.objects.filter(pk=world["draft"].pk).delete()
    stock.reorder_rule_set(product=world["product"], warehouse=wh, min_quantity=24, max_quantity=60)
    response = buyer.post(
        "/procurement/replenishment/", {"key": f"{world['product'].pk}-{wh.pk}"}, follow=True
    )
    po = PurchaseOrder.objects.get()
    assert po.number in response.content.decode()
    assert response.context["created"] == [po]
