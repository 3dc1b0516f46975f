"""Documents in a real browser: an invoice found from the search box, its page, its PDF downloaded,
its print page; screenshots of the invoice page (wide and phone), the print page and a pick list."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from sales.services import (
    LineSpec,
    TaxSpec,
    address_set,
    invoice_create,
    invoice_issue,
    order_confirm,
    order_create,
    payment_record,
    shipment_create,
)
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)


def invoiced_order():
    acme = CustomerFactory(
        name="Acme Corporation International Holdings", code="C-ACME", email="ap@acme.test"
    )
    address_set(
        customer=acme,
        kind="billing",
        values={
            "name": "Ada Lovelace",
            "company": "Acme Corp",
            "line1": "12 Analytical Way",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    )
    lines = [
        LineSpec(
            product=stocked_product(10, sku=f"TEE-{n:02d}", name=f"T-shirt model {n}", price="20.00"),
            quantity=2,
            taxes=(TaxSpec("VAT", "0.2"),),
        )
        for n in range(6)
    ]
    order = order_create(channel=ChannelFactory(), customer=acme, lines=lines, external_reference="#1042")
    order = order_confirm(order=order)
    shipment_create(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    invoice = invoice_issue(invoice=invoice_create(order=order))
    payment_record(invoice=invoice, amount="50.00", method="card", reference="ch_3PqR")
    return order, invoice


def test_find_an_invoice_open_it_and_download_its_pdf(page, screenshot):
    # given
    UserFactory(username="sam", password="s3cret-pass", roles=["Sales"])
    order, invoice = invoiced_order()
    login(page, "sam", "s3cret-pass")

    # when: the channel's order number typed in the search box finds the invoice
    page.locator("#global-search").fill("1042")
    pop = page.locator("#search-pop")
    expect(pop.get_by_text("Invoices and credit notes")).to_be_visible()
    screenshot("documents-search-pop")
    pop.get_by_role("link", name=f"{invoice.number} · Acme Corporation International Holdings").click()

    # then: the invoice page
    page.wait_for_url(f"**/sales/invoices/{invoice.pk}/")
    expect(page.locator("h1")).to_contain_text(invoice.number)
    expect(page.get_by_role("cell", name="ch_3PqR")).to_be_visible()
    expect(page.locator(".doc-timeline")).to_contain_text("Payment of $50.00 received")
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    screenshot("documents-invoice-detail")

    # when: the PDF is downloaded
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    download = download_info.value
    # then
    assert download.suggested_filename == f"{invoice.number}.pdf"
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF")
    assert invoice.number in PdfReader(io.BytesIO(data)).pages[0].extract_text()

    # the print page, as the browser prints it
    page.goto(f"/sales/invoices/{invoice.pk}/print/")
    expect(page.locator(".doc-title")).to_contain_text(invoice.number)
    screenshot("documents-invoice-print")

    # the pick list of a shipment
    shipment = order.shipments.get()
    page.goto(f"/sales/shipments/{shipment.pk}/pick-list/")
    expect(page.locator("table.lines tbody tr")).to_have_count(6)
    screenshot("documents-pick-list")

    # the invoice page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/sales/invoices/{invoice.pk}/")
    expect(page.locator("h1")).to_contain_text(invoice.number)
    screenshot("documents-invoice-detail-phone")
    page.goto(f"/sales/shipments/{shipment.pk}/delivery-note/")
    screenshot("documents-delivery-note-phone")
    assert page.js_errors == []
