"""A confirmed sales order through the API: ship, invoice, pay, return, refund, and what is refused."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sales.models import InvoiceStatus
from sales.services import order_confirm
from tests.erp.factories import UserFactory, api_key_for
from tests.sales.api_support import Api, field_errors
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


def test_order_to_cash_over_http(api: Api):
    # given: 10 mugs in stock at 10.00 plus 20 % VAT
    stocked_product(10, price="10.00", sku="MUG")
    channel, customer = ChannelFactory(), CustomerFactory(payment_terms="net_30")

    # when: 4 mugs ordered and confirmed in one call
    created = api.post(
        "/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [{"sku": "MUG", "quantity": 4, "taxes": [{"name": "VAT", "rate": "0.2"}]}],
            "confirm": True,
        },
    )
    assert created.status_code == 201, created.content
    order_id, line_id = created.json()["id"], created.json()["lines"][0]["id"]
    assert D(created.json()["total"]) == D("48.00")

    # when: 3 shipped
    shipped = api.post(
        f"/orders/{order_id}/ship",
        {"lines": [{"line_id": line_id, "quantity": 3}], "carrier": "UPS", "tracking_number": "1Z1"},
    )

    # then
    assert shipped.status_code == 201, shipped.content
    assert shipped.json()["number"].startswith("SH-")
    assert (shipped.json()["carrier"], shipped.json()["tracking_number"]) == ("UPS", "1Z1")
    assert [(s["line_id"], s["sku"], s["quantity"]) for s in shipped.json()["lines"]] == [
        (line_id, "MUG", "3.0000")
    ]
    order = api.get(f"/orders/{order_id}").json()
    assert order["status"] == "partially_shipped"
    assert (order["lines"][0]["shipped"], order["lines"][0]["reserved"]) == ("3.0000", "1.0000")

    # when: invoiced (the channel bills shipped quantities) and issued
    invoiced = api.post(f"/orders/{order_id}/invoice")

    # then
    assert invoiced.status_code == 201, invoiced.content
    invoice = invoiced.json()
    assert (invoice["status"], invoice["kind"]) == ("issued", "invoice")
    assert invoice["number"].startswith("INV-")
    assert invoice["due_date"] is not None
    assert [(ln["line_id"], ln["quantity"]) for ln in invoice["lines"]] == [(line_id, "3.0000")]
    assert D(invoice["total"]) == D("36.00")

    # when: paid in two parts
    first = api.post(
        f"/invoices/{invoice['id']}/pay", {"amount": "20.00", "method": "card", "reference": "p1"}
    )
    assert first.status_code == 201, first.content
    assert (first.json()["invoice_status"], D(first.json()["invoice_balance"])) == ("partially_paid", D("16"))
    too_much = api.post(f"/invoices/{invoice['id']}/pay", {"amount": "16.01"})
    assert too_much.status_code == 422
    assert "amount" in field_errors(too_much)
    rest = api.post(f"/invoices/{invoice['id']}/pay", {"amount": "16.00", "paid_at": "2030-01-31"})

    # then
    assert rest.status_code == 201, rest.content
    assert (rest.json()["invoice_status"], D(rest.json()["invoice_balance"])) == ("paid", D("0"))
    assert rest.json()["paid_at"] == "2030-01-31"
    assert api.get(f"/invoices/{invoice['id']}").json()["status"] == InvoiceStatus.PAID
    assert [D(p["amount"]) for p in api.get("/payments", invoice=invoice["id"]).json()["items"]] == [
        D("16"),
        D("20"),
    ]

    # when: 1 mug comes back
    announced = api.post(
        "/returns",
        {
            "order": order_id,
            "lines": [{"line_id": line_id, "quantity": 1, "disposition": "restock", "reason": "chipped"}],
            "reason": "customer return",
        },
    )
    assert announced.status_code == 201, announced.content
    return_id = announced.json()["id"]
    assert (announced.json()["status"], announced.json()["number"][:4]) == ("open", "RMA-")
    received = api.post_empty(f"/returns/{return_id}/receive")

    # then: a credit note for 12.00 (10.00 + VAT) is issued
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "received"
    assert received.json()["credit_note_number"].startswith("CN-")
    assert D(received.json()["credit_note_total"]) == D("12.00")

    # when: the money is paid back
    refunded = api.post(f"/returns/{return_id}/refund", {"method": "card", "reference": "r1"})

    # then
    assert refunded.status_code == 201, refunded.content
    assert (D(refunded.json()["amount"]), refunded.json()["credit_note_status"]) == (D("12.00"), "paid")
    again = api.post(f"/returns/{return_id}/refund", {"amount": "1"})
    assert again.status_code == 422

    # then: the order tells the whole story
    order = api.get(f"/orders/{order_id}").json()
    line = order["lines"][0]
    assert (line["ordered"], line["reserved"], line["shipped"], line["invoiced"], line["returned"]) == (
        "4.0000",
        "1.0000",
        "3.0000",
        "3.0000",
        "1.0000",
    )
    assert [s["number"] for s in order["shipments"]] == [shipped.json()["number"]]
    invoices = {i["kind"]: i for i in order["invoices"]}
    assert [D(p["amount"]) for p in invoices["invoice"]["payments"]] == [D("16"), D("20")]
    assert invoices["credit_note"]["status"] == "paid"
    assert [(r["status"], r["lines"][0]["sku"]) for r in order["returns"]] == [("received", "MUG")]
    timeline = api.get(f"/orders/{order_id}/timeline").json()["items"]
    assert [e["sequence"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [e["topic"] for e in timeline] == [
        "sales.order_created",
        "sales.order_confirmed",
        "sales.shipment_shipped",
        "sales.invoice_issued",
        "sales.payment_received",
        "sales.payment_received",
        "sales.credit_note_issued",
        "sales.return_received",
        "sales.refund_recorded",
    ]
    assert timeline[2]["data"]["tracking_number"] == "1Z1"


def test_ship_everything_reserved_then_close(api: Api):
    # given
    order = order_confirm(order=order_for((stocked_product(5), 2), (stocked_product(5), 1)))

    # when
    shipped = api.post(f"/orders/{order.pk}/ship", {"carrier": "DHL"})
    closed = api.post_empty(f"/orders/{order.pk}/close")

    # then
    assert shipped.status_code == 201, shipped.content
    assert sorted(s["quantity"] for s in shipped.json()["lines"]) == ["1.0000", "2.0000"]
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["allowed_actions"] == ["invoice"]


def test_shipping_more_than_is_reserved_or_a_foreign_line_is_a_422(api: Api):
    # given
    order = order_confirm(order=order_for((stocked_product(5), 2)))
    other = order_for((stocked_product(5), 1))
    line_id = order.lines.get().pk

    # when
    too_many = api.post(f"/orders/{order.pk}/ship", {"lines": [{"line_id": line_id, "quantity": 3}]})
    foreign = api.post(
        f"/orders/{order.pk}/ship", {"lines": [{"line_id": other.lines.get().pk, "quantity": 1}]}
    )

    # then
    assert too_many.status_code == 422
    assert foreign.status_code == 422
    assert "lines.0.line_id" in field_errors(foreign)
    assert api.get(f"/orders/{order.pk}").json()["shipments"] == []


def test_a_draft_invoice_is_issued_or_voided_later(api: Api):
    # given: a channel that bills ordered quantities
    channel = ChannelFactory(code="b2b", invoice_policy="ordered")
    order = order_confirm(order=order_for((stocked_product(5), 2), channel=channel))

    # when
    draft = api.post(f"/orders/{order.pk}/invoice", {"draft": True})
    unpaid_draft = api.post(f"/invoices/{draft.json()['id']}/pay", {"amount": "1"})
    voided = api.post(f"/invoices/{draft.json()['id']}/void", {"reason": "wrong"})
    second = api.post(f"/orders/{order.pk}/invoice", {"draft": True}).json()
    issued = api.post(f"/invoices/{second['id']}/issue", {"issue_date": "2030-01-01"})
    reissued = api.post_empty(f"/invoices/{second['id']}/issue")

    # then
    assert draft.status_code == 201, draft.content
    assert (draft.json()["status"], draft.json()["number"]) == ("draft", None)
    assert unpaid_draft.status_code == 409
    assert "'draft'" in unpaid_draft.json()["detail"]
    assert voided.json()["status"] == "void"
    assert issued.status_code == 200, issued.content
    assert (issued.json()["status"], issued.json()["issue_date"], issued.json()["due_date"]) == (
        "issued",
        "2030-01-01",
        "2030-01-31",
    )
    assert reissued.status_code == 409
    assert "'issued'" in reissued.json()["detail"]


def test_invoicing_a_draft_order_is_a_409(api: Api):
    # given
    order = order_for((stocked_product(5), 2))

    # when
    response = api.post_empty(f"/orders/{order.pk}/invoice")

    # then
    assert response.status_code == 409
    assert "'draft'" in response.json()["detail"]
    assert "'invoiced'" in response.json()["detail"]
