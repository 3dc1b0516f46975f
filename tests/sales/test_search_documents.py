"""Global search: invoices and credit notes, shipments and tracking numbers, returns, and orders by
their channel's number; one query per provider, and only for those who read sales."""

from __future__ import annotations

import pytest

from erp import search as global_search
from sales.services import (
    ReturnLineSpec,
    invoice_create,
    invoice_issue,
    order_confirm,
    return_create,
    shipment_create,
)
from tests.erp.factories import UserFactory
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


def provider(key: str) -> global_search.SearchProvider:
    return global_search._providers[key]


def urls(key: str, query: str) -> list[str]:
    return [result.url for result in provider(key).search(query, 8)]


@pytest.fixture
def world():
    customer = CustomerFactory(name="Initech")
    order = order_for((stocked_product(5, sku="TEE"), 2), customer=customer, external_reference="#1042")
    order = order_confirm(order=order)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    invoice = invoice_issue(invoice=invoice_create(order=order))
    line = order.lines.get()
    sales_return = return_create(order=order, lines=[ReturnLineSpec(line, 1, "restock", "too small")])
    return {"order": order, "shipment": shipment, "invoice": invoice, "return": sales_return}


def test_invoices_are_found_by_number_customer_and_channel_number(world):
    # given
    invoice = world["invoice"]
    url = f"/sales/invoices/{invoice.pk}/"
    # when / then
    assert url in urls("sales.invoices", invoice.number)
    assert url in urls("sales.invoices", invoice.number[-3:])  # a part of the number
    assert url in urls("sales.invoices", "initech")
    assert url in urls("sales.invoices", "#1042")
    assert url in urls("sales.invoices", "1042")
    assert urls("sales.invoices", "INV-99999") == []


def test_orders_are_found_by_their_channel_number_with_or_without_hash(world):
    # given
    url = f"/sales/orders/{world['order'].pk}/"
    # when / then
    assert url in urls("sales.orders", "#1042")
    assert url in urls("sales.orders", "1042")
    assert urls("sales.orders", "#9999") == []


def test_shipments_are_found_by_number_and_tracking_number(world):
    # given
    shipment = world["shipment"]
    url = f"/sales/orders/{shipment.order_id}/#shipments"
    # when / then
    assert url in urls("sales.shipments", shipment.number)
    assert url in urls("sales.shipments", "1Z999AA1")
    assert url in urls("sales.shipments", "10123456784")
    assert urls("sales.shipments", "NOPE-123") == []


def test_returns_are_found_by_number(world):
    # given
    ret = world["return"]
    # when / then
    assert f"/sales/orders/{ret.order_id}/#returns" in urls("sales.returns", ret.number)
    assert urls("sales.returns", "RET-NONE") == []


@pytest.mark.parametrize(
    "key", ["sales.invoices", "sales.shipments", "sales.returns", "sales.orders", "sales.customers"]
)
def test_each_provider_costs_one_query(world, key, django_assert_num_queries):
    # given: more matches than the limit
    for _ in range(3):
        order = order_confirm(order=order_for((stocked_product(5), 1), customer=world["order"].customer))
        shipment_create(order=order, tracking_number="1Z999AA1")
        invoice_issue(invoice=invoice_create(order=order))
    # when / then
    with django_assert_num_queries(1):
        provider(key).search("initech" if key != "sales.shipments" else "1Z999", 8)


def test_readers_without_sales_do_not_see_the_groups(world):
    # given
    producer = UserFactory(roles=["Production"])
    seller = UserFactory(roles=["Sales"])
    invoice = world["invoice"]
    # when
    theirs = {p.key for p, _ in global_search.search(invoice.number, producer)}
    ours = {p.key for p, _ in global_search.search(invoice.number, seller)}
    # then
    assert "sales.invoices" not in theirs
    assert "sales.invoices" in ours
    assert not any(key.startswith("sales.") for key in theirs)


def test_the_search_page_opens_an_invoice(client, world):
    # given
    client.force_login(UserFactory(roles=["Sales"]))
    invoice = world["invoice"]
    # when
    html = client.get(f"/search/?q={invoice.number}").content.decode()
    # then
    assert f"/sales/invoices/{invoice.pk}/" in html
    assert "Invoices and credit notes" in html
