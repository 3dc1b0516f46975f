"""Procurement pages: who may open them, what htmx gets back, what a page costs in queries.

The helpers here (``world``, ``sent_order``, ``login``) are shared by the other
tests/procurement/test_views_*.py modules.
"""

from __future__ import annotations

import datetime
import importlib
import itertools
from decimal import Decimal as D

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from erp import search as global_search
from inventory import services as stock
from procurement import services
from procurement.models import Bill, PurchaseOrder, PurchaseOrderStatus
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, unit, warehouse
from tests.procurement.factories import SupplierFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
S = PurchaseOrderStatus


def htmx(target: str = "", **extra: str) -> dict[str, str]:
    headers = {**HTMX, **extra}
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


def login(client: Client, *roles: str, username: str = "") -> Client:
    client.force_login(
        UserFactory(username=username or f"u-{'-'.join(roles).lower().replace(' ', '')}", roles=list(roles))
    )
    return client


@pytest.fixture
def buyer(client: Client) -> Client:
    return login(client, "Purchasing", username="pat")


def make_world() -> dict:
    """WH1; Acme sells a T-shirt in boxes of 12 (with breaks); a box barcode; a draft order of 3 boxes."""
    wh = warehouse("WH1")
    supplier = SupplierFactory(name="Acme Textiles", code="S-ACME", address="1 Mill Road\nLeeds")
    product = stock.product_create(sku="TEE-BLK", name="T-shirt black", barcodes=["4006381333931"])
    stock.product_unit_set(product=product, unit=unit("box"), factor="12", barcode="BOX-TEE-BLK")
    item = services.supplier_item_set(
        supplier=supplier,
        product=product,
        unit_price="60.00",
        purchase_unit=unit("box"),
        factor="12",
        supplier_sku="AC-TB-12",
        min_order_quantity="2",
        is_preferred=True,
        price_breaks=[("10", "55.00"), ("50", "50.00")],
    )
    draft = services.po_create(
        supplier=supplier, warehouse=wh, lines=[services.POLineSpec(product, 3)], expected_date=None
    )
    return {"warehouse": wh, "supplier": supplier, "product": product, "item": item, "draft": draft}


@pytest.fixture
def world(db) -> dict:
    return make_world()


def sent_order(world: dict, quantity: int | str = 3, *, cost: str | None = None) -> PurchaseOrder:
    po = services.po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[services.POLineSpec(world["product"], quantity, unit_cost=cost)],
    )
    return services.po_send(po=po)


def received_order(world: dict) -> PurchaseOrder:
    po = sent_order(world, 2)
    services.receipt_create(po=po, lines=[services.ReceiveLine(po.lines.get(), 2)])
    po.refresh_from_db()
    return po


def bill_for(po: PurchaseOrder, *, cost: str = "60.00", reference: str = "INV-1") -> Bill:
    line = po.lines.get()
    return services.bill_record(
        po=po, supplier_reference=reference, lines=[services.BillLineSpec(line, line.quantity_received, cost)]
    )


def page_urls(world: dict) -> list[str]:
    draft, supplier, item = world["draft"], world["supplier"], world["item"]
    po = received_order(world)
    bill = bill_for(po)
    return [
        "/procurement/",
        "/procurement/orders/",
        "/procurement/orders/?status=open&ordering=-total",
        f"/procurement/orders/{draft.pk}/",
        f"/procurement/orders/{po.pk}/",
        "/procurement/orders/new/",
        f"/procurement/orders/new/?supplier={supplier.pk}",
        f"/procurement/orders/{draft.pk}/edit/",
        f"/procurement/orders/{po.pk}/print/",
        f"/procurement/orders/{po.pk}/bill/",
        "/procurement/orders/lookup/?code=TEE",
        "/procurement/receive/",
        f"/procurement/receive/?po={po.pk}",
        "/procurement/suppliers/",
        f"/procurement/suppliers/{supplier.pk}/",
        "/procurement/suppliers/new/",
        f"/procurement/suppliers/{supplier.pk}/edit/",
        f"/procurement/suppliers/{supplier.pk}/items/new/",
        f"/procurement/suppliers/{supplier.pk}/items/{item.pk}/",
        f"/procurement/suppliers/items/new/?product={world['product'].pk}",
        "/procurement/bills/",
        f"/procurement/bills/{bill.pk}/",
        "/procurement/replenishment/",
    ]


def test_every_page_opens_for_a_purchasing_user(buyer: Client, world):
    for url in page_urls(world):
        response = buyer.get(url)
        assert response.status_code == 200, url
        assert b"Traceback" not in response.content


def test_the_landing_page_counts_what_needs_attention(buyer: Client, world):
    # given: a draft above the threshold, an overdue sent order, a bill in review, an item below minimum
    wh, product = world["warehouse"], world["product"]
    services.po_create(supplier=world["supplier"], warehouse=wh, lines=[services.POLineSpec(product, 5)])
    po = services.po_create(
        supplier=world["supplier"],
        warehouse=wh,
        lines=[services.POLineSpec(product, 1)],
        expected_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    services.po_send(po=po)
    received = received_order(world)
    bill_for(received, cost="99.00")  # billed above the ordered price: review
    stock.reorder_rule_set(
        product=ProductFactory(sku="NO-SUPPLIER"), warehouse=wh, min_quantity=5, max_quantity=10
    )

    # when
    with override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100")):
        response = buyer.get("/procurement/")

    # then
    assert response.status_code == 200
    tiles = response.context
    assert tiles["orders"]["awaiting_approval"] == 2  # the fixture's draft (180) and the big one
    assert tiles["orders"]["overdue"] == 1
    assert tiles["bills"]["review"] == 1
    assert tiles["below_minimum"] == 1
    assert b"Procure to pay, and replenishment." in response.content


def test_the_receiving_screen_is_for_warehouse_workers_not_for_sales(client: Client, world):
    # given
    warehouse_worker = login(Client(), "Warehouse", username="wally")
    seller = login(Client(), "Sales", username="sally")

    # then: a warehouse worker (inventory:write, procurement:read) may receive
    assert warehouse_worker.get("/procurement/receive/").status_code == 200
    assert warehouse_worker.post("/procurement/receive/", {"code": world["draft"].number}).status_code == 302
    # a seller (no procurement right at all, inventory read only) may not
    assert seller.get("/procurement/receive/").status_code == 403
    assert seller.post("/procurement/receive/", {"code": "PO-1"}).status_code == 403
    assert seller.get("/procurement/orders/").status_code == 403
    # and an anonymous visitor is sent to the login page
    assert client.get("/procurement/receive/").status_code == 302


def test_reading_is_not_writing(world):
    # given: a warehouse worker reads procurement but does not write it
    reader = login(Client(), "Warehouse", username="wally")
    draft = world["draft"]

    # then: the pages open, the writes are refused and nothing changes
    assert reader.get(f"/procurement/orders/{draft.pk}/").status_code == 200
    assert b"Send to supplier" not in reader.get(f"/procurement/orders/{draft.pk}/").content
    assert reader.post(f"/procurement/orders/{draft.pk}/send/").status_code == 403
    assert reader.get("/procurement/orders/new/").status_code == 403
    assert reader.post("/procurement/replenishment/", {"key": "1-1"}).status_code == 403
    assert reader.get("/procurement/suppliers/new/").status_code == 403
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_orders_list_has_status_tabs_with_counts_filters_and_sorting(buyer: Client, world):
    # given: a draft (the fixture), two sent orders, a cancelled one, one of another supplier
    sent_order(world, 1)
    sent_order(world, 20)
    services.po_cancel(po=sent_order(world, 1))
    other = SupplierFactory(name="Other Co")
    services.po_create(
        supplier=other,
        warehouse=world["warehouse"],
        lines=[services.POLineSpec(world["product"], 1, unit_cost="1")],
    )

    # when
    response = buyer.get("/procurement/orders/", {"supplier": world["supplier"].pk, "status": "open"})

    # then: the tabs count under the other filters, the rows follow the tab
    tabs = {tab["key"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs == {
        "": 4,
        "draft": 1,
        "open": 2,
        "sent": 2,
        "partially_received": 0,
        "received": 0,
        "closed": 0,
        "cancelled": 1,
    }
    numbers = [row.po.number for row in response.context["rows"]]
    assert len(numbers) == 2
    assert all(row.po.status == S.SENT for row in response.context["rows"])

    by_total = buyer.get("/procurement/orders/", {"ordering": "-total"}).context["rows"]
    totals = [row.po.total for row in by_total]
    assert totals == sorted(totals, reverse=True)
    assert len(by_total) == 5

    by_product = buyer.get("/procurement/orders/", {"sku": "4006381333931"}).context["rows"]
    assert len(by_product) == 5  # every order has the product, found by its barcode
    unknown = buyer.get("/procurement/orders/", {"sku": "NOPE"})
    assert unknown.context["rows"] == []
    assert "No product has the SKU or barcode" in unknown.content.decode()


def test_orders_list_answers_htmx_with_the_rows_only(buyer: Client, world):
    response = buyer.get("/procurement/orders/", {"status": "draft"}, **htmx("rows"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert world["draft"].number in html
    assert 'aria-current="page">Draft' in html
    assert "hx-push-url" in html  # the tabs and sort links keep the URL shareable


def test_lists_cost_the_same_queries_at_any_length(buyer: Client, world):
    # given
    references = itertools.count()

    def grow_orders() -> None:
        for n in range(10):
            po = sent_order(world, n + 1)
            services.receipt_create(po=po, lines=[services.ReceiveLine(po.lines.get(), 1)])
            bill_for(po, reference=f"INV-{next(references)}")

    def grow_suppliers() -> None:
        for _n in range(10):
            supplier = SupplierFactory()
            services.po_send(
                po=services.po_create(
                    supplier=supplier,
                    warehouse=world["warehouse"],
                    lines=[services.POLineSpec(world["product"], 1, unit_cost="5")],
                )
            )

    # then
    assert_constant_queries(lambda: buyer.get("/procurement/orders/"), grow_orders)
    assert_constant_queries(lambda: buyer.get("/procurement/bills/"), grow_orders)
    assert_constant_queries(lambda: buyer.get("/procurement/suppliers/"), grow_suppliers)
    assert PurchaseOrder.objects.count() > 30
    assert Bill.objects.count() == 20


def test_order_detail_costs_the_same_with_2_or_20_lines(buyer: Client, world):
    # given
    products = [ProductFactory() for _ in range(20)]
    po = services.po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[services.POLineSpec(p, 1, unit_cost="2") for p in products[:2]],
    )

    def grow() -> None:
        services.po_update(po=po, lines=[services.POLineSpec(p, 1, unit_cost="2") for p in products])

    # then
    assert_constant_queries(lambda: buyer.get(f"/procurement/orders/{po.pk}/"), grow)
    assert len(buyer.get(f"/procurement/orders/{po.pk}/").context["rows"]) == 20


def test_order_detail_with_receipts_and_bills_costs_the_same_as_it_grows(buyer: Client, world):
    # given
    products = [ProductFactory() for _ in range(20)]
    po = services.po_send(
        po=services.po_create(
            supplier=world["supplier"],
            warehouse=world["warehouse"],
            lines=[services.POLineSpec(p, 5, unit_cost="2") for p in products],
        )
    )
    lines = list(po.lines.all())
    services.receipt_create(po=po, lines=[services.ReceiveLine(lines[0], 1)])
    services.bill_record(po=po, supplier_reference="B-1", lines=[services.BillLineSpec(lines[0], 1, "2")])

    def grow() -> None:
        for n in range(3):
            services.receipt_create(po=po, lines=[services.ReceiveLine(ln, 1) for ln in lines])
            services.bill_record(
                po=po, supplier_reference=f"B-2{n}", lines=[services.BillLineSpec(ln, 1, "2") for ln in lines]
            )

    # then
    assert_constant_queries(lambda: buyer.get(f"/procurement/orders/{po.pk}/"), grow)


@pytest.fixture
def procurement_search():
    """The providers as procurement/registrations.py will register them; the registry restored after."""
    saved = dict(global_search._providers)
    import procurement.search

    importlib.reload(procurement.search)
    yield
    global_search._providers.clear()
    global_search._providers.update(saved)


def test_search_finds_orders_by_number_and_suppliers_by_name_or_code(procurement_search, world):
    # given
    user = UserFactory(roles=["Purchasing"])
    seller = UserFactory(username="sal", roles=["Sales"])
    draft = world["draft"]

    # when
    groups = {provider.label: results for provider, results in global_search.search(draft.number, user)}
    by_name = {provider.label: results for provider, results in global_search.search("acme", user)}
    by_code = {provider.label: results for provider, results in global_search.search("S-AC", user)}

    # then
    assert [r.title for r in groups["Purchase orders"]] == [draft.number]
    assert groups["Purchase orders"][0].url == f"/procurement/orders/{draft.pk}/"
    assert [r.title for r in by_name["Suppliers"]] == ["Acme Textiles"]
    assert [r.title for r in by_code["Suppliers"]] == ["Acme Textiles"]
    assert not any(p.area == "procurement" for p in global_search.providers_for(seller))
