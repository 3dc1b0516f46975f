"""The procurement admin: every model's changelist and change page open with data, documents are
read-only, suppliers and supplier items (with their price breaks) are edited through the services."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client

from procurement.models import PurchaseOrder, Supplier, SupplierItem
from tests.inventory.factories import unit
from tests.procurement.test_api_lists import procure_to_pay
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

PROCUREMENT_MODELS = [
    m
    for m in apps.get_app_config("procurement").get_models()
    if not m._meta.model_name.startswith("historical")
]
DOCUMENTS = [
    "purchaseorder",
    "purchaseorderline",
    "receipt",
    "receiptline",
    "bill",
    "billline",
    "supplierpayment",
]


def url_of(model_name: str, suffix: str = "") -> str:
    return f"/admin/procurement/{model_name}/{suffix}"


@pytest.fixture
def boss(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def test_every_procurement_model_is_registered():
    assert {m._meta.model_name for m in PROCUREMENT_MODELS} <= {
        m._meta.model_name for m in admin.site._registry if m._meta.app_label == "procurement"
    }
    assert len(PROCUREMENT_MODELS) == 11


@pytest.mark.parametrize("model", PROCUREMENT_MODELS, ids=lambda m: m._meta.model_name)
def test_each_changelist_and_change_page_opens_with_data_at_a_constant_query_count(boss: Client, model):
    # given
    procure_to_pay(1)
    changelist = url_of(model._meta.model_name)
    first = boss.get(changelist)
    assert first.status_code == 200
    small = count_queries(lambda: boss.get(changelist))

    # when
    for n in range(2, 7):
        procure_to_pay(n)
    response = boss.get(changelist)
    large = count_queries(lambda: boss.get(changelist))

    # then: every row is listed, without a query per row
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() > 0
    assert large == small, f"{small} queries with few rows, {large} with more"
    obj = model.objects.order_by("pk").first()
    change = boss.get(url_of(model._meta.model_name, f"{obj.pk}/change/"))
    assert change.status_code == 200
    assert boss.get(changelist, {"q": "S"}).status_code == 200


@pytest.mark.parametrize("model_name", DOCUMENTS)
def test_documents_are_read_only(boss: Client, model_name: str):
    procure_to_pay(1)
    model = apps.get_model("procurement", model_name)
    obj = model.objects.first()

    assert boss.get(url_of(model_name, "add/")).status_code == 403
    page = boss.get(url_of(model_name, f"{obj.pk}/change/"))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert boss.post(url_of(model_name, f"{obj.pk}/delete/"), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_a_supplier_is_added_and_changed_through_the_services(boss: Client):
    # when
    added = boss.post(
        url_of("supplier", "add/"),
        {
            "code": "",
            "name": "Admin Supplier",
            "email": "a@example.com",
            "currency": "EUR",
            "payment_terms_days": 14,
            "lead_time_days": 5,
            "is_active": "on",
            "contacts-TOTAL_FORMS": 1,
            "contacts-INITIAL_FORMS": 0,
            "contacts-0-name": "Ann",
            "items-TOTAL_FORMS": 0,
            "items-INITIAL_FORMS": 0,
        },
    )

    # then: the service numbered it, and the contact is attached to it
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else added
    supplier = Supplier.objects.get(name="Admin Supplier")
    assert supplier.code.startswith("S-")
    assert list(supplier.contacts.values_list("name", flat=True)) == ["Ann"]


def test_a_supplier_item_and_its_price_breaks_are_saved_through_supplier_item_set(boss: Client):
    # given: another supplier prefers the product
    theirs = procure_to_pay(1).lines.order_by("position").first().supplier_item
    product = theirs.product
    ours = Supplier.objects.create(code="S-OURS", name="Ours")

    # when
    response = boss.post(
        url_of("supplieritem", "add/"),
        {
            "supplier": ours.pk,
            "product": product.pk,
            "supplier_sku": "OUR-1",
            "purchase_unit": unit("box").pk,
            "factor": "6",
            "unit_price": "12.00",
            "min_order_quantity": "0",
            "is_preferred": "on",
            "price_breaks-TOTAL_FORMS": 2,
            "price_breaks-INITIAL_FORMS": 0,
            "price_breaks-0-min_quantity": "10",
            "price_breaks-0-unit_price": "11.00",
            "price_breaks-1-min_quantity": "",
            "price_breaks-1-unit_price": "",
        },
    )

    # then: the preference moved (as supplier_item_set does), and the break is the item's
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    item = SupplierItem.objects.get(supplier=ours, product=product)
    assert (item.is_preferred, item.factor, item.unit_price) == (True, D(6), D("12.0000"))
    assert list(item.price_breaks.values_list("min_quantity", "unit_price")) == [(D(10), D("11.0000"))]
    theirs.refresh_from_db()
    assert not theirs.is_preferred

    # when: the break is deleted and another one added
    [old] = item.price_breaks.all()
    changed = boss.post(
        url_of("supplieritem", f"{item.pk}/change/"),
        {
            "supplier_sku": "OUR-1",
            "purchase_unit": unit("box").pk,
            "factor": "6",
            "unit_price": "12.50",
            "min_order_quantity": "2",
            "is_preferred": "on",
            "price_breaks-TOTAL_FORMS": 2,
            "price_breaks-INITIAL_FORMS": 1,
            "price_breaks-0-id": old.pk,
            "price_breaks-0-item": item.pk,
            "price_breaks-0-min_quantity": "10",
            "price_breaks-0-unit_price": "11.00",
            "price_breaks-0-DELETE": "on",
            "price_breaks-1-item": item.pk,
            "price_breaks-1-min_quantity": "20",
            "price_breaks-1-unit_price": "10.00",
        },
    )

    # then
    assert changed.status_code == 302, (
        changed.context["adminform"].form.errors if changed.context else changed
    )
    item.refresh_from_db()
    assert (item.unit_price, item.min_order_quantity, item.is_preferred) == (D("12.5000"), D(2), True)
    assert list(item.price_breaks.values_list("min_quantity", "unit_price")) == [(D(20), D("10.0000"))]


def test_a_purchase_order_page_shows_its_lines_receipts_and_bills(boss: Client):
    po = procure_to_pay(1)

    page = boss.get(url_of("purchaseorder", f"{po.pk}/change/"))

    content = page.content.decode()
    assert po.number in content
    assert po.receipts.get().number in content
    assert po.bills.get().number in content
    assert PurchaseOrder.objects.count() == 1
