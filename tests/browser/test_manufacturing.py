"""Manufacturing in a real browser: a two-level BOM typed with the keyboard (rows added and removed
in place, the roll-up following), an order confirmed, produced in part and finished, MRP run and
converted; screenshots of the BOM editor, the order and the MRP screen."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inventory.services import stock_receive
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOStatus
from manufacturing.services import ComponentSpec, OperationSpec, bom_create, work_centre_create
from procurement.models import PurchaseOrder
from procurement.services import supplier_item_set
from sales.services import order_confirm
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    """Bike parts in WH1 (10 frames at 50, 20 rims at 8, 1000 spokes at 0.10), an assembly work centre."""
    UserFactory(username="pia", password="s3cret-pass", roles=["Production"], first_name="Pia")
    unit("pcs")  # transactional tests flush what the migrations created
    wh = warehouse("WH1")
    parts = {
        "frame": ProductFactory(sku="FRAME", name="Frame aluminium 54 cm"),
        "rim": ProductFactory(sku="RIM", name="Rim 26 inch"),
        "spoke": ProductFactory(sku="SPOKE", name="Spoke steel 2 mm"),
        "wheel": ProductFactory(sku="WHEEL", name="Wheel 26 inch"),
        "bike": ProductFactory(sku="BIKE", name="City bike"),
    }
    for key, quantity, cost in (("frame", 10, "50.00"), ("rim", 20, "8.00"), ("spoke", 1000, "0.10")):
        stock_receive(product=parts[key], location=bin_of(wh), quantity=quantity, unit_cost=cost)
    centre = work_centre_create(code="ASM", name="Assembly", cost_per_hour="60.00")
    return {"wh": wh, "centre": centre, **parts}


def focused(page) -> str:
    return page.evaluate(
        "document.activeElement && (document.activeElement.id || document.activeElement.name || '')"
    )


def add_component(page, code: str, quantity: str) -> None:
    """Type a component, Enter; its quantity has the focus: type it, Enter, back in the box."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(
        page.locator("#c-rows tr.c-row", has_text=code).locator("input[name=component_quantity]")
    ).to_be_focused()
    page.keyboard.type(quantity)
    page.keyboard.press("Enter")
    expect(page.locator("#c-code")).to_be_focused()


def test_a_two_level_bom_is_typed_with_the_keyboard(page, screenshot, shop):
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "pia", "s3cret-pass")

    # when: a new BOM, the product picked by typing its SKU
    page.goto("/manufacturing/boms/new/")
    assert focused(page) == "p-code"
    page.keyboard.type("WHEEL")
    expect(page.locator("#p-suggest [role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    page.wait_for_url("**/boms/new/?product=*")
    expect(page.get_by_role("heading", name="BOM of WHEEL")).to_be_visible()
    assert focused(page) == "c-code"

    # the rim by its SKU, Enter before any suggestion has come
    add_component(page, "RIM", "1")
    expect(page.locator("#rollup-unit")).to_have_text("$8.00")

    # the spokes picked from the type-ahead, with 10 % scrap on the same row
    page.keyboard.type("spo")
    expect(page.locator("#c-suggest [role=option][aria-selected=true]")).to_contain_text("SPOKE")
    page.keyboard.press("Enter")
    spoke_row = page.locator("#c-rows tr.c-row", has_text="SPOKE")
    expect(spoke_row.locator("input[name=component_quantity]")).to_be_focused()
    page.keyboard.type("32")
    page.keyboard.press("Tab")  # the unit
    page.keyboard.press("Tab")  # the scrap
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.locator("#c-code")).to_be_focused()
    expect(page.locator("#rollup-unit")).to_have_text("$11.52")  # 8 + 32 x 1.1 x 0.10

    # a frame added by mistake, removed in place with the keyboard
    add_component(page, "FRAME", "1")
    expect(page.locator("#c-rows tr.c-row")).to_have_count(3)
    expect(page.locator("#rollup-unit")).to_have_text("$61.52")
    page.locator("#c-rows tr.c-row", has_text="FRAME").get_by_role("button", name="Remove FRAME").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#c-rows tr.c-row")).to_have_count(2)
    expect(page.locator("#c-code")).to_be_focused()
    expect(page.locator("#rollup-unit")).to_have_text("$11.52")

    # an operation: its name, then Enter through minutes and cost
    page.locator("#o-add").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#o-rows input[name=operation_name]")).to_be_focused()
    page.keyboard.type("Lace and true")
    page.keyboard.press("Enter")
    expect(page.locator("#o-rows input[name=operation_minutes]")).to_be_focused()
    page.keyboard.type("30")
    page.keyboard.press("Enter")
    expect(page.locator("#rollup-unit")).to_have_text("$41.52")  # + 30 min at 60/h
    page.get_by_label("Lead time (days)").fill("2")
    page.get_by_role("button", name="Save BOM").click()
    page.wait_for_url("**/manufacturing/boms/*/")
    expect(page.locator("#toasts")).to_contain_text("WHEEL BOM v1 is saved (active).")
    wheel_bom = BillOfMaterials.objects.get(product=shop["wheel"])
    assert wheel_bom.is_active
    assert [
        (c.product.sku, c.quantity, c.scrap_percent) for c in wheel_bom.components.select_related("product")
    ] == [
        ("RIM", 1, 0),
        ("SPOKE", 32, 10),
    ]

    # then the bike, whose wheels roll up from the BOM just saved
    page.goto(f"/manufacturing/boms/new/?product={shop['bike'].pk}")
    add_component(page, "FRAME", "1")
    add_component(page, "WHEEL", "2")
    wheel_line = page.locator("#rollup tr", has_text="WHEEL")
    expect(wheel_line).to_contain_text("rolled up from its BOM v1")
    expect(wheel_line).to_contain_text("41.52")
    expect(page.locator("#rollup-unit")).to_have_text("$133.04")  # 50 + 2 x 41.52
    expect(page.locator("#c-rows")).to_contain_text("sub-assembly · its BOM v1")
    page.locator("#c-code").fill("BIKE")
    page.keyboard.press("Enter")  # its own product: refused, said where one looks
    expect(page.locator("#c-msg")).to_contain_text("A BOM cannot use its own product (BIKE).")
    page.locator("#c-code").fill("")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("manufacturing-bom-editor")
    page.get_by_role("button", name="Save BOM").click()
    page.wait_for_url("**/manufacturing/boms/*/")
    bike_bom = BillOfMaterials.objects.get(product=shop["bike"])
    expect(page.locator("#where-used")).to_contain_text("In no bill of materials")

    # a cycle is refused with its path, in the wheel's editor
    page.goto(f"/manufacturing/boms/{wheel_bom.pk}/")
    expect(page.locator("#where-used")).to_contain_text("BIKE")
    page.locator("#c-code").focus()
    add_component(page, "BIKE", "1")
    expect(page.locator("#rollup-cycle")).to_contain_text("WHEEL → BIKE → WHEEL")
    page.get_by_role("button", name="Save v1").click()
    expect(page.locator("[data-errors]")).to_contain_text("That makes a cycle: WHEEL → BIKE → WHEEL.")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("manufacturing-bom-cycle")
    assert wheel_bom.components.count() == 2
    assert bike_bom.is_active
    assert page.js_errors == []


def test_an_order_is_confirmed_produced_in_part_and_finished(page, screenshot, shop):
    # given: the wheel's BOM
    bom_create(
        product=shop["wheel"],
        components=[ComponentSpec(shop["rim"], 1), ComponentSpec(shop["spoke"], 32, scrap_percent=10)],
        operations=[OperationSpec("Lace and true", shop["centre"], 30)],
        lead_time_days=2,
    )
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "pia", "s3cret-pass")

    # when: an order for 4 wheels
    page.goto("/manufacturing/")
    page.get_by_role("link", name="+ New order").click()
    page.get_by_label("Product").select_option(label="WHEEL · Wheel 26 inch")
    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Create draft order").click()
    page.wait_for_url("**/manufacturing/orders/*/")
    mo = ManufacturingOrder.objects.get()
    expect(page.locator("#mo-status")).to_have_text("Draft")

    page.evaluate("window.__marker = 'same page'")
    page.locator("#action-confirm").click()
    expect(page.locator("#mo-status")).to_have_text("Confirmed")
    expect(page.locator("#toasts .toast", has_text="every component is reserved")).to_have_count(1)
    expect(page.locator("#mo-components tr", has_text="SPOKE")).to_contain_text("141")

    page.locator("#produce-quantity").fill("1")
    page.get_by_role("button", name="Produce", exact=True).click()
    expect(page.locator("#mo-produced")).to_have_text("1 of 4 pcs")
    expect(page.locator("#mo-status")).to_have_text("In progress")
    expect(page.locator("#mo-cost")).to_have_text("$41.60")
    screenshot("manufacturing-order-detail")

    page.locator("#produce-quantity").fill("5")
    page.get_by_role("button", name="Produce", exact=True).click()
    expect(page.locator("#mo-error")).to_contain_text("at most 3 more")
    expect(page.locator("#mo-produced")).to_have_text("1 of 4 pcs")

    page.locator("#action-finish").click()
    expect(page.locator("#mo-status")).to_have_text("Done")
    assert page.evaluate("window.__marker") == "same page"  # every action answered a fragment
    mo.refresh_from_db()
    assert (mo.status, mo.quantity_produced) == (MOStatus.DONE, 1)
    assert page.js_errors == []


def test_mrp_is_run_and_its_suggestions_converted(page, screenshot, shop):
    # given: bikes and wheels made here, frames bought in boxes of 2 from Acme; 15 bikes sold for day 10
    bom_create(
        product=shop["wheel"],
        components=[ComponentSpec(shop["rim"], 1), ComponentSpec(shop["spoke"], 32, scrap_percent=10)],
        lead_time_days=2,
    )
    bom_create(
        product=shop["bike"],
        components=[ComponentSpec(shop["frame"], 1), ComponentSpec(shop["wheel"], 2)],
        lead_time_days=3,
    )
    acme = SupplierFactory(name="Acme Frames", lead_time_days=6)
    supplier_item_set(
        supplier=acme,
        product=shop["frame"],
        unit_price="90",
        purchase_unit=unit("box"),
        factor=2,
        is_preferred=True,
    )
    order_confirm(
        order=order_for((shop["bike"], 15), order_date=timezone.now() + datetime.timedelta(days=10))
    )
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "pia", "s3cret-pass")

    # when: MRP runs to a horizon
    page.goto("/manufacturing/mrp/")
    expect(page.locator("#suggestions")).to_contain_text("Run MRP to see what to make and buy")
    horizon = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    page.get_by_label("Horizon").fill(horizon)
    page.get_by_role("button", name="Run MRP").click()

    # then: the run is a job; its page says what was planned and leads to the suggestions
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "done", timeout=30_000)
    # bikes and wheels to make; frames, rims and spokes to buy
    expect(page.locator(".job-summary")).to_have_text(f"MRP planned to {horizon}: 5 suggestions.")
    expect(page.locator("#job-progress .tile", has_text="Make")).to_contain_text("2")
    expect(page.locator("#job-progress .tile", has_text="Buy")).to_contain_text("3")
    screenshot("manufacturing-mrp-job")
    page.get_by_role("link", name="Open the result").click()
    page.wait_for_url("**/manufacturing/mrp/")
    expect(page.locator("#suggestions tr[data-sku=BIKE]")).to_contain_text("15")
    frames = page.locator("#suggestions tr[data-sku=FRAME]")
    expect(frames).to_contain_text("6 pcs")
    expect(frames).to_contain_text("Acme Frames · 3 box")
    page.locator("#suggestions tr[data-sku=BIKE] details summary").click()
    expect(page.locator("#suggestions tr[data-sku=BIKE] details li")).to_contain_text("SO-")
    screenshot("manufacturing-mrp")

    # and the bikes and frames are converted
    page.get_by_label("Convert the suggestions for BIKE").check()
    page.get_by_label("Convert the suggestions for FRAME").check()
    page.get_by_role("button", name="Convert selected").click()
    expect(page.locator("#mrp-created")).to_contain_text("Created as drafts")

    # then
    mo = ManufacturingOrder.objects.get(product=shop["bike"])
    po = PurchaseOrder.objects.get()
    expect(page.locator("#mrp-created")).to_contain_text(mo.number)
    expect(page.locator("#mrp-created")).to_contain_text(po.number)
    expect(page.locator("#suggestions tr[data-sku=BIKE]")).to_contain_text(mo.number)
    expect(page.get_by_label("Convert the suggestions for BIKE")).to_be_disabled()
    screenshot("manufacturing-mrp-converted")
    page.locator("#mrp-created").get_by_role("link", name=mo.number).click()
    page.wait_for_url(f"**/manufacturing/orders/{mo.pk}/")
    expect(page.locator("#mo-status")).to_have_text("Draft")
    assert page.js_errors == []
