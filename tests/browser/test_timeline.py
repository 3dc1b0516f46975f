"""The timeline in a real browser: Bea comments on a purchase order naming Max; Max sees the bell's
count, opens the notification and lands on the order, his comment's thread under the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inventory import services as stock
from procurement import services
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def po():
    UserFactory(
        username="bea", password="s3cret-pass", roles=["Purchasing"], first_name="Bea", last_name="Buyer"
    )
    UserFactory(
        username="max",
        password="s3cret-pass",
        roles=["Purchasing manager"],
        first_name="Max",
        last_name="Manager",
    )
    unit("pcs")
    wh = warehouse("WH1")
    bin_of(wh)
    acme = SupplierFactory(name="Acme Textiles", code="S-ACME", currency="USD")
    tee = stock.product_create(sku="TEE-BLK-M", name="T-shirt black M")
    order = services.po_create(
        supplier=acme, warehouse=wh, lines=[services.POLineSpec(tee, 12, unit_cost="6.00")]
    )
    return services.po_send(po=order)


def test_a_mention_on_a_purchase_order_reaches_the_other_user(page, screenshot, po):
    page.set_viewport_size({"width": 1440, "height": 900})
    # Bea comments, naming Max, with the keyboard (Ctrl+Enter)
    login(page, "bea", "s3cret-pass")
    page.goto(f"/procurement/orders/{po.pk}/")
    box = page.get_by_label("Comment")
    box.fill("@max the supplier moved delivery to Friday: fine with the 12 T-shirts?")
    box.press("Control+Enter")
    expect(page.locator(".tl-entry.tl-comment")).to_have_count(1)
    expect(page.locator(".tl-comment .mention")).to_have_text("@max")
    expect(box).to_have_value("")
    screenshot("timeline-po-commented-1440")
    page.get_by_role("button", name="Log out").click()

    # Max sees the bell's count, opens the notification, lands on the order's timeline
    login(page, "max", "s3cret-pass")
    bell = page.locator("#bell")
    expect(bell.locator(".count")).to_have_text("1")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    screenshot("timeline-notifications-1440")
    page.get_by_role("link", name=re.compile(r"Bea Buyer mentioned you on purchase order")).click()
    page.wait_for_url(re.compile(rf"/procurement/orders/{po.pk}/#timeline$"))
    expect(page.locator(".tl-entry.tl-comment")).to_contain_text("supplier moved delivery to Friday")
    expect(page.locator(".tl-entry.tl-comment .tl-actor")).to_contain_text("Bea Buyer")
    expect(bell.locator(".count")).to_have_count(0)
    screenshot("timeline-po-landed-1440")

    # and at a phone's width the timeline still reads
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#timeline").scroll_into_view_if_needed()
    screenshot("timeline-po-390")
    assert page.js_errors == []
