"""What is done from the order page (and the queue, the customer pages): each action's happy path,
and its refusal, shown as a message with nothing changed."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client

from sales.models import Address, Invoice, InvoiceStatus, OrderStatus, Payment, Refund, SalesReturn, Shipment
from sales.services import invoice_create, invoice_issue, order_cancel, order_confirm, shipment_create
from tests.erp.factories import UserFactory
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order"}


@pytest.fixture
def seller() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", roles=["Sales"]))
    return client


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


def confirmed(quantity: int = 3, stock: int = 10):
    return order_confirm(order=order_for((stocked_product(stock), quantity)))


# --- lifecycle actions ---------------------------------------------------------------------


def test_confirm_answers_with_the_refreshed_order_and_a_toast(seller):
    # given
    order = order_for((stocked_product(10), 3))

    # when
    response = seller.post(f"/sales/orders/{order.pk}/confirm/", **HTMX)

    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<div id="order"')
    assert toast_of(response) == {
        "message": f"{order.number} confirmed: stock is reserved.",
        "level": "success",
    }
    assert b"Confirmed" in response.content


def test_confirm_says_how_many_lines_are_backordered(seller):
    order = order_for((stocked_product(1), 3), (stocked_product(5), 1))
    response = seller.post(f"/sales/orders/{order.pk}/confirm/", **HTMX)
    assert toast_of(response)["message"] == f"{order.number} confirmed; 1 line backordered."


def test_an_illegal_action_is_an_error_message_and_changes_nothing(seller):
    # given
    order = order_for((stocked_product(10), 3))
    order_cancel(order=order)

    # when
    response = seller.post(f"/sales/orders/{order.pk}/confirm/", **HTMX)

    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert toast_of(response)["level"] == "error"
    assert "'cancelled' to 'confirmed'" in toast_of(response)["message"]
    assert b'role="alert"' in response.content


def test_without_htmx_an_action_redirects_back_with_a_message(seller):
    order = order_for((stocked_product(10), 3))
    response = seller.post(f"/sales/orders/{order.pk}/confirm/", follow=True)
    assert response.redirect_chain == [(f"/sales/orders/{order.pk}/", 302)]
    assert f"{order.number} confirmed" in response.content.decode()


def test_hold_takes_the_reason_from_the_prompt_and_release_goes_back(seller):
    order = confirmed()
    seller.post(f"/sales/orders/{order.pk}/hold/", HTTP_HX_PROMPT="fraud check", **HTMX)
    order.refresh_from_db()
    assert (order.status, order.held_from) == (OrderStatus.ON_HOLD, OrderStatus.CONFIRMED)
    assert "fraud check" in order.notes

    response = seller.post(f"/sales/orders/{order.pk}/release/", **HTMX)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert toast_of(response)["level"] == "success"


def test_cancel_and_close(seller):
    order = confirmed()
    response = seller.post(f"/sales/orders/{order.pk}/close/", **HTMX)
    assert toast_of(response)["level"] == "error"  # not shipped yet
    seller.post(f"/sales/orders/{order.pk}/cancel/", {"reason": "customer asked"}, **HTMX)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED

    shipped = confirmed()
    shipment_create(order=shipped)
    seller.post(f"/sales/orders/{shipped.pk}/close/", **HTMX)
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.CLOSED


def test_only_known_actions_route(seller):
    order = confirmed()
    assert seller.post(f"/sales/orders/{order.pk}/explode/", **HTMX).status_code == 404
    assert seller.get(f"/sales/orders/{order.pk}/confirm/").status_code == 405


# --- shipping -------------------------------------------------------------------------------


def test_ship_dialog_defaults_to_what_is_reserved(seller):
    order = order_confirm(order=order_for((stocked_product(2), 5)))
    response = seller.get(f"/sales/orders/{order.pk}/ship/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order")
    line = order.lines.get()
    assert f'name="qty_{line.pk}" value="2"'.encode() in response.content
    assert b"Ship " + order.number.encode() in response.content


def test_ship_with_quantities_carrier_and_tracking(seller):
    # given
    order = order_confirm(order=order_for((stocked_product(10), 3)))
    line = order.lines.get()

    # when
    response = seller.post(
        f"/sales/orders/{order.pk}/ship/",
        {f"qty_{line.pk}": "2", "carrier": "UPS", "service": "Ground", "tracking_number": "1Z42"},
        **HTMX,
    )

    # then
    shipment = Shipment.objects.get(order=order)
    order.refresh_from_db()
    assert (shipment.carrier, shipment.service, shipment.tracking_number) == ("UPS", "Ground", "1Z42")
    assert shipment.lines.get().quantity == D(2)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert toast_of(response)["message"] == f"{shipment.number} shipped for {order.number}."
    assert b"1Z42" in response.content


def test_shipping_more_than_reserved_is_shown_next_to_the_line(seller):
    order = order_confirm(order=order_for((stocked_product(2), 5)))
    line = order.lines.get()
    response = seller.post(f"/sales/orders/{order.pk}/ship/", {f"qty_{line.pk}": "4"}, **HTMX)
    assert not Shipment.objects.exists()
    assert toast_of(response)["level"] == "error"
    assert "only 2 is reserved" in response.content.decode()
    assert b'class="field-error"' in response.content


def test_ship_on_a_draft_is_refused_and_nothing_changes(seller):
    order = order_for((stocked_product(10), 3))
    line = order.lines.get()
    response = seller.post(f"/sales/orders/{order.pk}/ship/", {f"qty_{line.pk}": "1"}, **HTMX)
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert not Shipment.objects.exists()
    assert "'draft' to 'shipped'" in toast_of(response)["message"]


def test_ship_nothing_is_asked_again(seller):
    order = confirmed()
    line = order.lines.get()
    response = seller.post(f"/sales/orders/{order.pk}/ship/", {f"qty_{line.pk}": "0"}, **HTMX)
    assert not Shipment.objects.exists()
    assert "at least one line" in toast_of(response)["message"]


def test_fulfilment_ship_all_reserved_answers_with_the_queue(seller):
    order = confirmed(quantity=2)
    response = seller.post(
        f"/sales/fulfilment/{order.pk}/ship/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rows"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert b"Nothing to ship right now" in response.content
    assert b"<html" not in response.content
    assert toast_of(response)["level"] == "success"
    again = seller.post(f"/sales/fulfilment/{order.pk}/ship/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rows")
    assert toast_of(again)["level"] == "error"
    assert Shipment.objects.count() == 1


# --- invoices and payments -----------------------------------------------------------------------


def test_invoice_issue_pay_in_two_parts(seller):
    # given
    order = confirmed(quantity=2)
    shipment_create(order=order)

    # when: invoice, issue
    seller.post(f"/sales/orders/{order.pk}/invoice/", **HTMX)
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.DRAFT
    response = seller.post(f"/sales/invoices/{invoice.pk}/issue/", **HTMX)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.number in toast_of(response)["message"]

    # and pay too much, then a part, then the rest
    prefix = f"pay{invoice.pk}"
    too_much = seller.post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {f"{prefix}-amount": "999", f"{prefix}-paid_at": "2025-01-02", f"{prefix}-method": "card"},
        **HTMX,
    )
    assert toast_of(too_much)["level"] == "error"
    assert f"At most ${invoice.total:,.2f}" in too_much.content.decode()  # the amount, with its currency
    assert not Payment.objects.exists()
    seller.post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {f"{prefix}-amount": "5", f"{prefix}-paid_at": "2025-01-02", f"{prefix}-method": "card"},
        **HTMX,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    rest = seller.post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {
            f"{prefix}-amount": str(invoice.balance),
            f"{prefix}-paid_at": "2025-01-03",
            f"{prefix}-reference": "TX9",
        },
        **HTMX,
    )

    # then
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert "paid in full" in toast_of(rest)["message"]
    assert Payment.objects.filter(invoice=invoice).count() == 2


def test_create_invoice_is_offered_only_when_something_can_be_invoiced(seller):
    order = confirmed(quantity=2)
    assert "invoice" not in seller.get(f"/sales/orders/{order.pk}/").context["actions"]  # nothing shipped
    shipment_create(order=order)
    assert "invoice" in seller.get(f"/sales/orders/{order.pk}/").context["actions"]
    invoice_create(order=order)
    assert "invoice" not in seller.get(f"/sales/orders/{order.pk}/").context["actions"]


def test_invoicing_with_nothing_to_invoice_is_an_error(seller):
    order = confirmed()  # the channel invoices shipped quantities: nothing shipped yet
    response = seller.post(f"/sales/orders/{order.pk}/invoice/", **HTMX)
    assert toast_of(response)["level"] == "error"
    assert "Nothing of" in toast_of(response)["message"]
    assert not Invoice.objects.exists()


def test_void_an_unpaid_invoice_with_a_reason(seller):
    order = confirmed()
    shipment_create(order=order)
    invoice = invoice_issue(invoice=invoice_create(order=order))
    seller.post(f"/sales/invoices/{invoice.pk}/void/", HTTP_HX_PROMPT="wrong address", **HTMX)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    again = seller.post(f"/sales/invoices/{invoice.pk}/void/", **HTMX)
    assert toast_of(again)["level"] == "error"


# --- returns ---------------------------------------------------------------------------------


def test_return_receive_and_refund(seller):
    # given
    order = confirmed(quantity=3)
    shipment_create(order=order)
    line = order.lines.get()
    invoice = invoice_issue(invoice=invoice_create(order=order))

    # when: too many, then a real return
    refused = seller.post(f"/sales/orders/{order.pk}/returns/new/", {f"qty_{line.pk}": "9"}, **HTMX)
    assert not SalesReturn.objects.exists()
    assert toast_of(refused)["level"] == "error"
    seller.post(
        f"/sales/orders/{order.pk}/returns/new/",
        {
            f"qty_{line.pk}": "1",
            f"disposition_{line.pk}": "scrap",
            f"reason_{line.pk}": "broken",
            "reason": "RMA",
        },
        **HTMX,
    )
    sales_return = SalesReturn.objects.get()
    assert sales_return.lines.get().disposition == "scrap"
    seller.post(f"/sales/returns/{sales_return.pk}/receive/", **HTMX)
    sales_return.refresh_from_db()
    assert sales_return.status == "received"
    note = sales_return.credit_note
    assert note is not None
    assert note.total == invoice.total / 3
    prefix = f"refund{sales_return.pk}"
    over = seller.post(f"/sales/returns/{sales_return.pk}/refund/", {f"{prefix}-amount": "999"}, **HTMX)
    assert toast_of(over)["level"] == "error"
    done = seller.post(f"/sales/returns/{sales_return.pk}/refund/", {f"{prefix}-method": "card"}, **HTMX)

    # then
    assert Refund.objects.get().amount == note.total
    assert toast_of(done)["level"] == "success"
    received_twice = seller.post(f"/sales/returns/{sales_return.pk}/receive/", **HTMX)
    assert toast_of(received_twice)["level"] == "error"


# --- customers ----------------------------------------------------------------------------------


def test_create_a_customer_with_one_address_for_billing_and_shipping(seller):
    response = seller.post(
        "/sales/customers/new/",
        {
            "name": "Umbrella",
            "kind": "company",
            "email": "ops@umbrella.test",
            "currency": "eur",
            "payment_terms": "net_15",
            "billing-name": "Accounts",
            "billing-line1": "5 Hive Rd",
            "billing-city": "Raccoon",
            "billing-country": "us",
            "same_as_billing": "on",
        },
    )
    customer = CustomerFactory._meta.model.objects.get(name="Umbrella")
    assert response.status_code == 302
    assert response["Location"] == f"/sales/customers/{customer.pk}/"
    assert customer.currency == "EUR"
    assert sorted(customer.addresses.values_list("kind", "city", "country")) == [
        ("billing", "Raccoon", "US"),
        ("shipping", "Raccoon", "US"),
    ]


def test_an_incomplete_address_is_shown_on_that_address_and_nothing_is_created(seller):
    response = seller.post(
        "/sales/customers/new/",
        {
            "name": "Half",
            "kind": "company",
            "currency": "USD",
            "payment_terms": "net_30",
            "billing-line1": "Somewhere",
        },
    )
    assert response.status_code == 200
    assert not CustomerFactory._meta.model.objects.filter(name="Half").exists()
    assert response.context["billing"].errors["city"] == ["Required."]


def test_edit_a_customer_and_change_the_shipping_address(seller):
    customer = CustomerFactory(name="Old name")
    response = seller.post(
        f"/sales/customers/{customer.pk}/edit/",
        {
            "name": "New name",
            "kind": "company",
            "currency": "USD",
            "payment_terms": "net_60",
            "is_active": "on",
            "shipping-name": "Dock 4",
            "shipping-line1": "9 Pier",
            "shipping-city": "Bay",
            "shipping-country": "GB",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.payment_terms) == ("New name", "net_60")
    assert customer.addresses.get(kind=Address.Kind.SHIPPING, is_default=True).city == "Bay"
    assert not customer.addresses.filter(kind=Address.Kind.BILLING).exists()


def test_add_a_contact_with_htmx(seller):
    customer = CustomerFactory()
    response = seller.post(
        f"/sales/customers/{customer.pk}/contacts/",
        {"name": "Grace", "email": "grace@x.test", "role": "buyer"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contacts",
    )
    assert customer.contacts.get().name == "Grace"
    assert response.content.lstrip().startswith(b'<div id="contacts"')
    bad = seller.post(
        f"/sales/customers/{customer.pk}/contacts/",
        {"name": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contacts",
    )
    assert toast_of(bad)["level"] == "error"
    assert customer.contacts.count() == 1


@pytest.mark.django_db
def test_warehouse_staff_may_ship_but_not_edit_orders(client):
    from sales.models import OrderStatus
    from sales.services import order_confirm
    from tests.erp.factories import UserFactory
    from tests.sales.factories import order_for, stocked_product

    order = order_confirm(order=order_for((stocked_product(5), 2)))
    client.force_login(UserFactory(username="picker", roles=["Warehouse"]))

    assert client.post(f"/sales/orders/{order.pk}/edit/", {}).status_code == 403
    response = client.post(f"/sales/fulfilment/{order.pk}/ship/")

    assert response.status_code in (200, 302)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
