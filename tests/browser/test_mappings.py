"""Value mappings in a real browser: an invoice whose tax has no tax code mapped in Tally (the kit's
test accounting tool, shaped like QuickBooks) waits in the quarantine; the tax code is mapped there,
in place, and the invoice then reaches the tool; the Mappings tab shows it and maps an account.
Screenshots go to artifacts/screenshots/mappings-*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations import http, outbound, registry
from integrations.connections import connection_create
from integrations.models import Connection, Delivery, DeliveryStatus, ValueMapping
from sales.services import LineSpec, TaxSpec, invoice_create, invoice_issue, order_confirm, order_create
from tests.browser.conftest import SCREENSHOTS, login
from tests.erp.factories import UserFactory
from tests.integrations.conformance.tally.conformance import Harness as TallyHarness
from tests.integrations.conformance.tally.connector import TallyConnector
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def books() -> Iterator[tuple[TallyHarness, Connection]]:
    """An integration admin, and the books kept in Tally (its fake mounted on the hub's client)."""
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    registry.register(TallyConnector)
    tool = TallyHarness()
    try:
        with http.mounted(tool.base_url, tool.transport()):
            connection = connection_create(
                connector="tally", name="Tally books", settings=tool.settings(), secrets=tool.secrets()
            )
            yield tool, connection
    finally:
        registry.unregister(TallyConnector.key)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"mappings-{name}.png"), full_page=True)


def test_an_unmapped_tax_code_is_quarantined_mapped_in_the_ui_and_replayed(page, books) -> None:
    tool, connection = books
    wh = warehouse("WH1")
    mug = stocked_product(10, wh=wh, price="10.00", sku="BOOK-MUG", name="Mug")
    order = order_create(
        channel=ChannelFactory(warehouse=wh, invoice_policy="ordered"),
        customer=CustomerFactory(name="Ada Lovelace Ltd"),
        lines=[LineSpec(product=mug, quantity=2, taxes=[TaxSpec("VAT", "0.2")])],
    )
    order_confirm(order=order)
    invoice = invoice_issue(invoice=invoice_create(order=order))
    # the invoice waits for its customer, then its item (each pushed first): attempt it again now
    # each time rather than an hour later
    for _ in range(4):
        Delivery.objects.filter(connection=connection, status=DeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now()
        )
        outbound.deliveries_enqueue_due()
    waiting = Delivery.objects.get(connection=connection, topic="sales.invoice_issued")
    assert (waiting.status, waiting.missing) == (
        DeliveryStatus.DEAD,
        {"kind": "map tax code", "value": "VAT 20%"},
    )
    assert tool.records("invoice") == []

    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "ines", "s3cret-pass")
    page.goto(f"/integrations/connections/{connection.pk}/quarantine/")

    # the delivery waits for a tax code, with the tool's codes to pick from in place
    row = page.locator("tr.quarantine-group", has_text="VAT 20%")
    expect(row).to_contain_text("map tax code")
    expect(row).to_contain_text("1 delivery")
    picker = row.get_by_label("Tax code in Tally (test accounting tool) for VAT 20%")
    expect(picker).to_be_visible()
    shot(page, "01_quarantine")
    picker.select_option(label="Standard rate 20% (4)")
    row.get_by_role("button", name="Map it and replay").click()

    # mapped, replayed: the invoice reaches the books with the code on its line
    expect(
        page.get_by_text("Tax code for VAT 20%: Standard rate 20% (4); 1 delivery replayed.")
    ).to_be_visible()
    expect(page.get_by_text("Nothing is quarantined")).to_be_visible()
    shot(page, "02_mapped_and_replayed")
    page.wait_for_load_state("networkidle")  # the live server is done before the test reads the database
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.SUCCEEDED, waiting.last_error
    [there] = tool.records("invoice")
    assert there["name"] == invoice.number
    assert tool.line_tax_codes(there["id"]) == ["4"]

    # the Mappings tab: the tax code mapped, and an account mapped from the form of its section
    page.get_by_role("link", name="Mappings").click()
    taxes = page.locator("#map-tax_code")
    expect(taxes.locator("tbody tr")).to_contain_text(["VAT 20%"])
    expect(taxes.locator("tbody")).to_contain_text("Standard rate 20%")
    accounts = page.locator("#map-account")
    accounts.get_by_label("Our account").select_option(label="Accounts receivable")
    accounts.get_by_label("Account in Tally books").select_option(label="Accounts Receivable (A/R)")
    accounts.get_by_role("button", name="Map").click()
    expect(
        page.get_by_text("Account for Accounts receivable: Accounts Receivable (A/R) (84).")
    ).to_be_visible()
    expect(page.locator("#map-account tbody")).to_contain_text("Accounts Receivable (A/R)")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "03_mappings_tab")
    page.wait_for_load_state("networkidle")
    assert ValueMapping.objects.filter(connection=connection).count() == 2

    # removed again
    page.locator("#map-account").get_by_role("button", name="Remove the mapping of receivables").click()
    expect(page.locator("#map-account tbody")).to_contain_text("No account mapped yet.")
    assert page.js_errors == []
