"""A purchase order as PDF and by email, on its pages and through the API."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from erp.models import OutboxEvent
from tests.procurement.api_support import api_as
from tests.procurement.test_views import login, make_world, sent_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> dict:
    return make_world()


@pytest.fixture
def buyer(client: Client) -> Client:
    return login(client, "Purchasing", username="pat")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_order_pdf_holds_its_number_supplier_and_skus(buyer: Client, world):
    # given
    po = sent_order(world)
    # when
    response = buyer.get(f"/procurement/orders/{po.pk}/pdf/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{po.number}.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert po.number in text
    assert "Acme Textiles" in text
    assert "AC-TB-12" in text


def test_the_order_page_offers_pdf_and_email(buyer: Client, world):
    # given
    po = sent_order(world)
    # when
    html = buyer.get(f"/procurement/orders/{po.pk}/").content.decode()
    # then
    assert f"/procurement/orders/{po.pk}/pdf/" in html
    assert f"/procurement/orders/{po.pk}/email/" in html


def test_emailing_the_order_to_the_supplier(buyer: Client, world):
    # given
    po = sent_order(world)
    form = buyer.get(f"/procurement/orders/{po.pk}/email/").content.decode()
    # when
    response = buyer.post(
        f"/procurement/orders/{po.pk}/email/",
        {"to": world["supplier"].email, "cc": "", "subject": f"PO {po.number}", "message": "See attached."},
    )
    # then
    assert world["supplier"].email in form
    assert response.status_code == 302
    (sent,) = mail.outbox
    assert sent.to == [world["supplier"].email]
    name, content, mimetype = sent.attachments[0]
    assert (name, mimetype) == (f"{po.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    event = OutboxEvent.objects.get(topic="procurement.po_emailed")
    assert event.payload["email"]["attachment"] == f"{po.number}.pdf"
    timeline = buyer.get(f"/procurement/orders/{po.pk}/").content.decode()
    assert f"{po.number} emailed to {world['supplier'].email}" in timeline


def test_a_bad_address_or_a_draft_sends_nothing(buyer: Client, world):
    # given
    po = sent_order(world)
    draft = world["draft"]
    # when
    bad = buyer.post(f"/procurement/orders/{po.pk}/email/", {"to": "nobody@", "subject": "PO"})
    drafted = buyer.post(f"/procurement/orders/{draft.pk}/email/", {"to": "a@b.example", "subject": "PO"})
    # then
    assert bad.status_code == 422
    assert "nobody@" in bad.content.decode()
    assert drafted.status_code == 422
    assert "draft" in drafted.content.decode()
    assert mail.outbox == []
    assert not OutboxEvent.objects.filter(topic="procurement.po_emailed").exists()


def test_api_pdf_and_email(world):
    # given
    po = sent_order(world)
    api = api_as("Purchasing")
    reader = api_as("Warehouse")
    # when
    pdf = api.get(f"/purchase-orders/{po.pk}/pdf")
    missing = api.get("/purchase-orders/999999/pdf")
    sent = api.post(f"/purchase-orders/{po.pk}/email", {"cc": ["boss@example.com"]})
    bad = api.post(f"/purchase-orders/{po.pk}/email", {"to": ["not an address"]})
    forbidden = reader.post(f"/purchase-orders/{po.pk}/email", {})
    # then
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert po.number in pdf_text(pdf.content)
    assert missing.status_code == 404
    assert sent.status_code == 200, sent.content
    assert sent.json()["to"] == [world["supplier"].email]
    assert sent.json()["attachment"] == f"{po.number}.pdf"
    assert bad.status_code == 422
    assert forbidden.status_code == 403
    assert len(mail.outbox) == 1
    assert mail.outbox[0].cc == ["boss@example.com"]
