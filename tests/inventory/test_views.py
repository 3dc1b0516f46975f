"""Inventory pages: who may open them, what htmx gets back, and what a page costs in queries."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from erp import search as global_search
from inventory import services
from inventory.models import ReorderRule, StockCheckRun, StockLevel
from tests.erp.factories import UserFactory
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, warehouse
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(UserFactory(username="wendy", roles=["Warehouse"]))
    return client


@pytest.fixture
def stocked(db):
    """A warehouse with a bin, a product with a barcode and 10 in stock, one move, one count sheet."""
    wh = warehouse("WH1")
    stock = bin_of(wh)
    product = services.product_create(sku="TEE-RED-M", name="T-shirt red M", barcodes=["4006381333931"])
    move = services.stock_receive(product=product, location=stock, quantity=10, unit_cost="4.00")
    sheet = services.count_sheet_create(location=stock)
    transfer_bin = bin_of(wh, "A-01")
    return {
        "warehouse": wh,
        "bin": stock,
        "product": product,
        "move": move,
        "sheet": sheet,
        "a01": transfer_bin,
    }


def page_urls(stocked) -> list[str]:
    p, wh, move, sheet = stocked["product"], stocked["warehouse"], stocked["move"], stocked["sheet"]
    return [
        "/inventory/",
        "/inventory/products/",
        f"/inventory/products/{p.pk}/",
        "/inventory/products/new/",
        f"/inventory/products/{p.pk}/edit/",
        "/inventory/products/new-variants/",
        "/inventory/warehouses/",
        f"/inventory/warehouses/{wh.pk}/",
        "/inventory/moves/",
        f"/inventory/moves/{move.pk}/reverse/",
        "/inventory/levels/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        "/inventory/counts/",
        "/inventory/counts/new/",
        f"/inventory/counts/{sheet.pk}/",
        "/inventory/replenishment/",
        "/inventory/valuation/",
    ]


def test_every_page_opens_for_the_warehouse_role(staff: Client, stocked):
    for url in page_urls(stocked):
        response = staff.get(url)
        assert response.status_code == 200, url
        assert b"<html" in response.content, url
        assert b'aria-label="Inventory"' in response.content, url  # the sub-navigation


def test_every_page_refuses_a_user_without_inventory_access(client: Client, stocked):
    client.force_login(UserFactory(username="norole"))
    for url in page_urls(stocked):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"It needs the right <strong>Inventory (" in response.content, url


def test_anonymous_is_sent_to_login(client: Client, stocked):
    response = client.get("/inventory/products/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sales_reads_inventory_but_cannot_write(client: Client, stocked):
    # given: a role that reads inventory only
    client.force_login(UserFactory(username="sam", roles=["Sales"]))

    # then: reading pages open, without write buttons; write pages and posts are refused
    listing = client.get("/inventory/products/")
    assert listing.status_code == 200
    assert b"New product" not in listing.content
    for url in (
        "/inventory/products/new/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        "/inventory/counts/new/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"Inventory (write)" in response.content
    assert client.post("/inventory/check/").status_code == 403
    assert client.post("/inventory/transfer/scan/", {"code": "4006381333931"}).status_code == 403
    refused = client.post(
        "/inventory/warehouses/", {"code": "WH9", "name": "Nine", "address": "", "allow_negative_stock": ""}
    )
    assert refused.status_code == 403
    assert client.post(f"/inventory/counts/{stocked['sheet'].pk}/apply/").status_code == 403
    assert StockCheckRun.objects.count() == 0


def test_production_reads_the_ledger(client: Client, stocked):
    client.force_login(UserFactory(username="pete", roles=["Production"]))
    assert client.get("/inventory/moves/").status_code == 200
    assert client.get("/inventory/valuation/").status_code == 200


def test_the_landing_page_shows_the_overview_and_links_every_screen(staff: Client, stocked):
    # given: one product below its minimum and a stock check run
    services.reorder_rule_set(
        product=stocked["product"], warehouse=stocked["warehouse"], min_quantity=20, max_quantity=50
    )

    html = staff.get("/inventory/").content.decode()

    assert "Products, warehouses and the double-entry stock ledger." in html
    assert "40.00" in html  # 10 x 4.00 stock value
    assert 'href="/inventory/replenishment/"' in html
    assert "never run" in html
    for link in (
        "/inventory/products/",
        "/inventory/products/new/",
        "/inventory/products/new-variants/",
        "/inventory/warehouses/",
        "/inventory/moves/",
        "/inventory/levels/",
        "/inventory/transfer/",
        "/inventory/adjust/",
        "/inventory/counts/",
        "/inventory/valuation/",
        "/inventory/io/",
    ):
        assert f'href="{link}' in html, link
    assert "Import / export" in html
    assert ReorderRule.objects.count() == 1


def test_below_minimum_tile_counts_the_suggestions(staff: Client, stocked):
    services.reorder_rule_set(
        product=stocked["product"], warehouse=stocked["warehouse"], min_quantity=20, max_quantity=50
    )
    other = ProductFactory()
    services.reorder_rule_set(product=other, warehouse=stocked["warehouse"], min_quantity=0, max_quantity=5)

    response = staff.get("/inventory/")

    assert response.context["below_min"] == 1  # 10 < 20; the other rule has nothing to order
    assert response.context["stock_value"] == Decimal("40.00")
    assert response.context["product_count"] == 2


def test_run_check_now_records_a_run_and_answers_with_the_tile(staff: Client, stocked):
    response = staff.post("/inventory/check/", headers=HTMX)

    assert response.status_code == 200
    run = StockCheckRun.objects.get()
    assert run.drift_count == 0
    assert run.triggered_by.username == "wendy"
    assert b'id="checktile"' in response.content
    assert b"No drift" in response.content
    assert b"<html" not in response.content
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"


def test_run_check_without_javascript_redirects_with_a_message(staff: Client, stocked):
    response = staff.post("/inventory/check/", follow=True)
    assert response.redirect_chain[-1][0] == "/inventory/"
    assert b"agree with the ledger" in response.content


def test_product_list_filters_sorts_and_answers_htmx_with_rows_only(staff: Client, stocked):
    # given
    ProductFactory(sku="MUG-1", name="Blue mug", category=CategoryFactory(name="Kitchen"))
    ProductFactory(sku="TEE-BLUE-L", name="T-shirt blue L", is_active=False)

    # when: a search by SKU prefix, as htmx sends it
    rows = staff.get("/inventory/products/?q=tee&ordering=-sku", headers=htmx("rows"))

    # then: only the rows fragment, sorted, with the header links keeping the filter
    html = rows.content.decode()
    assert rows.status_code == 200
    assert "<html" not in html
    assert 'id="product-filters"' not in html
    assert html.index("TEE-RED-M") < html.index("TEE-BLUE-L")
    assert "MUG-1" not in html
    assert "q=tee&amp;ordering=sku" in html  # clicking SKU again sorts ascending
    assert "archived" in html

    # and a barcode finds its product; a category filter works without JavaScript
    assert "TEE-RED-M" in staff.get("/inventory/products/?q=4006381333931").content.decode()
    kitchen = staff.get("/inventory/products/?category=" + str(CategoryFactory(name="Kitchen").pk))
    assert "MUG-1" in kitchen.content.decode()
    assert "TEE-RED-M" not in kitchen.content.decode()


def test_product_list_shows_on_hand_reserved_and_available(staff: Client, stocked):
    services.stock_reserve(
        product=stocked["product"],
        warehouse=stocked["warehouse"],
        quantity=3,
        demand=services.Demand("sales.orderline", 1, "SO-1"),
    )

    response = staff.get("/inventory/products/?q=TEE-RED-M")

    row = response.context["page"].object_list[0]
    assert (row.on_hand, row.reserved, row.available) == (Decimal(10), Decimal(3), Decimal(7))


def test_product_list_paginates(staff: Client, stocked):
    ProductFactory.create_batch(55)
    response = staff.get("/inventory/products/?page=2")
    assert b"51\xe2\x80\x9356 of 56" in response.content


def test_product_list_costs_the_same_queries_for_5_or_50_products(staff: Client, stocked):
    stock = stocked["bin"]

    def add(n: int) -> None:
        for product in ProductFactory.create_batch(n, category=CategoryFactory(name="Tees")):
            services.product_update(product=product, barcodes=[f"B{product.pk}"])
            services.stock_receive(product=product, location=stock, quantity=2, unit_cost="1")

    add(4)
    assert_constant_queries(lambda: staff.get("/inventory/products/"), lambda: add(45))


def test_ledger_and_levels_cost_the_same_queries_for_5_or_50_rows(staff: Client, stocked):
    stock, other = stocked["bin"], stocked["a01"]

    def add(n: int) -> None:
        for product in ProductFactory.create_batch(n):
            services.stock_receive(product=product, location=other, quantity=2, unit_cost="1")
        services.stock_transfer(
            from_location=stock, to_location=other, lines=[services.Line(stocked["product"], Decimal(1))]
        )

    add(4)
    assert_constant_queries(lambda: staff.get("/inventory/moves/"), lambda: add(45))
    assert_constant_queries(lambda: staff.get("/inventory/levels/"), lambda: add(45))
    assert_constant_queries(lambda: staff.get("/inventory/counts/"), lambda: add(2))


def test_ledger_filters_by_product_and_answers_htmx_with_rows(staff: Client, stocked):
    other = ProductFactory(sku="MUG-1")
    services.stock_receive(product=other, location=stocked["bin"], quantity=1)

    full = staff.get(f"/inventory/moves/?product={stocked['product'].pk}")
    rows = staff.get("/inventory/moves/?q=MUG&kind=receipt", headers=htmx("rows"))

    assert len(full.context["page"].object_list) == 1
    assert b"TEE-RED-M only" in full.content
    assert b"<html" not in rows.content
    assert b"MUG-1" in rows.content
    assert b"TEE-RED-M" not in rows.content


def test_levels_filter_nonzero_and_below_min(staff: Client, stocked):
    # given: an empty level and a product below its minimum
    empty = ProductFactory(sku="EMPTY-1")
    services.stock_receive(product=empty, location=stocked["a01"], quantity=1)
    services.stock_issue(product=empty, location=stocked["a01"], quantity=1)
    services.reorder_rule_set(
        product=stocked["product"], warehouse=stocked["warehouse"], min_quantity=20, max_quantity=50
    )

    everything = staff.get("/inventory/levels/").content.decode()
    nonzero = staff.get("/inventory/levels/?nonzero=true", headers=htmx("rows")).content.decode()
    below = staff.get("/inventory/levels/?below_min=true", headers=htmx("rows")).content.decode()

    assert "EMPTY-1" in everything
    assert "Partners/Suppliers" not in everything  # virtual locations are not bins
    assert "EMPTY-1" not in nonzero
    assert "TEE-RED-M" in nonzero
    assert "TEE-RED-M" in below
    assert "EMPTY-1" not in below
    assert "<html" not in nonzero


def test_product_detail_shows_availability_levels_moves_and_variants(staff: Client, stocked):
    # given: a product with variants, a box unit and a reservation
    template = services.product_template_create(
        name="Hoodie", sku_prefix="HD", attributes={"Size": ["S", "M"]}, sale_price="30"
    )
    hoodie = template.variants.get(sku="HD-S")
    services.product_unit_set(product=hoodie, unit="box", factor=6, barcode="BOX-HD-S")
    services.stock_receive(product=hoodie, location=stocked["a01"], quantity=12, unit_cost="10")
    services.stock_reserve(
        product=hoodie,
        warehouse=stocked["warehouse"],
        quantity=5,
        demand=services.Demand("sales.orderline", 7, "SO-7"),
    )

    html = staff.get(f"/inventory/products/{hoodie.pk}/").content.decode()

    assert "WH1/A-01" in html
    assert "SO-7" in html
    assert "HD-M" in html  # the sibling variant
    assert "Size: S" in html
    assert "BOX-HD-S" in html
    assert "1 box = 6 pcs" in html
    assert f"/inventory/moves/?product={hoodie.pk}" in html
    per_warehouse = staff.get(f"/inventory/products/{hoodie.pk}/").context["per_warehouse"]
    (wh, availability) = per_warehouse[0]
    assert (wh.code, availability.on_hand, availability.reserved, availability.available) == (
        "WH1",
        Decimal(12),
        Decimal(5),
        Decimal(7),
    )


def test_unknown_pages_are_404(staff: Client, stocked):
    assert staff.get("/inventory/products/999999/").status_code == 404
    assert staff.get("/inventory/warehouses/999999/").status_code == 404
    assert staff.get("/inventory/counts/999999/").status_code == 404
    assert staff.get("/inventory/moves/999999/reverse/").status_code == 404


def test_warehouse_detail_shows_the_location_tree_with_stock(staff: Client, stocked):
    wh = stocked["warehouse"]
    zone = services.location_create(parent=services.warehouse_root(wh), name="Aisle B", kind="view")
    services.location_create(parent=zone, name="B-01", barcode="LOC-B01")

    response = staff.get(f"/inventory/warehouses/{wh.pk}/")

    tree = {row["location"].path: row for row in response.context["tree"]}
    assert tree["WH1"]["depth"] == 0
    assert tree["WH1/Aisle B/B-01"]["depth"] == 2
    assert tree["WH1/Stock"]["on_hand"] == [(Decimal(10), "pcs")]  # per stock unit: never kg + pcs
    assert tree["WH1"]["total"] == [(Decimal(10), "pcs")]
    assert b"LOC-B01" in response.content


def test_valuation_shows_current_value_and_top_products(staff: Client, stocked):
    response = staff.get("/inventory/valuation/")

    assert response.context["total"] == Decimal("40.00")
    assert [row["product__sku"] for row in response.context["top"]] == ["TEE-RED-M"]
    assert b"40.00" in response.content


def test_valuation_refuses_a_date_it_cannot_read(staff: Client, stocked):
    response = staff.get("/inventory/valuation/?as_of=last+tuesday")
    assert response.status_code == 200
    assert b"is not a date" in response.content


def test_valuation_as_of_a_date_reads_the_ledger(staff: Client, stocked):
    services.stock_issue(product=stocked["product"], location=stocked["bin"], quantity=4)
    today = timezone.localdate().isoformat()

    before = staff.get("/inventory/valuation/?as_of=2000-01-01")
    now = staff.get(f"/inventory/valuation/?as_of={today}")

    assert before.context["past_total"] == Decimal("0.00")
    assert now.context["past_total"] == Decimal("24.00") == now.context["total"]  # 6 x 4.00
    (row,) = now.context["comparison"]
    assert (row["then"].quantity, row["change"]) == (Decimal(6), Decimal("0.00"))
    assert b"As of 2000-01-01" in before.content


@pytest.fixture
def product_search():
    """The provider as inventory/registrations.py will register it; the registry restored after."""
    saved = dict(global_search._providers)
    import inventory.search

    importlib.reload(inventory.search)
    yield
    global_search._providers.clear()
    global_search._providers.update(saved)


def test_global_search_finds_products_by_sku_barcode_or_name(product_search, stocked):
    reader = UserFactory(username="sam", roles=["Sales"])
    nobody = UserFactory(username="nobody")

    by_sku = global_search.search("tee-red", reader)
    by_barcode = global_search.search("4006381333931", reader)
    by_name = global_search.search("shirt red", reader)

    (provider, results), *_ = by_sku
    assert provider.label == "Products"
    assert provider.hint == "SKU, barcode or name"
    assert [r.title for r in results] == ["TEE-RED-M · T-shirt red M"]
    assert results[0].url == f"/inventory/products/{stocked['product'].pk}/"
    assert by_barcode[0][1][0].title == results[0].title
    assert by_name[0][1][0].title == results[0].title
    assert global_search.search("tee", nobody) == []


def test_global_search_honours_the_limit(product_search, stocked):
    ProductFactory.create_batch(12, name="Tee batch")
    user = UserFactory(username="sam", roles=["Sales"])
    (_, results), *_ = global_search.search("tee", user, limit=5)
    assert len(results) == 5


def test_levels_page_reads_levels_only_from_stock_locations(staff: Client, stocked):
    response = staff.get("/inventory/levels/")
    kinds = {level.location.kind for level in response.context["page"].object_list}
    assert kinds == {"internal"}
    assert StockLevel.objects.exclude(location__kind="internal").exists()
