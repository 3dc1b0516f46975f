"""Sales pages: who may open them, what htmx gets back, and what a page costs in queries."""

from __future__ import annotations

import importlib
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from erp import search as global_search
from sales.models import Invoice, OrderStatus, Shipment
from sales.services import (
    ReturnLineSpec,
    ShipLine,
    address_set,
    contact_add,
    invoice_create,
    invoice_issue,
    order_confirm,
    payment_record,
    return_create,
    return_receive,
    shipment_create,
)
from tests.erp.factories import UserFactory
from tests.queries import FEW, MANY, assert_constant_queries, count_queries
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


def client_for(username: str, role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, roles=[role]))
    return client


@pytest.fixture
def seller() -> Client:
    return client_for("sam", "Sales")


@pytest.fixture
def picker() -> Client:
    """The warehouse role reads sales but does not write it."""
    return client_for("wendy", "Warehouse")


def full_order():
    """An order with every section filled: shipped in part, invoiced, paid in part, returned."""
    customer = CustomerFactory(name="Acme Corp")
    address_set(
        customer=customer,
        kind="shipping",
        values={"name": "Ada", "line1": "1 Main St", "city": "Springfield", "country": "US"},
    )
    contact_add(customer=customer, name="Ada Buyer", email="ada@acme.test")
    tee, mug = stocked_product(10, sku="TEE-M", price="20.00"), stocked_product(1, sku="MUG", price="8.00")
    order = order_for((tee, 4), (mug, 3), customer=customer, shipping_amount="5.00")
    order = order_confirm(order=order)
    tee_line = order.lines.get(product=tee)
    shipment_create(order=order, lines=[ShipLine(tee_line, 2)], carrier="UPS", tracking_number="1Z999")
    invoice = invoice_issue(invoice=invoice_create(order=order))
    payment_record(invoice=invoice, amount="10.00", method="card")
    tee_line.refresh_from_db()
    sales_return = return_create(order=order, lines=[ReturnLineSpec(tee_line, 1, "restock", "too small")])
    return_receive(sales_return=sales_return)
    order.refresh_from_db()
    return order


def page_urls(order) -> list[str]:
    shipment = Shipment.objects.filter(order=order).first()
    invoice = Invoice.objects.filter(order=order, kind="invoice").first()
    return [
        "/sales/",
        "/sales/orders/",
        "/sales/orders/?status=open&ordering=-total",
        f"/sales/orders/{order.pk}/",
        f"/sales/orders/{order.pk}/ship/",
        f"/sales/orders/{order.pk}/returns/new/",
        "/sales/orders/new/",
        f"/sales/orders/new/?customer={order.customer_id}",
        "/sales/fulfilment/",
        "/sales/customers/",
        f"/sales/customers/{order.customer_id}/",
        "/sales/customers/new/",
        f"/sales/customers/{order.customer_id}/edit/",
        "/sales/invoices/",
        "/sales/invoices/?overdue=true",
        f"/sales/invoices/{invoice.pk}/print/",
        f"/sales/shipments/{shipment.pk}/packing-slip/",
        "/sales/products/options/?q=TEE",
        "/sales/customers/options/?q=acme",
    ]


# --- access ----------------------------------------------------------------------------


def test_every_page_opens_for_the_sales_role(seller):
    # given
    order = full_order()

    # when / then
    for url in page_urls(order):
        response = seller.get(url)
        assert response.status_code == 200, url


def test_the_warehouse_role_reads_every_page_but_writes_nothing(picker):
    # given
    order = full_order()
    draft = order_for((stocked_product(5), 1))
    invoice = Invoice.objects.filter(order=order, kind="invoice").get()
    sales_return = order.returns.get()
    posts = [
        f"/sales/orders/{draft.pk}/confirm/",
        f"/sales/orders/{order.pk}/hold/",
        f"/sales/orders/{order.pk}/cancel/",
        f"/sales/orders/{order.pk}/invoice/",
        f"/sales/orders/{order.pk}/returns/new/",
        f"/sales/invoices/{invoice.pk}/pay/",
        f"/sales/invoices/{invoice.pk}/void/",
        f"/sales/returns/{sales_return.pk}/refund/",
        "/sales/orders/new/",
        f"/sales/orders/{draft.pk}/edit/",
        "/sales/orders/preview/",
        "/sales/customers/new/",
        f"/sales/customers/{order.customer_id}/edit/",
        f"/sales/customers/{order.customer_id}/contacts/",
    ]

    # when / then: reading works
    for url in page_urls(order):
        if url.endswith(("/new/", "/edit/")) or "/new/?" in url:
            continue
        assert picker.get(url).status_code == 200, url
    # and every write is refused, with nothing changed (shipping is theirs: see test_views_actions)
    for url in posts:
        response = picker.post(url, {"amount": "1", "name": "X", "reason": "x"})
        assert response.status_code == 403, url
        assert b"You don" in response.content
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT
    assert invoice.payments.count() == 1


def test_pages_need_a_login(client):
    order = full_order()
    for url in page_urls(order):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"]


def test_a_reader_sees_no_write_buttons(picker, seller):
    order = full_order()
    writable = seller.get(f"/sales/orders/{order.pk}/").content.decode()
    page = picker.get(f"/sales/orders/{order.pk}/").content.decode()
    for button in ('data-action="hold"', "Record payment", "New return…"):
        assert button in writable
        assert button not in page
    assert "Ship…" in page  # warehouse staff ship
    assert "New order" not in picker.get("/sales/orders/").content.decode()


# --- the landing page ------------------------------------------------------------------


def test_landing_tiles_count_what_needs_doing(seller):
    # given: a draft, a confirmed order with stock held and a backordered line, an overdue invoice
    order_for((stocked_product(5), 1))
    scarce = stocked_product(1, sku="SCARCE")
    order_confirm(order=order_for((scarce, 3), (stocked_product(5), 1)))
    old = order_confirm(order=order_for((stocked_product(5, price="50.00"), 1)))
    shipment_create(order=old)
    invoice = invoice_issue(
        invoice=invoice_create(order=old), issue_date=timezone.localdate() - timezone.timedelta(days=60)
    )

    # when
    response = seller.get("/sales/")

    # then
    context = response.context
    assert context["to_confirm"] == 1
    assert context["ready"] == {"orders": 1, "lines": 2}
    assert context["backordered"] == 1
    assert context["overdue_count"] == 1
    assert context["receivables"][0]["open"] == invoice.total
    assert b"Order to cash, for every channel." in response.content


# --- the orders list ---------------------------------------------------------------------


def test_orders_list_tabs_count_per_status_under_the_other_filters(seller):
    # given
    web, shop = ChannelFactory(code="web"), ChannelFactory(code="shop", name="Shop")
    product = stocked_product(50)
    order_for((product, 1), channel=web)
    order_confirm(order=order_for((product, 1), channel=web))
    order_confirm(order=order_for((product, 1), channel=shop))

    # when
    response = seller.get(f"/sales/orders/?channel={web.pk}")

    # then
    tabs = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert tabs[""] == 2
    assert tabs["draft"] == 1
    assert tabs["open"] == 1
    assert tabs["confirmed"] == 1
    assert tabs["shipped"] == 0
    assert len(response.context["page"].object_list) == 2


def test_orders_list_filters_by_status_customer_product_search_and_dates(seller):
    # given
    acme, other = CustomerFactory(name="Acme"), CustomerFactory(name="Globex")
    tee, mug = stocked_product(50, sku="TEE"), stocked_product(50, sku="MUG")
    a = order_for((tee, 1), customer=acme, external_reference="#1001")
    b = order_confirm(order=order_for((mug, 1), customer=other))
    old = order_for((mug, 1), customer=other, order_date=timezone.now() - timezone.timedelta(days=30))

    def numbers(query: str) -> set[str]:
        return {o.number for o in seller.get(f"/sales/orders/{query}").context["page"].object_list}

    # then
    assert numbers("?status=draft") == {a.number, old.number}
    assert numbers("?status=open") == {b.number}
    assert numbers(f"?customer={acme.pk}") == {a.number}
    assert numbers(f"?product={mug.pk}") == {b.number, old.number}
    assert numbers("?q=glob") == {b.number, old.number}
    assert numbers("?q=%231001") == {a.number}
    today = timezone.localdate().isoformat()
    assert numbers(f"?since={today}&until={today}") == {a.number, b.number}  # 'until' takes the whole day
    assert numbers("?ordering=number") == {a.number, b.number, old.number}


def test_orders_list_htmx_gets_the_rows_only(seller):
    order_for((stocked_product(5), 1))
    full = seller.get("/sales/orders/")
    rows = seller.get("/sales/orders/?status=draft", **htmx("rows"))
    assert b"<html" in full.content
    assert b"<html" not in rows.content
    assert b'id="order-filters"' not in rows.content
    assert b'class="tabs"' in rows.content
    assert b"<tbody>" in rows.content


def test_orders_list_costs_the_same_for_5_or_50_orders(seller):
    product = stocked_product(500)
    customers = [CustomerFactory() for _ in range(3)]
    for i in range(5):
        order_for((product, 1), customer=customers[i % 3])

    def grow():
        for i in range(45):
            order_for((product, 1), customer=CustomerFactory() if i % 2 else customers[0])

    queries = assert_constant_queries(lambda: seller.get("/sales/orders/?ordering=-total"), grow)
    assert queries <= 12


# --- the order detail --------------------------------------------------------------------


def test_order_detail_shows_every_section(seller):
    # given
    order = full_order()

    # when
    page = seller.get(f"/sales/orders/{order.pk}/").content.decode()

    # then
    for text in (
        order.number,
        "Acme Corp",
        "TEE-M",
        "backordered",  # 3 mugs ordered, 1 in stock
        "1Z999",
        "Packing slip",
        "Record payment",
        "RMA-",
        "CN-",
        "Confirmed",  # the timeline's sentences (sales/timeline.py)
        "Shipped 2 units with",
        "Payment of",
        "1 Main St",
    ):
        assert text in page, text
    assert 'hx-confirm="Confirm' not in page  # already confirmed: no confirm button


def test_order_detail_reserved_comes_from_the_reservations(seller):
    product = stocked_product(2, sku="FEW")
    order = order_confirm(order=order_for((product, 5)))
    rows = seller.get(f"/sales/orders/{order.pk}/").context["lines"]
    assert rows[0]["reserved"] == D(2)
    assert rows[0]["backordered"] == D(3)


def test_order_detail_costs_the_same_for_2_or_20_lines(seller):
    def make(n: int):
        customer = CustomerFactory()
        products = [stocked_product(10) for _ in range(n)]
        order = order_for(*[(p, 2) for p in products], customer=customer, shipping_amount="4.00")
        order = order_confirm(order=order)
        shipment_create(order=order, lines=[ShipLine(ln, 1) for ln in order.lines.all()], carrier="UPS")
        invoice = invoice_issue(invoice=invoice_create(order=order))
        payment_record(invoice=invoice, amount="1.00")
        sales_return = return_create(
            order=order, lines=[ReturnLineSpec(ln, 1) for ln in order.lines.all()], reason="damaged"
        )
        return_receive(sales_return=sales_return)
        return order

    small, big = make(2), make(20)
    counts = []
    for order in (small, big):
        seller.get(f"/sales/orders/{order.pk}/")  # warm
        counts.append(count_queries(lambda o=order: seller.get(f"/sales/orders/{o.pk}/")))
    assert counts[0] == counts[1], counts


def test_order_detail_htmx_gets_the_order_fragment(seller):
    order = order_for((stocked_product(5), 1))
    response = seller.get(f"/sales/orders/{order.pk}/", **htmx("order"))
    assert response.content.lstrip().startswith(b'<div id="order"')
    assert b"<html" not in response.content


def test_unknown_order_is_404(seller):
    assert seller.get("/sales/orders/999999/").status_code == 404


# --- fulfilment, customers, invoices ----------------------------------------------------------


def test_fulfilment_queue_lists_reserved_open_lines_grouped_by_order_oldest_first(seller):
    # given
    product, none = stocked_product(3, sku="HELD"), stocked_product(0, sku="NONE")
    older = order_confirm(
        order=order_for((product, 2), (none, 1), order_date=timezone.now() - timezone.timedelta(days=2))
    )
    newer = order_confirm(order=order_for((product, 2)))  # gets the last 1
    order_confirm(order=order_for((none, 1)))  # nothing held: not in the queue
    order_for((product, 1))  # a draft: not in the queue

    # when
    groups = seller.get("/sales/fulfilment/").context["groups"]

    # then
    assert [g["order"].number for g in groups] == [older.number, newer.number]
    assert [r["line"].product.sku for r in groups[0]["lines"]] == ["HELD"]
    assert groups[0]["units"] == [(D(2), "pcs")]  # reserved per stock unit, never kg + pcs
    assert groups[1]["units"] == [(D(1), "pcs")]


def test_fulfilment_queue_costs_the_same_for_few_or_many_orders(seller):
    product = stocked_product(1000)
    for _ in range(FEW):
        order_confirm(order=order_for((product, 1), (stocked_product(5), 2)))

    def grow():
        for _ in range(MANY - FEW):
            order_confirm(order=order_for((product, 1), (stocked_product(5), 2)))

    assert_constant_queries(lambda: seller.get("/sales/fulfilment/"), grow)


def test_customers_list_shows_open_balance_and_searches(seller):
    # given
    order = order_confirm(
        order=order_for((stocked_product(5, price="25.00"), 2), customer=CustomerFactory(name="Zed"))
    )
    shipment_create(order=order)
    invoice = invoice_issue(invoice=invoice_create(order=order))
    CustomerFactory(name="Alpha", email="alpha@x.test")

    # when
    page = seller.get("/sales/customers/?ordering=-balance").context["page"]
    found = seller.get("/sales/customers/?q=alpha@x.test").context["page"]

    # then
    assert page.object_list[0].name == "Zed"
    assert page.object_list[0].open_balance == invoice.total
    assert [c.name for c in found.object_list] == ["Alpha"]


def test_customers_list_costs_the_same_for_few_or_many_customers(seller):
    def add(n):
        for _ in range(n):
            customer = CustomerFactory()
            order = order_confirm(order=order_for((stocked_product(5), 1), customer=customer))
            shipment_create(order=order)
            invoice_issue(invoice=invoice_create(order=order))

    add(FEW)
    assert_constant_queries(lambda: seller.get("/sales/customers/"), lambda: add(MANY - FEW))


def test_customer_detail_pages_its_order_history_with_htmx(seller):
    customer = CustomerFactory()
    product = stocked_product(100)
    for _ in range(30):
        order_for((product, 1), customer=customer)
    first = seller.get(f"/sales/customers/{customer.pk}/")
    second = seller.get(f"/sales/customers/{customer.pk}/?page=2", **htmx("rows"))
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert b"<html" not in second.content


def test_invoices_list_highlights_overdue(seller):
    order = order_confirm(order=order_for((stocked_product(5), 1)))
    shipment_create(order=order)
    late = invoice_issue(
        invoice=invoice_create(order=order), issue_date=timezone.localdate() - timezone.timedelta(days=45)
    )
    response = seller.get("/sales/invoices/?overdue=true")
    assert [i.number for i in response.context["page"].object_list] == [late.number]
    assert b'class="overdue"' in response.content
    assert b"overdue 2\xc2\xa0weeks" in response.content


# --- printable documents -----------------------------------------------------------------------


def test_packing_slip_and_invoice_print_without_navigation(seller, settings):
    settings.COMPANY_NAME = "Widgets Ltd"
    order = full_order()
    shipment = Shipment.objects.get(order=order)
    invoice = Invoice.objects.get(order=order, kind="invoice")

    slip = seller.get(f"/sales/shipments/{shipment.pk}/packing-slip/").content.decode()
    printed = seller.get(f"/sales/invoices/{invoice.pk}/print/").content.decode()

    for page in (slip, printed):
        assert "Widgets Ltd" in page
        assert "@media print" in page
        assert 'class="sidebar"' not in page
    assert shipment.number in slip
    assert "TEE-M" in slip
    assert "1 Main St" in slip
    assert invoice.number in printed
    assert "Balance due" in printed


def test_printed_documents_fall_back_to_erp_as_company_name(seller):
    order = full_order()
    shipment = Shipment.objects.get(order=order)
    assert (
        '<div class="company">ERP</div>'
        in seller.get(f"/sales/shipments/{shipment.pk}/packing-slip/").content.decode()
    )


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def sales_search():
    saved = dict(global_search._providers)
    import sales.search

    importlib.reload(sales.search)
    yield
    global_search._providers.clear()
    global_search._providers.update(saved)


def test_global_search_finds_orders_and_customers(seller, sales_search):
    customer = CustomerFactory(name="Initech", email="bill@initech.test")
    order = order_for((stocked_product(5), 1), customer=customer, external_reference="SHOP-77")

    by_customer = seller.get("/search/?q=initech").content.decode()
    by_reference = seller.get("/search/?q=SHOP-77").content.decode()
    by_number = seller.get(f"/search/?q={order.number}").content.decode()
    by_email = seller.get("/search/?q=bill@initech.test").content.decode()

    assert f"/sales/orders/{order.pk}/" in by_customer
    assert f"/sales/customers/{customer.pk}/" in by_customer
    assert f"/sales/orders/{order.pk}/" in by_reference
    assert f"/sales/orders/{order.pk}/" in by_number
    assert f"/sales/customers/{customer.pk}/" in by_email


def test_global_search_hides_sales_from_roles_without_it(sales_search):
    client = client_for("pat", "Production")
    order = order_for((stocked_product(5), 1), customer=CustomerFactory(name="Initech"))
    assert f"/sales/orders/{order.pk}/" not in client.get("/search/?q=initech").content.decode()


def test_timeline_entries_read_like_sentences_and_survive_odd_payloads():
    from erp.models import OutboxEvent
    from sales.views.orders import timeline_entry

    shipped = timeline_entry(
        OutboxEvent(
            topic="sales.shipment_shipped",
            payload={
                "currency": "EUR",
                "shipment_number": "SH-7",
                "carrier": "DHL",
                "tracking_number": "JD01",
                "lines": [{"sku": "TEE", "quantity": "2.0000"}],
            },
        )
    )
    odd = timeline_entry(
        OutboxEvent(topic="sales.order_created", payload={"currency": "USD", "total": "n/a", "lines": "x"})
    )

    assert shipped.title == "Shipment shipped"
    assert shipped.facts == ["shipment SH-7", "carrier DHL", "tracking JD01", "2 × TEE"]
    assert odd.title == "Order created"
    assert odd.facts == ["total n/a USD"]
