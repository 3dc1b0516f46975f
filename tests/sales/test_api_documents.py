"""Sales documents through the API: invoice and delivery note PDFs, and emailing them."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from pypdf import PdfReader

from erp.models import OutboxEvent
from sales.services import invoice_create, invoice_issue, order_confirm, shipment_create
from tests.erp.factories import UserFactory, api_key_for
from tests.sales.api_support import Api
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def shipped_and_invoiced():
    order = order_for((stocked_product(5, sku="TEE"), 2), customer=CustomerFactory(email="ap@acme.test"))
    order = order_confirm(order=order)
    shipment = shipment_create(order=order)
    return shipment, invoice_issue(invoice=invoice_create(order=order))


def test_invoice_pdf(api):
    # given
    _, invoice = shipped_and_invoiced()
    # when
    response = api.get(f"/invoices/{invoice.pk}/pdf")
    missing = api.get("/invoices/999999/pdf")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert invoice.number in pdf_text(response.content)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


def test_invoice_email_takes_the_customer_address_by_default(api):
    # given
    _, invoice = shipped_and_invoiced()
    # when
    response = api.post(f"/invoices/{invoice.pk}/email", {"message": "Thanks!"})
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "to": ["ap@acme.test"],
        "cc": [],
        "subject": response.json()["subject"],
        "attachment": f"{invoice.number}.pdf",
    }
    assert invoice.number in response.json()["subject"]
    (sent,) = mail.outbox
    assert sent.body == "Thanks!"
    assert sent.attachments[0][0] == f"{invoice.number}.pdf"
    assert sent.attachments[0][2] == "application/pdf"
    assert OutboxEvent.objects.filter(topic="sales.invoice_emailed").count() == 1


def test_invoice_email_refuses_a_bad_address(api):
    # given
    _, invoice = shipped_and_invoiced()
    # when
    response = api.post(f"/invoices/{invoice.pk}/email", {"to": "ap@acme.test; broken@"})
    # then
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"
    assert mail.outbox == []
    assert not OutboxEvent.objects.filter(topic="sales.invoice_emailed").exists()


def test_a_reader_gets_the_pdf_but_cannot_email():
    # given
    _, invoice = shipped_and_invoiced()
    reader = Api(api_key_for(UserFactory(roles=["Warehouse"])))
    # when / then
    assert reader.get(f"/invoices/{invoice.pk}/pdf").status_code == 200
    assert reader.post(f"/invoices/{invoice.pk}/email", {}).status_code == 403
    assert mail.outbox == []


def test_delivery_note_pdf_and_email(api):
    # given
    shipment, _ = shipped_and_invoiced()
    # when
    pdf = api.get(f"/shipments/{shipment.pk}/delivery-note/pdf")
    sent = api.post(f"/shipments/{shipment.pk}/delivery-note/email", {"to": ["dock@acme.test"]})
    # then
    assert pdf["Content-Type"] == "application/pdf"
    assert shipment.number in pdf_text(pdf.content)
    assert sent.status_code == 200, sent.content
    assert mail.outbox[0].attachments[0][0] == f"delivery-note-{shipment.number}.pdf"
