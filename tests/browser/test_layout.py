"""Issue #21 in a real browser: long text, wide tables, ISO dates and the phone layout.

* the longest product name (200 characters, one word), SKU and category keep the product list (and
  its page) inside a 1,440 px window;
* the MRP table (a row per item) and the CSV preview fit at 1,440 px;
* the inbound events' Result column gets the room, long text cut to two lines (all of it on hover);
* every date input shows yyyy-mm-dd, not the browser locale's mm/dd/yyyy;
* at 390 px the warehouse screens (scanner, receiving, counts, pick) have no page-level horizontal
  scroll, the search is at least 250 px wide and the menu is collapsed behind a button.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory import services as stock
from manufacturing.mrp import mrp_run
from sales.services import order_confirm
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import CategoryFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LONG_NAME = ("Heavy-duty stainless steel industrial shelving unit with adjustable brackets " * 8)[:580] + (
    "X" * 20
)  # 600 characters, ending in a run with nowhere to break


# the longest a product's name, SKU and category name may be, with nowhere to break
LONGEST_NAME = ("Heavy-duty" + "Stainless" * 30)[:190] + "X" * 10
LONGEST_SKU = "SHELF-" + "9" * 58
LONGEST_CATEGORY = "Shelving" * 12 + "Z" * 4


def page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def assert_fits(page, what: str) -> None:
    scroll, inner = page_width(page)
    assert scroll <= inner, f"{what}: the page is {scroll} px wide in a {inner} px window"


def assert_table_fits(page, selector: str) -> None:
    """The table needs no scrolling inside its own box either."""
    box = page.locator(selector)
    wide, room = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert wide <= room, f"{selector}: {wide} px of table in {room} px"


@pytest.fixture
def boss():
    for code in ("pcs", "box"):
        unit(code)  # transactional tests flush what the migrations created
    UserFactory(username="boss", password="s3cret-pass", is_staff=True, is_superuser=True)
    return warehouse("WH1")


def test_the_longest_names_keep_the_product_list_inside_the_window(page, screenshot, boss):
    # given: a product with the longest name, SKU and category name there may be, each one word
    assert (len(LONGEST_NAME), len(LONGEST_SKU), len(LONGEST_CATEGORY)) == (200, 64, 100)
    category = CategoryFactory(name=LONGEST_CATEGORY)
    product = stock.product_create(sku=LONGEST_SKU, name=LONGEST_NAME, category=category)
    stock.product_create(sku="MUG-1", name="Mug")
    page.set_viewport_size(WIDE)
    login(page, "boss", "s3cret-pass")

    page.goto("/inventory/products/")
    expect(page.get_by_role("link", name=LONGEST_SKU)).to_be_visible()
    screenshot("layout-long-name-product-list")
    assert_fits(page, "product list")
    cell = page.locator(".cell-clip", has_text="Heavy-duty").first
    assert cell.get_attribute("title") == LONGEST_NAME  # the whole name on hover
    expect(page.get_by_role("link", name=LONGEST_SKU)).to_have_attribute("title", LONGEST_SKU)
    expect(page.locator(".cell-clip", has_text="ShelvingShelving")).to_have_attribute(
        "title", LONGEST_CATEGORY
    )

    page.goto(f"/inventory/products/{product.pk}/")
    screenshot("layout-long-name-product-detail")
    assert_fits(page, "product page")


def test_the_mrp_table_and_the_csv_preview_fit_at_1440(page, screenshot, boss, tmp_path):
    from tests.manufacturing.factories import bike_world
    from tests.sales.factories import order_for

    world = bike_world()
    for n in range(5):
        order_confirm(
            order=order_for(
                (world["bike"], 4), order_date=timezone.now() + datetime.timedelta(days=5 + 7 * n)
            )
        )
    mrp_run()
    page.set_viewport_size(WIDE)
    login(page, "boss", "s3cret-pass")

    page.goto("/manufacturing/mrp/")
    expect(page.locator('tr[data-sku="BIKE"]')).to_have_count(1)  # five demands, one row
    page.locator('tr[data-sku="BIKE"] details.covers summary').click()
    expect(page.locator('tr[data-sku="BIKE"] details.covers li')).to_have_count(5)
    screenshot("layout-mrp-1440")
    assert_fits(page, "MRP")
    assert_table_fits(page, ".table-scroll:has(#suggestions)")

    csv = tmp_path / "products.csv"
    header = "sku,name,description,category,kind,unit,sale_price,currency,tracking,barcodes,weight,active"
    rows = [
        f"LONG-{n},{LONG_NAME[:200]},{LONG_NAME[:300]},Shelving/Industrial/Heavy duty,stocked,pcs,"
        f"129.90,USD,none,40063813339{n:02d}|BOX-LONG-{n}-WITH-A-LONG-CODE,12.5,true"
        for n in range(6)
    ]
    csv.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    page.goto("/inventory/io/")
    page.locator("#io-products-file").set_input_files(str(csv))
    page.get_by_role("button", name="Preview products").click()
    expect(page.locator("#io-row-2")).to_be_visible()
    screenshot("layout-csv-preview-1440")
    assert_fits(page, "CSV preview")
    assert_table_fits(page, ".table-scroll:has(table.io-preview)")


def test_the_inbound_events_result_column_gets_the_room(page, screenshot, boss):
    from tests.integrations.ui_support import connection_fixture, inbound_event

    connection = connection_fixture.__wrapped__(None)
    long_error = (
        "The order could not be applied: " + "the shop sent a line whose variant we cannot match " * 6
    )
    inbound_event(connection, status="failed", last_error=long_error, external_id="evt-" + "9" * 60)
    inbound_event(connection)
    page.set_viewport_size(WIDE)
    login(page, "boss", "s3cret-pass")

    page.goto(f"/integrations/connections/{connection.pk}/inbound/")
    result = page.locator("table.inbound-events tr.dead td.result")
    expect(result).to_be_visible()
    screenshot("layout-inbound-events")
    assert_fits(page, "inbound events")
    box = result.bounding_box()
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 20")
    assert box["width"] >= 300, f"the Result column is {box['width']} px wide"
    assert box["height"] <= 3 * line + 12, f"the Result cell is {box['height']} px high"
    assert long_error.strip() in (result.locator(".clamp-2").get_attribute("title") or "")


def test_date_inputs_show_iso(page, screenshot, boss):
    page.set_viewport_size(WIDE)
    login(page, "boss", "s3cret-pass")

    page.goto("/manufacturing/orders/new/")
    start = page.locator("#id_planned_start")
    assert start.get_attribute("type") == "text"
    assert start.get_attribute("placeholder") == "yyyy-mm-dd"
    start.fill("2026-03-31")
    page.locator("#id_planned_finish").focus()
    screenshot("layout-date-iso", full_page=False)
    assert start.input_value() == "2026-03-31"

    page.goto("/sales/orders/?since=2026-01-05")
    since = page.locator("#f-since")
    assert since.input_value() == "2026-01-05"  # shown as typed and as the app writes dates
    assert since.get_attribute("placeholder") == "yyyy-mm-dd"


@pytest.fixture
def floor(boss):
    """What the warehouse screens show: a bin with stock, a count sheet, a sent PO, an order to pick."""
    from procurement import services as buying
    from tests.procurement.factories import SupplierFactory
    from tests.sales.factories import order_for

    UserFactory(username="wendy", password="s3cret-pass", roles=["Warehouse"])
    shelf = bin_of(boss)
    tee = stock.product_create(
        sku="TEE-RED-M", name="T-shirt red M " + "long " * 20, barcodes=["4006381333931"]
    )
    stock.stock_receive(product=tee, location=shelf, quantity=40, unit_cost="4.10")
    sheet = stock.count_sheet_create(location=shelf)
    po = buying.po_create(
        supplier=SupplierFactory(name="Acme Textiles"),
        warehouse=boss,
        lines=[buying.POLineSpec(tee, 5, unit_cost="4.00")],
    )
    buying.po_send(po=po)
    order_confirm(order=order_for((tee, 2)))
    return {"sheet": sheet}


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("scanner", "/inventory/transfer/"),
        ("receiving", "/procurement/receive/"),
        ("counts", "/inventory/counts/"),
        ("count-sheet", "count"),
        ("pick", "/sales/fulfilment/"),
    ],
)
def test_the_warehouse_screens_work_on_a_phone(page, screenshot, floor, name, url):
    page.set_viewport_size(PHONE)
    login(page, "wendy", "s3cret-pass")
    if url == "count":
        url = f"/inventory/counts/{floor['sheet'].pk}/"

    page.goto(url)
    screenshot(f"layout-phone-{name}")

    assert_fits(page, name)
    # what the hand does on this screen is on the screen, not to the right of a table's scroll
    # (the pick queue's ship buttons and the count sheet's boxes were, at 804 and 980 px of table)
    within_reach = {
        "pick": page.get_by_role("button", name="Ship all reserved"),
        "count-sheet": page.get_by_label("Counted TEE-RED-M"),
    }
    if name in within_reach:
        assert_table_fits(page, "table.grid")
        box = within_reach[name].bounding_box()
        assert box is not None, name
        assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE["width"], (name, box)
    search = page.locator("#global-search").bounding_box()
    assert search["width"] >= 250, f"the search is {search['width']} px wide"
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Inventory", exact=True)).to_be_hidden()
    toggle = page.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(menu.get_by_role("link", name="Inventory", exact=True)).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    if name == "scanner":
        screenshot("layout-phone-menu-open", full_page=False)
