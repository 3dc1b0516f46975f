"""Inventory in a real browser: a product created, the list searched, a scanner transfer, a cycle count."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory import services
from inventory.models import CountSheet, CountStatus, Product, StockLevel
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import CategoryFactory, ProductFactory, bin_of, unit, warehouse

pytestmark = pytest.mark.django_db(transaction=True)

EAN = "4006381333931"


@pytest.fixture
def floor():
    """WH1 with a Stock bin (barcode LOC-STOCK) and A-01 (LOC-A01); a tee with an EAN and a box of 12."""
    UserFactory(username="wendy", password="s3cret-pass", roles=["Warehouse"], first_name="Wendy")
    unit("pcs"), unit("box")  # transactional tests flush what the migrations created
    wh = warehouse("WH1")
    stock = bin_of(wh)
    services.location_update(location=stock, barcode="LOC-STOCK")
    zone = services.location_create(parent=services.warehouse_root(wh), name="Aisle A", kind="view")
    shelf = services.location_create(parent=zone, name="A-01", barcode="LOC-A01")
    tees = CategoryFactory(name="Tees")
    tee = services.product_create(
        sku="TEE-RED-M", name="T-shirt red M", barcodes=[EAN], category=tees, sale_price="19.90"
    )
    services.product_unit_set(product=tee, unit="box", factor=12, barcode="BOX-TEE-12")
    services.stock_receive(product=tee, location=stock, quantity=40, unit_cost="4.10")
    mug = services.product_create(sku="MUG-BLUE", name="Mug blue 300 ml", barcodes=["5901234123457"])
    services.stock_receive(product=mug, location=stock, quantity=9, unit_cost="2.50")
    services.reorder_rule_set(product=mug, warehouse=wh, min_quantity=10, max_quantity=48, multiple=12)
    return {"wh": wh, "stock": stock, "shelf": shelf, "tee": tee, "mug": mug}


def on_hand(product, location) -> Decimal:
    level = StockLevel.objects.filter(product=product, location=location).first()
    return level.on_hand if level else Decimal(0)


def scan(page, code: str) -> None:
    """What a scanner does: type the code into the focused input, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_landing_page_and_creating_a_product(page, screenshot, floor):
    login(page, "wendy", "s3cret-pass")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory", exact=True).click()
    expect(page.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page.locator(".tile", has_text="Below minimum")).to_contain_text("1")
    screenshot("inventory-landing")

    # a product, with one mistake first: the SKU of another product
    page.get_by_role("link", name="New product One SKU with its barcodes").click()
    expect(page.get_by_label("SKU")).to_be_focused()
    page.get_by_label("SKU").fill("mug-blue")
    page.get_by_label("Name").fill("Hoodie grey L")
    page.get_by_label("Category").select_option(label="Tees")
    page.get_by_label("Sale price").fill("39.90")
    page.get_by_label("Barcodes").fill("4006381333948\n4006381333955")
    page.get_by_role("button", name="Create product").click()
    expect(page.locator(".field.has-error")).to_contain_text("already used")
    screenshot("inventory-product-form-error")

    page.get_by_label("SKU").fill("HOOD-GREY-L")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="HOOD-GREY-L · Hoodie grey L")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("HOOD-GREY-L created")
    expect(page.get_by_text("4006381333955")).to_be_visible()
    assert Product.objects.get(sku="HOOD-GREY-L").barcodes.count() == 2
    screenshot("inventory-product-detail-new")

    page.goto(f"/inventory/products/{floor['tee'].pk}/")
    expect(page.get_by_text("1 box = 12 pcs")).to_be_visible()
    screenshot("inventory-product-detail")
    assert page.js_errors == []


def test_search_and_sort_the_product_list_without_reload(page, screenshot, floor):
    for n in range(30):
        ProductFactory(sku=f"SOCK-{n:03d}", name=f"Sock pair {n}")
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/products/")
    expect(page.locator("#rows tbody tr")).to_have_count(32)
    page.evaluate("window.__marker = 'same page'")

    # when: typing in the search box (focused when the page opens)
    expect(page.get_by_label("Search products")).to_be_focused()
    page.keyboard.type("tee")
    expect(page.locator("#rows tbody tr")).to_have_count(1)
    expect(page.locator("#rows")).to_contain_text("TEE-RED-M")
    assert page.evaluate("window.__marker") == "same page"
    assert "q=tee" in page.url

    # and a barcode finds its product; a sort header keeps the search
    page.get_by_label("Search products").fill("5901234123457")
    expect(page.locator("#rows tbody tr")).to_have_count(1)
    expect(page.locator("#rows")).to_contain_text("MUG-BLUE")
    page.get_by_label("Search products").fill("sock")
    expect(page.locator("#rows tbody tr")).to_have_count(30)
    page.locator("#rows").get_by_role("link", name="SKU").click()  # ascending is the default: now descending
    expect(page.locator("#rows tbody tr").first).to_contain_text("SOCK-029")
    assert "ordering=-sku" in page.url
    page.get_by_label("Search products").fill("sock pair 1")
    expect(page.locator("#rows tbody tr").first).to_contain_text("SOCK-019")  # still descending
    assert page.evaluate("window.__marker") == "same page"
    screenshot("inventory-products-search")
    assert page.js_errors == []


def test_scanner_transfer_with_the_keyboard_only(page, screenshot, floor):
    tee, mug, stock, shelf = floor["tee"], floor["mug"], floor["stock"], floor["shelf"]
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/transfer/")
    focused = "document.activeElement && document.activeElement.id"
    assert page.evaluate(focused) == "scan-code"

    # the source bin, three items (one of them a box of 12), an unknown code, the destination bin
    scan(page, "LOC-STOCK")
    expect(page.locator("#scan-message")).to_contain_text("From WH1/Stock")
    scan(page, EAN)
    expect(page.locator("#scan-message")).to_contain_text("→ 1")
    scan(page, EAN)
    expect(page.locator("#scan-message")).to_contain_text("→ 2")
    scan(page, "BOX-TEE-12")
    expect(page.locator("#scan-message")).to_contain_text("→ 14")
    scan(page, "5901234123457")
    expect(page.locator("#scan-message")).to_contain_text("MUG-BLUE")
    assert page.evaluate(focused) == "scan-code"
    scan(page, "NOPE-123")
    expect(page.locator("#scan-message")).to_contain_text("Unknown code “NOPE-123”")
    expect(page.locator("#scan-code")).to_have_class("scan-input flash-bad")
    screenshot("inventory-transfer-unknown-code")
    assert page.evaluate(focused) == "scan-code"
    page.get_by_role("heading", name="Transfer").click()  # focus leaves the input...
    assert page.evaluate(focused) != "scan-code"
    scan(page, "LOC-A01")  # ...and the scan still lands in it
    expect(page.locator("#scan-message")).to_contain_text("To WH1/Aisle A/A-01")
    expect(page.locator("#panel tbody tr")).to_have_count(2)

    # a reload keeps the work
    page.reload()
    expect(page.locator("#panel tbody tr")).to_have_count(2)
    expect(page.locator("#to-bin")).to_have_value(str(shelf.pk))

    # the mug's quantity typed, then Enter goes back to scanning
    mug_qty = page.get_by_label("Quantity of MUG-BLUE")
    mug_qty.fill("4")
    mug_qty.press("Enter")
    expect(page.locator("#panel .summary")).to_contain_text(
        "2 lines · 18 pcs"
    )  # 14 tees + 4 mugs, per stock unit
    screenshot("inventory-transfer-ready")

    page.get_by_role("button", name="Done").click()
    expect(page.locator("#scan-message")).to_contain_text("Moved 18 pcs of 2 product(s)")
    expect(page.locator("#panel")).to_contain_text("Nothing scanned yet")
    assert (on_hand(tee, stock), on_hand(tee, shelf)) == (26, 14)
    assert (on_hand(mug, stock), on_hand(mug, shelf)) == (5, 4)
    screenshot("inventory-transfer-done")
    assert page.js_errors == []


def test_cycle_count_scanned_reviewed_and_applied(page, screenshot, floor):
    tee, mug, stock = floor["tee"], floor["mug"], floor["stock"]
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/counts/")
    page.get_by_role("link", name="New count").click()
    page.get_by_label("Bin", exact=True).select_option(label="WH1/Stock")
    page.get_by_role("button", name="Start counting").click()
    expect(page.locator("h1")).to_contain_text("WH1/Stock")
    expect(page.locator("#panel tbody tr")).to_have_count(2)  # what the system expects there

    # three tee boxes and one loose tee scanned in a burst, faster than the server answers;
    # the mugs counted by hand
    for code in ("BOX-TEE-12", "BOX-TEE-12", "BOX-TEE-12", EAN):
        scan(page, code)
    expect(page.locator("#scan-message")).to_contain_text("→ 37 pcs counted")
    mug_count = page.get_by_label("Counted MUG-BLUE")
    mug_count.fill("9")
    mug_count.press("Enter")
    expect(page.locator(".count-summary")).to_contain_text("2 counted")
    expect(page.locator("#panel tr.diff")).to_have_count(1)
    expect(page.locator("#panel tr.diff")).to_contain_text("-3")
    screenshot("inventory-count-review")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("h1 .badge")).to_have_text("applied")
    expect(page.locator("#toasts")).to_contain_text("applied")
    sheet = CountSheet.objects.get()
    assert sheet.status == CountStatus.APPLIED
    assert (on_hand(tee, stock), on_hand(mug, stock)) == (37, 9)
    screenshot("inventory-count-applied")
    assert page.js_errors == []


def test_valuation_replenishment_and_ledger_pages(page, screenshot, floor):
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/valuation/")
    expect(page.locator(".tile").first).to_contain_text("186.50")  # 40 x 4.10 + 9 x 2.50
    expect(page.locator("table").last).to_contain_text("TEE-RED-M")
    page.get_by_label("As of").fill("2000-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".tile", has_text="As of 2000-01-31")).to_contain_text("0.00")
    expect(page.locator("table").first).to_contain_text("+$186.50")  # nothing then, all of it now
    screenshot("inventory-valuation")

    page.get_by_role("navigation", name="Inventory").get_by_role("link", name="Replenishment").click()
    expect(page.locator("#body")).to_contain_text("MUG-BLUE")
    screenshot("inventory-replenishment")

    page.get_by_role("navigation", name="Inventory").get_by_role("link", name="Ledger").click()
    page.locator("#rows tbody tr").first.get_by_role("link", name="Reverse…").click()
    page.get_by_label("Reason").fill("received twice")
    screenshot("inventory-ledger-reverse")
    page.get_by_role("button", name="Reverse move").click()
    expect(page.locator("#rows tbody tr").first).to_contain_text("Reversal")
    expect(page.locator("#reverse")).to_be_empty()
    kind = page.get_by_label("Kind")
    expect(kind.locator("option:checked")).to_have_text("All")
    kind.select_option(label="Reversal")
    expect(page.locator("#rows tbody tr")).to_have_count(1)
    assert "kind=reversal" in page.url
    screenshot("inventory-ledger")

    page.goto(f"/inventory/warehouses/{floor['wh'].pk}/")
    expect(page.locator("table")).to_contain_text("A-01")
    screenshot("inventory-warehouse")
    assert page.js_errors == []


def test_adjust_and_scrap_by_scanner(page, screenshot, floor):
    tee, stock = floor["tee"], floor["stock"]
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/adjust/")

    scan(page, "LOC-STOCK")
    expect(page.locator("#scan-message")).to_contain_text("Bin WH1/Stock")
    page.get_by_label("Scrap (damaged, expired)").check()
    expect(page.locator("#panel thead")).to_contain_text("Scrap")
    page.get_by_label("Reason").fill("Damaged")
    page.locator("#scan-code").click()
    scan(page, EAN)
    scan(page, EAN)
    expect(page.locator("#panel tbody tr")).to_contain_text("38")  # what is left after scrapping 2
    screenshot("inventory-adjust-scrap")

    page.get_by_role("button", name="Done").click()
    expect(page.locator("#scan-message")).to_contain_text("Scrapped 1 of 1 line(s) at WH1/Stock")
    assert on_hand(tee, stock) == 38
    assert page.js_errors == []


def test_a_toast_shows_once(page, floor):
    login(page, "wendy", "s3cret-pass")
    page.goto("/inventory/")
    page.get_by_role("button", name="Run check now").click()
    expect(page.locator("#checktile")).to_contain_text("No drift")
    page.wait_for_load_state("networkidle")  # every request the click set off has been answered
    expect(page.locator("#toasts .toast")).to_have_count(1)
    expect(page.locator("#toasts .toast")).to_contain_text("agree with the ledger")
