"""The home of each role in a real browser, at 1,440 px and at 390 px: its figures agree with the
database, and a figure's link opens a list showing that many rows; on a phone nothing is cut off at
the right (no table scrolls sideways). One live server, one data set, every role in turn
(screenshots home-<role>-wide.png and home-<role>-phone.png)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from erp import formatting
from integrations.models import Connection, Delivery
from inventory.models import CountSheet, Reservation
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


def ageing_column(days_overdue: int) -> str:
    """The ageing table's column of an amount so many days past its due date (counted here, apart
    from the code that draws the table)."""
    if days_overdue <= 0:
        return "Current"
    for label, high in (("1–30", 30), ("31–60", 60), ("61–90", 90)):
        if days_overdue <= high:
            return label
    return "90+"


def assert_nothing_cut_off(page, role: str) -> None:
    """The page does not scroll sideways, and neither does any table of the home's (a table wider
    than its box hides its right-hand columns behind a scroll nobody sees on a phone)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{role}: the page scrolls sideways"
    widths = page.locator(".home-table").evaluate_all(
        "els => els.map(el => [el.scrollWidth, el.clientWidth])"
    )
    for wide, room in widths:
        assert wide <= room, f"{role}: a home table is {wide} px wide in {room} px"


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
    held = Reservation.objects.filter(status="active", demand_type="sales.orderline").values("demand_pk")
    ready = to_ship.filter(lines__pk__in=held).distinct().count()
    counts_open = CountSheet.objects.filter(status="open").count()
    drafts_to_approve = PurchaseOrder.objects.filter(
        status="draft", total__gt=settings.PURCHASE_APPROVAL_THRESHOLD, approved_at__isnull=True
    ).count()
    dead = Delivery.objects.filter(status="dead").count()
    connections = Connection.objects.count()
    (invoice,) = Invoice.objects.filter(status__in=["issued", "partially_paid"], kind="invoice")
    receivable = formatting.money(invoice.total - invoice.amount_paid, invoice.currency, total=True)
    receivable_column = ageing_column((timezone.localdate() - invoice.due_date).days)

    checks = {
        "operations_manager": (
            "Operations manager",
            [("Orders to ship", to_ship.count()), ("Late to ship", late), ("Late deliveries", late_pos)],
        ),
        "warehouse": (
            "Warehouse",
            [
                ("Late to ship", late),
                ("To receive today", late_pos),
                ("Ready to ship", ready),
                ("Counts open", counts_open),
            ],
        ),
        "sales": ("Sales", [("Overdue invoices", overdue), ("Open orders", to_ship.count())]),
        "purchasing": (
            "Purchasing",
            [("Late deliveries", late_pos), ("Waiting for approval", drafts_to_approve)],
        ),
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
        if username == "accountant":  # the open invoice, in its ageing column, and nowhere else
            row = page.locator("section[aria-label='Receivables ageing'] tbody tr", has_text=invoice.currency)
            expect(row.locator(f"td[data-label='{receivable_column}']")).to_have_text(receivable)
            zero = formatting.money(Decimal(0), invoice.currency, total=True)
            others = row.locator(f"td:not([data-label='{receivable_column}']):not([data-label='Currency'])")
            assert others.all_inner_texts() == [zero] * 4
        if username == "integration_admin":
            assert figure_value(page, "Dead letters") == f"{dead:,}"
            assert figure_value(page, "Tools failing").endswith(f" of {connections}")
        screenshot(f"home-{username}-wide")
        for label, expected in figures[:2]:
            if label != "Overdue invoices":  # the invoice list shows every kind's rows: counted below
                follow(page, label, expected)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        screenshot(f"home-{username}-phone")
        assert_nothing_cut_off(page, role)

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
