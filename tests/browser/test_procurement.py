"""Procurement in a real browser: an order typed with the keyboard, sent, received with a scanner,
and replenishment turned into a draft order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inventory import services as stock
from inventory.models import LocationKind, StockLevel
from procurement import services
from procurement.models import PurchaseOrder, PurchaseOrderStatus
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db(transaction=True)

EAN = "4006381333931"


@pytest.fixture
def shop():
    """WH1; Acme sells T-shirts in boxes of 12 (with breaks) and mugs; the mug is below its minimum."""
    UserFactory(username="pat", password="s3cret-pass", roles=["Purchasing"], first_name="Pat")
    UserFactory(username="wendy", password="s3cret-pass", roles=["Warehouse"], first_name="Wendy")
    unit("pcs"), unit("box")  # transactional tests flush what the migrations created
    wh = warehouse("WH1")
    bin_of(wh)
    acme = SupplierFactory(
        name="Acme Textiles",
        code="S-ACME",
        address="1 Mill Road\nLeeds LS1 4AB\nUnited Kingdom",
        currency="USD",
    )
    tee = stock.product_create(sku="TEE-BLK-M", name="T-shirt black M", barcodes=[EAN])
    stock.product_unit_set(product=tee, unit="box", factor=12, barcode="BOX-TEE-12")
    services.supplier_item_set(
        supplier=acme,
        product=tee,
        unit_price="60.00",
        purchase_unit=unit("box"),
        factor=12,
        supplier_sku="AC-TB-M-12",
        is_preferred=True,
        price_breaks=[(10, "55.00")],
    )
    mug = stock.product_create(sku="MUG-BLUE", name="Mug blue 300 ml", barcodes=["5901234123457"])
    services.supplier_item_set(
        supplier=acme, product=mug, unit_price="2.50", supplier_sku="AC-MUG", is_preferred=True
    )
    stock.reorder_rule_set(product=mug, warehouse=wh, min_quantity=10, max_quantity=48, multiple=12)
    # some history for the list
    for quantity in (4, 12):
        po = services.po_create(supplier=acme, warehouse=wh, lines=[services.POLineSpec(tee, quantity)])
        services.po_send(po=po)
    return {"wh": wh, "acme": acme, "tee": tee, "mug": mug}


def scan(page, code: str) -> None:
    """What a scanner does: type the code into the focused input, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def in_stock(product) -> Decimal:
    levels = StockLevel.objects.filter(product=product, location__kind=LocationKind.INTERNAL)
    return sum((level.on_hand for level in levels), Decimal(0))


def test_order_with_the_keyboard_send_it_and_receive_it_with_a_scanner(page, screenshot, shop):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "pat", "s3cret-pass")

    # a new order, typed: supplier, warehouse, then SKU/barcode, Enter, quantity, Enter
    page.goto(reverse("procurement:order-new"))
    page.get_by_label("Supplier").select_option(label="Acme Textiles (S-ACME)")
    page.get_by_label("Warehouse").select_option(label="WH1 · Warehouse WH1")
    page.locator("#po-code").click()
    scan(page, "BOX-TEE-12")
    quantity = page.locator("#line-0-quantity")
    expect(quantity).to_be_focused()
    expect(page.locator("#lines")).to_contain_text("supplier SKU AC-TB-M-12")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#po-code")).to_be_focused()
    expect(page.locator("#po-total")).to_have_text("$180.00")

    # by name, through the type-ahead: arrows and Enter
    page.keyboard.type("mug bl")
    expect(page.locator("#suggest button")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#line-1-quantity")).to_be_focused()
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.locator("#po-total")).to_have_text("$205.00")
    screenshot("procurement-po-form")

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#po-status")).to_have_text("Draft")
    expect(page.locator("#toasts")).to_contain_text("is saved as a draft")
    po = PurchaseOrder.objects.order_by("-id").first()
    assert po is not None
    assert po.total == Decimal("205.00")

    # sent from its page (hx-confirm, answered with the refreshed fragment and a toast)
    page.get_by_role("button", name="Send to supplier").click()
    expect(page.locator("#po-status")).to_have_text("Sent")
    expect(page.locator("#toasts")).to_contain_text(f"{po.number} is sent to Acme Textiles")
    screenshot("procurement-po-detail")

    page.goto(reverse("procurement:order-print", args=[po.pk]))
    expect(page.get_by_role("heading", name="Purchase order")).to_be_visible()
    expect(page.get_by_role("cell", name="AC-TB-M-12", exact=True)).to_be_visible()
    screenshot("procurement-po-print")

    page.goto(reverse("procurement:orders"))
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    page.get_by_role("navigation", name="Status").get_by_role("link", name="Draft").click()
    expect(page.locator("#rows tbody tr")).to_have_count(1)  # the empty row
    assert "status=draft" in page.url
    page.get_by_role("navigation", name="Status").get_by_role("link", name="Sent").click()
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    screenshot("procurement-po-list")

    # the warehouse receives it: the order number, Enter; a box barcode, Enter, twice; Done
    page.get_by_role("button", name="Log out").click()
    login(page, "wendy", "s3cret-pass")
    page.goto(reverse("procurement:receive"))
    expect(page.locator("#scan-code")).to_be_focused()
    scan(page, po.number)
    expect(page.locator("#scan-message")).to_contain_text(f"{po.number} from Acme Textiles: 2 open lines")
    scan(page, "BOX-TEE-12")
    scan(page, "BOX-TEE-12")
    tee_line = po.lines.get(product=shop["tee"])
    expect(page.locator(f"[name='qty-{tee_line.pk}']")).to_have_value("2")
    expect(page.locator("#scan-message")).to_contain_text("→ 2 box now")
    scan(page, "NOT-A-CODE")
    expect(page.locator("#scan-message")).to_contain_text("Unknown code “NOT-A-CODE”")
    expect(page.locator("#scan-code")).to_be_focused()
    assert "stk-" in page.url  # a reload would keep the work
    screenshot("procurement-receiving")

    page.get_by_role("button", name="Done").click()
    expect(page.locator("#scan-result")).to_contain_text("RC-")
    expect(page.locator("#scan-result")).to_contain_text(f"{po.number} is now partially received")
    screenshot("procurement-receiving-done")
    assert in_stock(shop["tee"]) == 24
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert page.js_errors == []


def test_replenishment_select_and_create(page, screenshot, shop):
    login(page, "pat", "s3cret-pass")
    page.goto(reverse("procurement:index"))
    expect(page.locator(".tile", has_text="Below minimum")).to_contain_text("1")
    screenshot("procurement-landing")
    page.get_by_role("link", name="Replenishment What is below").click()
    expect(page.get_by_role("heading", name="Replenishment")).to_be_visible()
    page.get_by_label("Order MUG-BLUE for WH1").check()
    screenshot("procurement-replenishment")
    page.get_by_role("button", name="Create draft purchase orders").click()
    expect(page.locator(".notice.ok")).to_contain_text("Acme Textiles")
    po = PurchaseOrder.objects.get(notes="Replenishment")
    assert po.lines.get().quantity == 48  # up to the maximum, in the rule's multiple
    # the row now says it is covered by the new draft, and can no longer be ticked
    expect(page.get_by_label("MUG-BLUE is covered by a draft order")).to_be_disabled()
    expect(page.locator("table").get_by_role("link", name=po.number)).to_be_visible()
    screenshot("procurement-replenishment-created")
    page.locator(".notice.ok").get_by_role("link", name=po.number).click()
    expect(page.locator("#po-status")).to_have_text("Draft")
    assert page.js_errors == []


def test_the_other_pages_open_cleanly(page, screenshot, shop, settings):
    # given: a bill that failed the match, a draft above the approval threshold, a contact
    settings.PURCHASE_APPROVAL_THRESHOLD = Decimal("500")
    acme, tee = shop["acme"], shop["tee"]
    services.supplier_contact_add(
        supplier=acme, name="Jo Seller", email="jo@acme.example", role="Account manager"
    )
    po = PurchaseOrder.objects.order_by(
        "pk"
    ).first()  # the fixture's first (its number depends on the sequence)
    assert po is not None
    services.receipt_create(po=po, lines=[services.ReceiveLine(po.lines.get(), 4)])
    bill = services.bill_record(
        po=po, supplier_reference="AC-INV-981", lines=[services.BillLineSpec(po.lines.get(), 4, "62.50")]
    )
    draft = services.po_create(supplier=acme, warehouse=shop["wh"], lines=[services.POLineSpec(tee, 20)])
    login(page, "pat", "s3cret-pass")

    pages = [
        ("procurement-suppliers", reverse("procurement:suppliers"), "Suppliers"),
        ("procurement-supplier-detail", reverse("procurement:supplier", args=[acme.pk]), "Acme Textiles"),
        (
            "procurement-supplier-item",
            reverse("procurement:item-edit", args=[acme.pk, acme.items.get(product=tee).pk]),
            "TEE-BLK-M from Acme Textiles",
        ),
        ("procurement-bills", reverse("procurement:bills"), "Supplier bills"),
        ("procurement-bill-detail", reverse("procurement:bill", args=[bill.pk]), bill.number),
        (
            "procurement-bill-record",
            reverse("procurement:order-bill", args=[po.pk]),
            f"Record a bill for {po.number}",
        ),
        ("procurement-po-draft-approval", reverse("procurement:order", args=[draft.pk]), draft.number),
        ("procurement-po-edit", reverse("procurement:order-edit", args=[draft.pk]), f"Edit {draft.number}"),
    ]
    for name, url, heading in pages:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        screenshot(name)
    page.goto(reverse("procurement:order", args=[draft.pk]))
    expect(page.get_by_text("Needs approval by a purchasing manager")).to_be_visible()
    page.goto(reverse("procurement:bill", args=[bill.pk]))
    expect(page.get_by_text("The three-way match failed")).to_be_visible()
    assert page.js_errors == []
