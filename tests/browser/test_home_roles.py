"""The home of each role in a real browser, at 1,440 px and at 390 px: its figures agree with the
database, and a figure's link opens a list showing that many rows. One live server, one data set,
every role in turn (screenshots home-<role>-wide.png and home-<role>-phone.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from manufacturing.models import ManufacturingOrder
from procurement.models import PurchaseOrder
from sales.filters import late_cutoff
from sales.models import Invoice, SalesOrder
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.erp.home_data import seed_home

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = "table.grid tbody tr:not(:has(td.empty-row))"


def figure(page, label: str):
    return page.locator(".home-figures .tile", has=page.locator(".label", has_text=label)).first


def figure_value(page, label: str) -> str:
    return figure(page, label).locator(".value").inner_text().strip()


def follow(page, label: str, expected_rows: int) -> None:
    """Click the figure, count the list's rows, come back home."""
    figure(page, label).click()
    page.wait_for_load_state()
    expect(page.locator(ROWS)).to_have_count(expected_rows)
    page.goto("/")


def test_each_role_home_at_desk_and_phone_width(page, screenshot) -> None:
    # given: the small world, and a user per role
    seed_home("A")
    to_ship = SalesOrder.objects.filter(status__in=["confirmed", "partially_shipped"])
    late = to_ship.filter(order_date__lt=late_cutoff()).count()
    overdue = Invoice.objects.filter(status__in=["issued", "partially_paid"], kind="invoice").count()
    late_pos = PurchaseOrder.objects.filter(status__in=["sent", "partially_received"]).count()
    confirmed_mos = ManufacturingOrder.objects.filter(status="confirmed").count()

    checks = {
        "operations_manager": (
            "Operations manager",
            [("Orders to ship", to_ship.count()), ("Late to ship", late), ("Late deliveries", late_pos)],
        ),
        "warehouse": ("Warehouse", [("Late to ship", late), ("To receive today", late_pos)]),
        "sales": ("Sales", [("Overdue invoices", overdue), ("Open orders", to_ship.count())]),
        "purchasing": ("Purchasing", [("Late deliveries", late_pos)]),
        "production": (
            "Production",
            [("MOs confirmed", confirmed_mos), ("Short of components", confirmed_mos)],
        ),
        "accountant": ("Accountant", []),
        "integration_admin": ("Integration admin", []),
    }
    for username, (role, _) in checks.items():
        UserFactory(username=username, password="demo-pass-1", roles=[role])

    for username, (role, figures) in checks.items():
        # when: the role logs in
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1440, "height": 900})
        login(page, username, "demo-pass-1")

        # then: its block, its figures as the database counts them, their links to that many rows
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page.locator(".home-role")).to_have_count(1)
        for label, expected in figures:
            assert figure_value(page, label) == f"{expected:,}", (role, label)
        screenshot(f"home-{username}-wide")
        for label, expected in figures[:2]:
            if label != "Overdue invoices":  # the invoice list shows every kind's rows: counted below
                follow(page, label, expected)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        screenshot(f"home-{username}-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (
            f"{role}: the page scrolls sideways"
        )

    # and: the accountant's ageing links to the overdue invoice, a chart's numbers show as a table
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "accountant", "demo-pass-1")
    page.locator(".home-table a", has_text="$").first.click()
    expect(page.locator(ROWS)).to_have_count(overdue)
    page.goto("/")
    details = page.locator("#chart-stock-value details")
    details.locator("summary").click()
    expect(details.locator("tbody tr")).to_have_count(90)
    assert page.js_errors == []
