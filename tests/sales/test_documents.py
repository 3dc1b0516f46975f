"""Printed sales documents: the invoice page, PDFs (invoice, packing slip, pick list, delivery note)
and emailing an invoice or a delivery note with its PDF attached."""

from __future__ import annotations

import io
import itertools

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from erp.models import OutboxEvent
from inventory.services import lot_get_or_create, stock_receive
from sales.models import Invoice, Shipment
from sales.services import (
    LineSpec,
    TaxSpec,
    invoice_create,
    invoice_issue,
    order_confirm,
    order_create,
    payment_record,
    shipment_create,
)
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.queries import assert_constant_queries
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "invoice"}


def client_for(username: str, role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, roles=[role]))
    return client


@pytest.fixture
def seller() -> Client:
    return client_for("sam", "Sales")


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


BATCH = itertools.count(1)


def issued_invoice(lines: int = 2, *, customer=None) -> Invoice:
    batch = next(BATCH)
    products = [stocked_product(5, sku=f"SKU-{batch}-{n:03d}", price="10.00") for n in range(lines)]
    order = order_for(*((p, 1) for p in products), customer=customer or CustomerFactory(name="Acme Corp"))
    order = order_confirm(order=order)
    shipment_create(order=order)
    return invoice_issue(invoice=invoice_create(order=order))


def taxed_invoice() -> Invoice:
    product = stocked_product(5, sku="TEE", price="20.00")
    order = order_create(
        channel=ChannelFactory(),
        customer=CustomerFactory(name="Acme Corp"),
        lines=[LineSpec(product=product, quantity=2, taxes=(TaxSpec("VAT", "0.2"),))],
    )
    order = order_confirm(order=order)
    shipment_create(order=order)
    return invoice_issue(invoice=invoice_create(order=order))


# --- the invoice page ------------------------------------------------------------------


def test_invoice_page_shows_header_lines_taxes_payments_and_actions(seller):
    # given
    invoice = taxed_invoice()
    payment_record(invoice=invoice, amount="10.00", method="card", reference="PAY-1")
    # when
    response = seller.get(f"/sales/invoices/{invoice.pk}/")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert invoice.number in html
    assert invoice.order.number in html
    assert "Acme Corp" in html
    assert "VAT 20%" in html
    assert "PAY-1" in html
    assert f"/sales/invoices/{invoice.pk}/pdf/" in html
    assert f"/sales/invoices/{invoice.pk}/email/" in html
    assert f"/sales/invoices/{invoice.pk}/print/" in html
    assert 'name="pay' in html  # the payment form of an open invoice


def test_invoice_page_costs_the_same_queries_with_more_lines_and_payments(seller):
    # given
    invoice = issued_invoice(2)
    bigger = issued_invoice(12)

    def grow():
        payment_record(invoice=bigger, amount="1.00")
        payment_record(invoice=bigger, amount="1.00")

    url = {"pk": invoice.pk}

    def action():
        response = seller.get(f"/sales/invoices/{url['pk']}/")
        assert response.status_code == 200

    # when / then: the same page, one invoice with 2 lines then one with 12 lines and payments
    action()

    def switch():
        grow()
        url["pk"] = bigger.pk

    assert_constant_queries(action, switch)


def test_invoice_numbers_link_to_the_invoice_page(seller):
    # given
    invoice = issued_invoice(1)
    # when
    pages = [
        seller.get("/sales/invoices/").content.decode(),
        seller.get(f"/sales/orders/{invoice.order_id}/").content.decode(),
        seller.get(f"/sales/customers/{invoice.customer_id}/").content.decode(),
    ]
    # then
    for html in pages:
        assert f'href="/sales/invoices/{invoice.pk}/"' in html


def test_issue_from_the_invoice_page_answers_with_the_invoice_page(seller):
    # given
    product = stocked_product(5, sku="TEE")
    order = order_confirm(order=order_for((product, 1)))
    shipment_create(order=order)
    draft = invoice_create(order=order)
    # when
    response = seller.post(f"/sales/invoices/{draft.pk}/issue/", {"from": "invoice"}, **HTMX)
    # then
    draft.refresh_from_db()
    assert draft.number
    assert 'id="invoice"' in response.content.decode()
    assert draft.number in response.content.decode()


def test_a_bad_payment_on_the_invoice_page_changes_nothing(seller):
    # given
    invoice = issued_invoice(1)
    # when
    response = seller.post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {"from": "invoice", f"pay{invoice.pk}-amount": "-5", f"pay{invoice.pk}-paid_at": "2026-01-01"},
    )
    # then
    invoice.refresh_from_db()
    assert response.status_code == 200
    assert invoice.amount_paid == 0
    assert "nothing was changed" in response.content.decode()


def test_warehouse_role_sees_the_invoice_page_without_write_actions():
    # given
    invoice = issued_invoice(1)
    picker = client_for("wendy", "Warehouse")
    # when
    response = picker.get(f"/sales/invoices/{invoice.pk}/")
    # then
    assert response.status_code == 200
    assert "/email/" not in response.content.decode()
    assert picker.get(f"/sales/invoices/{invoice.pk}/email/").status_code == 403


# --- PDFs ------------------------------------------------------------------------------


def test_invoice_pdf_holds_the_number_and_is_named_after_it(seller):
    # given
    invoice = issued_invoice(2)
    # when
    response = seller.get(f"/sales/invoices/{invoice.pk}/pdf/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    pages, text = pdf_text(response.content)
    assert pages == 1
    assert invoice.number in text
    assert "Acme Corp" in text


def test_format_pdf_on_the_print_url_gives_the_pdf(seller):
    # given
    invoice = issued_invoice(1)
    # when
    response = seller.get(f"/sales/invoices/{invoice.pk}/print/?format=pdf")
    # then
    assert response["Content-Type"] == "application/pdf"
    assert invoice.number in pdf_text(response.content)[1]


def test_a_40_line_invoice_runs_over_several_pages(seller):
    # given
    invoice = issued_invoice(40)
    # when
    response = seller.get(f"/sales/invoices/{invoice.pk}/pdf/")
    # then
    pages, text = pdf_text(response.content)
    assert pages >= 2
    assert f"page 2 of {pages}" in text


def shipped_with_lots() -> Shipment:
    wh = warehouse("WH1")
    product = ProductFactory(sku="SER-1", tracking="lot")
    lot = lot_get_or_create(product=product, code="LOT-7", expiry_date=None)
    stock_receive(product=product, location=bin_of(wh, "A-01"), quantity=3, unit_cost="4.00", lot=lot)
    plain = stocked_product(4, sku="PLAIN")
    order = order_confirm(order=order_for((product, 2), (plain, 1)))
    return shipment_create(order=order, carrier="UPS", tracking_number="1Z-TRACK")


def test_order_pick_list_lists_locations_lots_and_what_is_not_reserved(seller):
    # given
    wh = warehouse("WH1")
    product = ProductFactory(sku="SER-1", tracking="lot")
    lot = lot_get_or_create(product=product, code="LOT-7", expiry_date=None)
    stock_receive(product=product, location=bin_of(wh, "A-01"), quantity=1, unit_cost="4.00", lot=lot)
    order = order_confirm(order=order_for((product, 3)))
    # when
    html = seller.get(f"/sales/orders/{order.pk}/pick-list/").content.decode()
    pdf = seller.get(f"/sales/orders/{order.pk}/pick-list/pdf/")
    # then
    assert "A-01" in html
    assert "LOT-7" in html
    assert "not reserved yet" in html
    assert 'class="box"' in html
    assert pdf["Content-Type"] == "application/pdf"
    assert order.number in pdf_text(pdf.content)[1]


def test_shipment_pick_list_and_delivery_note(seller):
    # given
    shipment = shipped_with_lots()
    # when
    pick = seller.get(f"/sales/shipments/{shipment.pk}/pick-list/").content.decode()
    note = seller.get(f"/sales/shipments/{shipment.pk}/delivery-note/").content.decode()
    note_pdf = seller.get(f"/sales/shipments/{shipment.pk}/delivery-note/pdf/")
    slip_pdf = seller.get(f"/sales/shipments/{shipment.pk}/packing-slip/pdf/")
    # then
    assert "A-01" in pick
    assert "LOT-7" in pick
    assert "LOT-7" in note
    assert "Signature" in note
    assert "$" not in note  # no prices on a delivery note
    assert shipment.number in pdf_text(note_pdf.content)[1]
    assert shipment.number in pdf_text(slip_pdf.content)[1]


def test_pick_list_and_delivery_note_cost_constant_queries(seller):
    # given
    shipment = shipped_with_lots()

    def action():
        assert seller.get(f"/sales/shipments/{shipment.pk}/delivery-note/").status_code == 200
        assert seller.get(f"/sales/shipments/{shipment.pk}/pick-list/").status_code == 200
        assert seller.get(f"/sales/orders/{shipment.order_id}/pick-list/").status_code == 200

    def grow():
        nonlocal shipment
        extra = [stocked_product(3, sku=f"X-{n}") for n in range(4)]
        order = order_confirm(order=order_for(*((p, 1) for p in extra)))
        shipment = shipment_create(order=order)

    # when / then
    assert_constant_queries(action, grow)


# --- email -----------------------------------------------------------------------------


def test_email_form_is_prefilled_with_the_customer_address(seller):
    # given
    invoice = issued_invoice(1, customer=CustomerFactory(email="billing@acme.test"))
    # when
    html = seller.get(f"/sales/invoices/{invoice.pk}/email/").content.decode()
    # then
    assert 'value="billing@acme.test"' in html
    assert f"{invoice.number}.pdf" in html


def test_emailing_an_invoice_attaches_its_pdf_and_records_the_event(seller):
    # given
    invoice = issued_invoice(1)
    # when
    response = seller.post(
        f"/sales/invoices/{invoice.pk}/email/",
        {"to": "ap@acme.test", "cc": "boss@acme.test", "subject": "Your invoice", "message": "Thanks"},
    )
    # then
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ap@acme.test"]
    assert sent.cc == ["boss@acme.test"]
    (name, content, mimetype) = sent.attachments[0]
    assert name == f"{invoice.number}.pdf"
    assert mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    event = OutboxEvent.objects.get(topic="sales.invoice_emailed")
    assert event.payload["invoice"]["number"] == invoice.number
    assert event.payload["email"]["to"] == ["ap@acme.test"]
    page = seller.get(f"/sales/invoices/{invoice.pk}/").content.decode()
    assert f"Invoice {invoice.number} emailed to ap@acme.test" in page  # on the invoice's timeline


def test_a_bad_address_is_refused_and_nothing_is_sent(seller):
    # given
    invoice = issued_invoice(1)
    # when
    response = seller.post(
        f"/sales/invoices/{invoice.pk}/email/",
        {"to": "ap@acme.test, not-an-address", "subject": "Your invoice", "message": ""},
    )
    # then
    assert response.status_code == 422
    assert "not-an-address" in response.content.decode()
    assert mail.outbox == []
    assert not OutboxEvent.objects.filter(topic="sales.invoice_emailed").exists()


def test_a_draft_invoice_is_not_emailed(seller):
    # given
    product = stocked_product(5, sku="TEE")
    order = order_confirm(order=order_for((product, 1)))
    shipment_create(order=order)
    draft = invoice_create(order=order)
    # when
    response = seller.post(
        f"/sales/invoices/{draft.pk}/email/", {"to": "ap@acme.test", "subject": "Your invoice"}
    )
    # then
    assert response.status_code == 422
    assert mail.outbox == []


def test_emailing_a_delivery_note(seller):
    # given
    shipment = shipped_with_lots()
    # when
    form = seller.get(f"/sales/shipments/{shipment.pk}/delivery-note/email/").content.decode()
    response = seller.post(
        f"/sales/shipments/{shipment.pk}/delivery-note/email/",
        {"to": "dock@acme.test", "subject": f"Delivery note {shipment.number}", "message": "Hi"},
    )
    # then
    assert shipment.order.customer.email in form
    assert response.status_code == 302
    (name, content, mimetype) = mail.outbox[0].attachments[0]
    assert name == f"delivery-note-{shipment.number}.pdf"
    assert content.startswith(b"%PDF")
    assert mimetype == "application/pdf"
    assert OutboxEvent.objects.filter(topic="sales.delivery_note_emailed").count() == 1
