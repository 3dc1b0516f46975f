"""The sales admin: every model browsable and searchable at a constant query count, documents read-only,
customer and channel edits through the services, and order actions that call the services."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client

from erp.models import OutboxEvent
from inventory.models import Product
from sales.models import Customer, OrderStatus, SalesChannel, SalesOrder
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    ReturnLineSpec,
    address_set,
    contact_add,
    invoice_create,
    invoice_issue,
    order_confirm,
    order_create,
    payment_record,
    refund_record,
    return_create,
    return_receive,
    shipment_create,
)
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.queries import count_queries
from tests.sales.factories import VAT, ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

SALES_MODELS = [
    m for m in apps.get_app_config("sales").get_models() if not m._meta.model_name.startswith("historical")
]


def url_of(model, suffix: str = "") -> str:
    return f"/admin/sales/{model._meta.model_name}/{suffix}"


def order_to_cash(product: Product, *, lines: int = 1, tag: str = "") -> SalesOrder:
    """One order through every document: shipped, invoiced, paid, returned, credited and refunded."""
    customer = CustomerFactory(name=f"Customer {tag}")
    address_set(
        customer=customer,
        kind="shipping",
        values={"name": customer.name, "line1": "1 Main St", "city": "Springfield", "country": "US"},
    )
    contact_add(customer=customer, name=f"Buyer of {customer.name}", email="buyer@example.com")
    order = order_create(
        channel=ChannelFactory(),
        customer=customer,
        lines=[LineSpec(product=product, quantity=2, taxes=VAT) for _ in range(lines)],
        external_reference=f"#{tag}",
    )
    order_confirm(order=order)
    shipment_create(order=order, carrier="UPS", tracking_number=f"1Z{order.pk:08d}")
    invoice = invoice_issue(invoice=invoice_create(order=order))
    payment_record(invoice=invoice, amount=invoice.total, method="card")
    sales_return = return_create(
        order=order, lines=[ReturnLineSpec(line=ln, quantity=1) for ln in order.lines.all()], reason="size"
    )
    refund_record(sales_return=return_receive(sales_return=sales_return), method="card")
    return order


@pytest.fixture
def boss(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def test_every_sales_model_is_registered():
    registered = {m for m in admin.site._registry if m._meta.app_label == "sales"}

    assert registered == set(SALES_MODELS)


def test_every_changelist_change_page_and_search_opens_with_data(boss: Client):
    # given: one order that went through every document
    order_to_cash(stocked_product(20, sku="ADM-1"), tag="A")

    for model in SALES_MODELS:
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} in the fixture"
        # when / then
        listing = boss.get(url_of(model))
        assert listing.status_code == 200, model
        assert listing.context["cl"].result_count >= 1, model
        assert boss.get(url_of(model, "?q=A")).status_code == 200, model
        page = boss.get(url_of(model, f"{obj.pk}/change/"))
        assert page.status_code == 200, model


def test_history_pages_open(boss: Client):
    order = order_to_cash(stocked_product(20), tag="H")

    for model, obj in [
        (SalesOrder, order),
        (Customer, order.customer),
        (SalesChannel, order.channel),
        (type(order.invoices.first()), order.invoices.first()),
    ]:
        page = boss.get(url_of(model, f"{obj.pk}/history/"))
        assert page.status_code == 200, model


def test_changelists_cost_the_same_queries_for_1_or_4_orders(boss: Client):
    # given: one order to cash
    product = stocked_product(100)
    order_to_cash(product, tag="first")
    urls = [url_of(model) for model in SALES_MODELS]
    for url in urls:
        boss.get(url)  # warm per-process caches (content types, sessions)
    before = {url: count_queries(lambda url=url: boss.get(url)) for url in urls}

    # when: three more, with more lines
    for n in range(3):
        order_to_cash(product, lines=2, tag=f"more{n}")
    after = {url: count_queries(lambda url=url: boss.get(url)) for url in urls}

    # then
    assert after == before


@pytest.mark.parametrize("document", ["order", "shipment", "invoice", "return"])
def test_document_pages_cost_the_same_queries_for_1_or_5_lines(boss: Client, document):
    # given: the same documents for an order of one line and one of five lines
    product = stocked_product(100)
    pages = []
    for lines in (1, 5):
        order = order_to_cash(product, lines=lines, tag=str(lines))
        obj = {
            "order": order,
            "shipment": order.shipments.first(),
            "invoice": order.invoices.filter(kind="invoice").first(),
            "return": order.returns.first(),
        }[document]
        pages.append(url_of(type(obj), f"{obj.pk}/change/"))
    boss.get(pages[0])

    # when
    small, large = (count_queries(lambda url=url: boss.get(url)) for url in pages)

    # then
    assert large == small


def test_search_finds_orders_by_sku_customer_and_external_reference(boss: Client):
    # given
    shirt = stocked_product(10, sku="SHIRT-RED")
    mug = stocked_product(10, sku="MUG-BLUE")
    with_shirt = order_for(
        (shirt, 1), customer=CustomerFactory(name="Ada Lovelace"), external_reference="#1001"
    )
    with_mug = order_for((mug, 1), customer=CustomerFactory(name="Grace Hopper"), external_reference="#1002")

    def found(q: str) -> set[str]:
        response = boss.get(url_of(SalesOrder), {"q": q})
        return {o.number for o in response.context["cl"].result_list}

    # then
    assert found("shirt-red") == {with_shirt.number}
    assert found("Hopper") == {with_mug.number}
    assert found("#1001") == {with_shirt.number}
    assert found(with_mug.number) == {with_mug.number}


def test_documents_are_read_only(boss: Client):
    order = order_to_cash(stocked_product(10), tag="ro")
    invoice = order.invoices.first()

    assert boss.get(url_of(SalesOrder, "add/")).status_code == 403
    assert boss.get(url_of(SalesOrder, f"{order.pk}/delete/")).status_code == 403
    response = boss.post(url_of(SalesOrder, f"{order.pk}/change/"), {"status": "cancelled"})
    assert response.status_code == 403
    assert boss.get(url_of(type(invoice), f"{invoice.pk}/delete/")).status_code == 403
    page = boss.get(url_of(SalesOrder, f"{order.pk}/change/")).content.decode()
    assert 'name="_save"' not in page
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def post_action(client: Client, action: str, orders: list[SalesOrder]):
    return client.post(
        url_of(SalesOrder),
        {"action": action, "_selected_action": [o.pk for o in orders], "index": 0},
        follow=True,
    )


def test_confirm_action_confirms_drafts_and_reports_the_others(boss: Client):
    # given: two drafts and one confirmed order
    product = stocked_product(10)
    drafts = [order_for((product, 2)), order_for((product, 3))]
    confirmed = order_confirm(order=order_for((product, 1)))

    # when
    response = post_action(boss, "confirm_drafts", [*drafts, confirmed])

    # then: the drafts are confirmed with stock held; the confirmed one is reported, not failed
    assert response.status_code == 200
    for order in drafts:
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
    held = reserved_by_line([ln.pk for o in drafts for ln in o.lines.all()])
    assert sum(held.values()) == D(5)
    notes = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert ("success", f"Confirmed 2 order(s): {drafts[0].number}, {drafts[1].number}.") in notes
    assert ("error", f"{confirmed.number}: A sales order cannot go from 'confirmed' to 'confirmed'.") in notes


def test_cancel_action_cancels_and_releases_and_reports_shipped_orders(boss: Client):
    product = stocked_product(10)
    open_order = order_confirm(order=order_for((product, 4)))
    shipped = order_confirm(order=order_for((product, 1)))
    shipment_create(order=shipped)

    response = post_action(boss, "cancel_orders", [open_order, shipped])

    open_order.refresh_from_db()
    shipped.refresh_from_db()
    assert open_order.status == OrderStatus.CANCELLED
    assert "cancelled in the admin by boss" in open_order.notes
    assert reserved_by_line([ln.pk for ln in open_order.lines.all()]) == {}
    assert shipped.status == OrderStatus.SHIPPED
    notes = [m.message for m in get_messages(response.wsgi_request)]
    assert f"{shipped.number}: A sales order cannot go from 'shipped' to 'cancelled'." in notes


@pytest.mark.parametrize(("role", "offered"), [("Sales", True), ("Warehouse", False)])
def test_order_actions_are_offered_only_to_who_can_write_sales(client: Client, role, offered):
    # given: staff who may view orders in the admin, with a role that can or cannot write sales
    user = UserFactory(roles=[role], is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_salesorder"))
    order = order_for((stocked_product(5), 1))
    client.force_login(user)

    # when
    page = client.get(url_of(SalesOrder))
    refused = post_action(client, "confirm_drafts", [order])

    # then
    assert page.status_code == 200
    assert ('value="confirm_drafts"' in page.content.decode()) is offered
    order.refresh_from_db()
    assert (order.status == OrderStatus.CONFIRMED) is offered
    assert refused.status_code == 200


def test_customer_add_and_change_go_through_the_services(boss: Client):
    # when: a customer is added with an address and a contact
    form = {
        "code": "C-ADMIN",
        "kind": "company",
        "name": "Acme Corp",
        "email": "ap@acme.example",
        "phone": "",
        "tax_id": "",
        "currency": "USD",
        "payment_terms": "net_30",
        "notes": "",
        "is_active": "on",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-kind": "billing",
        "addresses-0-is_default": "on",
        "addresses-0-name": "Accounts payable",
        "addresses-0-line1": "1 Road Runner Way",
        "addresses-0-city": "Phoenix",
        "addresses-0-country": "US",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-name": "Wile E.",
        "contacts-0-email": "wile@acme.example",
    }
    response = boss.post(url_of(Customer, "add/"), form)

    # then: created by customer_create (its event is recorded), with its inlines
    assert response.status_code == 302, response.context["errors"] if response.context else response
    customer = Customer.objects.get(code="C-ADMIN")
    assert customer.addresses.get().city == "Phoenix"
    assert customer.contacts.get().name == "Wile E."
    assert OutboxEvent.objects.filter(topic="sales.customer_created", aggregate_id=str(customer.pk)).exists()

    # when: renamed
    change = {
        **form,
        "name": "Acme Corporation",
        "addresses-INITIAL_FORMS": "1",
        "addresses-0-id": str(customer.addresses.get().pk),
        "addresses-0-customer": str(customer.pk),
        "contacts-INITIAL_FORMS": "1",
        "contacts-0-id": str(customer.contacts.get().pk),
        "contacts-0-customer": str(customer.pk),
    }
    response = boss.post(url_of(Customer, f"{customer.pk}/change/"), change)

    # then
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Acme Corporation"
    assert customer.code == "C-ADMIN"
    updated = OutboxEvent.objects.get(topic="sales.customer_updated", aggregate_id=str(customer.pk))
    assert updated.payload["name"] == "Acme Corporation"


def test_two_default_addresses_of_a_kind_are_refused_as_a_form_error(boss: Client):
    address = {"kind": "shipping", "is_default": "on", "line1": "x", "city": "y", "country": "US"}
    form = {
        "code": "C-TWO",
        "kind": "person",
        "name": "Two Homes",
        "currency": "USD",
        "payment_terms": "prepaid",
        "addresses-TOTAL_FORMS": "2",
        "addresses-INITIAL_FORMS": "0",
        **{f"addresses-{i}-{k}": v for i in range(2) for k, v in {**address, "name": f"Home {i}"}.items()},
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
    }

    response = boss.post(url_of(Customer, "add/"), form)

    assert response.status_code == 200
    assert "Only one shipping address can be the default." in response.content.decode()
    assert not Customer.objects.filter(code="C-TWO").exists()


def test_channel_add_and_change_go_through_the_services(boss: Client):
    wh = warehouse("WH1")
    form = {
        "code": "B2B",
        "name": "Wholesale",
        "kind": "wholesale",
        "warehouse": str(wh.pk),
        "currency": "EUR",
        "invoice_policy": "ordered",
        "is_active": "on",
    }

    response = boss.post(url_of(SalesChannel, "add/"), form)

    assert response.status_code == 302
    channel = SalesChannel.objects.get(code="b2b")  # stored lower-case, as channel_create does
    assert channel.invoice_policy == "ordered"
    assert channel.created_by is not None

    response = boss.post(url_of(SalesChannel, f"{channel.pk}/change/"), {**form, "name": "B2B portal"})

    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "B2B portal"
    assert channel.updated_by is not None
    assert channel.history.count() == 2

    duplicate = boss.post(url_of(SalesChannel, "add/"), {**form, "code": "b2B"})
    assert duplicate.status_code == 200
    assert "Channel b2b exists already." in duplicate.content.decode()
