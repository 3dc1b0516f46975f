"""Bills: recording one from its order, the list, the detail against the order, approve, void, pay."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client

from procurement import services
from procurement.models import Bill, BillStatus
from tests.inventory.factories import ProductFactory
from tests.procurement.test_views import bill_for, htmx, login, make_world, received_order
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> dict:
    return make_world()


@pytest.fixture
def buyer(client: Client) -> Client:
    return login(client, "Purchasing", username="pat")


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


def test_the_bill_form_is_prefilled_with_received_not_billed_at_the_ordered_price(buyer: Client, world):
    # given: 2 boxes received, none billed
    po = received_order(world)
    line = po.lines.get()

    # when
    page = buyer.get(f"/procurement/orders/{po.pk}/bill/")

    # then
    (row,) = page.context["rows"]
    assert (row.quantity_text, row.cost_text) == ("2", "60.00")
    assert f'name="qty-{line.pk}" value="2"' in page.content.decode()


def test_a_matching_bill_is_open_for_payment(buyer: Client, world):
    po = received_order(world)
    line = po.lines.get()
    response = buyer.post(
        f"/procurement/orders/{po.pk}/bill/",
        {
            "supplier_reference": "INV-77",
            "bill_date": "2030-03-01",
            f"qty-{line.pk}": "2",
            f"cost-{line.pk}": "60",
        },
        follow=True,
    )
    bill = Bill.objects.get()
    assert response.redirect_chain[-1][0] == f"/procurement/bills/{bill.pk}/"
    assert bill.status == BillStatus.OPEN
    assert bill.match_ok
    assert bill.total == D("120.00")
    assert "matches the order: it can be paid" in response.content.decode()


def test_a_bill_above_the_ordered_price_needs_review_and_shows_why(buyer: Client, world):
    po = received_order(world)
    line = po.lines.get()
    buyer.post(
        f"/procurement/orders/{po.pk}/bill/",
        {
            "supplier_reference": "INV-78",
            "bill_date": "2030-03-01",
            f"qty-{line.pk}": "2",
            f"cost-{line.pk}": "65",
        },
    )
    bill = Bill.objects.get()
    assert bill.status == BillStatus.NEEDS_REVIEW

    page = buyer.get(f"/procurement/bills/{bill.pk}/")
    html = page.content.decode()
    assert "The three-way match failed" in html
    assert "billed at $65.00 per unit, ordered at $60.00" in html
    (row,) = page.context["rows"]
    assert (row.expected, row.row.subtotal, row.difference, row.price_differs) == (
        D("120.00"),
        D("130.00"),
        D("10.00"),
        True,
    )


def test_recording_a_duplicate_or_empty_bill_shows_the_error_and_records_nothing(buyer: Client, world):
    po = received_order(world)
    line = po.lines.get()
    bill_for(po, reference="DUP-1")
    duplicate = buyer.post(
        f"/procurement/orders/{po.pk}/bill/",
        {
            "supplier_reference": "DUP-1",
            "bill_date": "2030-03-01",
            f"qty-{line.pk}": "1",
            f"cost-{line.pk}": "60",
        },
    )
    assert duplicate.status_code == 200
    assert "Duplicate." in duplicate.content.decode()
    empty = buyer.post(
        f"/procurement/orders/{po.pk}/bill/",
        {
            "supplier_reference": "NEW-1",
            "bill_date": "2030-03-01",
            f"qty-{line.pk}": "",
            f"cost-{line.pk}": "60",
        },
    )
    assert "A bill needs at least one line." in empty.content.decode()
    assert Bill.objects.count() == 1


def test_approve_a_reviewed_bill_then_pay_it(buyer: Client, world):
    bill = bill_for(received_order(world), cost="65.00")
    assert bill.status == BillStatus.NEEDS_REVIEW

    approved = buyer.post(
        f"/procurement/bills/{bill.pk}/approve/", {"note": "price rise agreed"}, **htmx("bill")
    )
    assert toast_of(approved)["level"] == "success"
    assert "<html" not in approved.content.decode()
    bill.refresh_from_db()
    assert bill.status == BillStatus.OPEN
    assert bill.match_issues[-1] == "Accepted: price rise agreed"

    again = buyer.post(f"/procurement/bills/{bill.pk}/approve/", **htmx("bill"))
    assert "'open' to 'open'" in toast_of(again)["message"]

    too_much = buyer.post(
        f"/procurement/bills/{bill.pk}/pay/", {"amount": "999", "paid_at": "2030-04-01"}, **htmx("bill")
    )
    assert "A payment is between 0 and $130.00, not $999.00" in toast_of(too_much)["message"]
    paid = buyer.post(
        f"/procurement/bills/{bill.pk}/pay/",
        {"amount": "130.00", "paid_at": "2030-04-01", "method": "wire", "reference": "T-1"},
        **htmx("bill"),
    )
    assert toast_of(paid)["level"] == "success"
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID
    assert bill.payments.count() == 1


def test_void_gives_the_quantities_back_and_a_paid_bill_cannot_be_voided(buyer: Client, world):
    po = received_order(world)
    bill = bill_for(po)
    voided = buyer.post(f"/procurement/bills/{bill.pk}/void/", **htmx("bill"))
    assert toast_of(voided)["level"] == "success"
    assert po.lines.get().quantity_billed == 0

    paid = bill_for(po, reference="INV-2")
    services.supplier_payment_record(bill=paid, amount="10")
    refused = buyer.post(f"/procurement/bills/{paid.pk}/void/", **htmx("bill"))
    assert "cannot go from 'partially_paid' to 'void'" in toast_of(refused)["message"]
    paid.refresh_from_db()
    assert paid.status == BillStatus.PARTIALLY_PAID


def test_the_bill_list_shows_those_needing_review_first(buyer: Client, world):
    ok = bill_for(received_order(world), reference="A")
    review = bill_for(received_order(world), reference="B", cost="70.00")
    rows = buyer.get("/procurement/bills/").context["rows"]
    assert [r.bill for r in rows] == [review, ok]

    only_review = buyer.get("/procurement/bills/", {"status": "needs_review"}, **htmx("rows"))
    html = only_review.content.decode()
    assert review.number in html
    assert ok.number not in html
    assert "<html" not in html


def test_a_reader_cannot_act_on_bills(world):
    bill = bill_for(received_order(world))
    reader = login(Client(), "Warehouse", username="wally")
    assert reader.get(f"/procurement/bills/{bill.pk}/").status_code == 200
    assert reader.post(f"/procurement/bills/{bill.pk}/void/").status_code == 403
    assert reader.get(f"/procurement/orders/{bill.order_id}/bill/").status_code == 403
    bill.refresh_from_db()
    assert bill.status == BillStatus.OPEN


def test_the_bill_detail_costs_the_same_with_2_or_20_lines(buyer: Client, world):
    # given: a bill of 2 lines, then one of 20 (different products, boxes and pieces)
    def bill_of(n: int, reference: str) -> Bill:
        products = [ProductFactory() for _ in range(n)]
        po = services.po_send(
            po=services.po_create(
                supplier=world["supplier"],
                warehouse=world["warehouse"],
                lines=[services.POLineSpec(p, 2, unit_cost="3") for p in products],
            )
        )
        lines = list(po.lines.all())
        services.receipt_create(po=po, lines=[services.ReceiveLine(ln, 2) for ln in lines])
        services.supplier_payment_record(
            bill=services.bill_record(
                po=po, supplier_reference=reference, lines=[services.BillLineSpec(ln, 2, "3") for ln in lines]
            ),
            amount="1",
        )
        return Bill.objects.get(supplier_reference=reference)

    small, big = bill_of(2, "S-2"), bill_of(20, "S-20")
    buyer.get(f"/procurement/bills/{small.pk}/")

    # then
    assert count_queries(lambda: buyer.get(f"/procurement/bills/{small.pk}/")) == count_queries(
        lambda: buyer.get(f"/procurement/bills/{big.pk}/")
    )
    assert len(buyer.get(f"/procurement/bills/{big.pk}/").context["rows"]) == 20
