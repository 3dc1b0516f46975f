"""Issue #21, defect 11: separation of duties. The accountant books money (invoices, payments,
refunds, bills, bill payments) but makes no orders: refused the sales and purchase order forms at
GET and at POST, in the UI and the API. The Sales and Purchasing roles keep what they did.
"""

from __future__ import annotations

import pytest
from django.test import Client

from erp.access import ROLES, SPECIAL_RIGHTS
from procurement.models import Bill, PurchaseOrder
from sales.models import Invoice, InvoiceStatus, OrderStatus, SalesOrder
from sales.services import invoice_create, order_confirm, shipment_create
from sales.services.fulfilment import ShipLine
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, warehouse
from tests.procurement.api_support import api_as, sent_po
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def accountant():
    return UserFactory(username="alice", roles=["Accountant"])


@pytest.fixture
def books(accountant) -> Client:
    client = Client()
    client.force_login(accountant)
    return client


def shipped_order():
    tee = stocked_product(10, sku="TEE-ACC", price="20.00")
    order = order_confirm(order=order_for((tee, 2)))
    shipment_create(order=order, lines=[ShipLine(order.lines.get(), 2)])
    return order


def test_the_matrix_gives_the_accountant_rights_not_area_writes():
    role = next(r for r in ROLES if r.name == "Accountant")
    assert set(role.rights) == {"sales_invoice", "procurement_bill"}
    assert {area: level for area, level in role.grants.items() if level == "write"} == {}
    assert {"sales_invoice", "procurement_bill"} <= set(SPECIAL_RIGHTS)
    sales = next(r for r in ROLES if r.name == "Sales")
    purchasing = next(r for r in ROLES if r.name == "Purchasing")
    assert sales.grants["sales"] == "write"
    assert purchasing.grants["procurement"] == "write"


def test_the_accountant_invoices_an_order_issues_it_and_records_a_payment(books):
    order = shipped_order()

    created = books.post(f"/sales/orders/{order.pk}/invoice/")
    invoice = Invoice.objects.get(order=order)
    issued = books.post(f"/sales/invoices/{invoice.pk}/issue/")
    invoice.refresh_from_db()
    paid = books.post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {f"pay{invoice.pk}-amount": "10.00", f"pay{invoice.pk}-paid_at": "2026-01-05"},
    )

    assert created.status_code in (200, 302), created.content[:300]
    assert issued.status_code in (200, 302)
    assert invoice.status == InvoiceStatus.ISSUED
    assert paid.status_code in (200, 302)
    assert invoice.payments.count() == 1


def test_the_accountant_sees_the_invoice_buttons_but_not_the_order_ones(books):
    order = shipped_order()

    page = books.get(f"/sales/orders/{order.pk}/").content.decode()

    assert 'data-action="invoice"' in page
    assert 'data-action="hold"' not in page
    assert 'data-action="cancel"' not in page


def test_the_accountant_cannot_hold_or_cancel_an_order(books):
    order = shipped_order()
    for action in ("hold", "cancel", "close"):
        response = books.post(f"/sales/orders/{order.pk}/{action}/")
        assert response.status_code == 403, action
    order.refresh_from_db()
    assert order.status != OrderStatus.CANCELLED


def test_the_accountant_cannot_open_or_post_the_order_forms(books):
    customer = CustomerFactory()
    for url in ("/sales/orders/new/", "/procurement/orders/new/", "/sales/customers/new/"):
        assert books.get(url).status_code == 403, url
    before = (SalesOrder.objects.count(), PurchaseOrder.objects.count())
    assert books.post("/sales/orders/new/", {"customer": customer.pk}).status_code == 403
    assert books.post("/procurement/orders/new/", {"supplier": SupplierFactory().pk}).status_code == 403
    assert (SalesOrder.objects.count(), PurchaseOrder.objects.count()) == before


def test_the_accountant_cannot_create_orders_through_the_api(accountant):
    key = bearer(api_key_for(accountant))
    client = Client()
    product = ProductFactory()

    sale = client.post(
        "/api/v1/sales/orders",
        {
            "channel": ChannelFactory().pk,
            "customer": CustomerFactory().pk,
            "lines": [{"product": product.pk, "quantity": 1}],
        },
        content_type="application/json",
        **key,
    )
    purchase = client.post(
        "/api/v1/procurement/purchase-orders",
        {
            "supplier": SupplierFactory().pk,
            "warehouse": warehouse().pk,
            "lines": [{"product": product.pk, "quantity": 1, "unit_cost": "1"}],
        },
        content_type="application/json",
        **key,
    )

    assert sale.status_code == 403, sale.content
    assert purchase.status_code == 403, purchase.content
    assert not SalesOrder.objects.exists()
    assert not PurchaseOrder.objects.exists()


def test_the_accountant_records_and_pays_a_bill_through_the_api(accountant):
    buyer = api_as("Purchasing")
    po = sent_po(buyer, ProductFactory(), quantity=4, cost="5.00")
    line_id = po["lines"][0]["id"]
    buyer.post(f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": line_id, "quantity": 4}]})
    client, key = Client(), bearer(api_key_for(accountant))

    bill = client.post(
        "/api/v1/procurement/bills",
        {
            "purchase_order": po["id"],
            "supplier_reference": "SUP-9",
            "lines": [{"line_id": line_id, "quantity": 4, "unit_cost": "5.00"}],
        },
        content_type="application/json",
        **key,
    )
    paid = client.post(
        f"/api/v1/procurement/bills/{bill.json()['id']}/pay",
        {"amount": "20.00", "method": "bank transfer"},
        content_type="application/json",
        **key,
    )

    assert bill.status_code == 201, bill.content
    assert paid.status_code == 201, paid.content
    assert Bill.objects.get().status == "paid"


def test_the_accountant_issues_an_invoice_through_the_api(accountant):
    order = shipped_order()
    invoice = invoice_create(order=order)
    key = bearer(api_key_for(accountant))

    response = Client().post(
        f"/api/v1/sales/invoices/{invoice.pk}/issue", "", content_type="application/json", **key
    )

    assert response.status_code == 200, response.content
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def test_a_key_without_the_invoicing_scope_is_refused(accountant):
    invoice = invoice_create(order=shipped_order())
    key = bearer(api_key_for(accountant, scopes=["sales:read"]))

    response = Client().post(
        f"/api/v1/sales/invoices/{invoice.pk}/issue", "", content_type="application/json", **key
    )

    assert response.status_code == 403
    assert "sales:invoice" in response.json()["detail"] or "sales:invoice" in str(response.content)


def test_the_sales_role_still_invoices_and_the_purchasing_role_still_bills():
    seller = Client()
    seller.force_login(UserFactory(username="sam", roles=["Sales"]))
    order = shipped_order()
    assert seller.post(f"/sales/orders/{order.pk}/invoice/").status_code in (200, 302)
    assert Invoice.objects.filter(order=order).exists()
    buyer = api_as("Purchasing")
    po = sent_po(buyer, ProductFactory(), quantity=1, cost="2.00")
    line_id = po["lines"][0]["id"]
    buyer.post(f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_id": line_id, "quantity": 1}]})
    bill = buyer.post(
        "/bills",
        {
            "purchase_order": po["id"],
            "supplier_reference": "P-1",
            "lines": [{"line_id": line_id, "quantity": 1, "unit_cost": "2.00"}],
        },
    )
    assert bill.status_code == 201, bill.content
