"""The procurement API as a platform: ordering, updated_since, expand at a constant number of queries,
ETag / If-Match on suppliers and purchase orders, and the one money format."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from procurement import schemas as procurement_schemas
from procurement.models import PurchaseOrder, Supplier
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_record,
    po_create,
    po_send,
    receipt_create,
    supplier_item_set,
    supplier_payment_record,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import ProductFactory, warehouse
from tests.inventory.test_api_platform import (
    PlatformApi,
    assert_one_tag_per_area,
    assert_schemas_documented,
    errors_of,
    patch_while_another_writer_holds_the_row,
)
from tests.procurement.factories import SupplierFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/procurement"


@pytest.fixture
def api() -> PlatformApi:
    return PlatformApi(api_key_for(UserFactory(roles=["Purchasing manager"])), base=BASE)


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=datetime.UTC)


def _po(*, supplier: Supplier | None = None, lines: int = 2, **kwargs: Any) -> PurchaseOrder:
    supplier = supplier or SupplierFactory()
    products = [ProductFactory() for _ in range(lines)]
    return po_create(
        supplier=supplier,
        warehouse=warehouse("WH1"),
        lines=[POLineSpec(p, 2 + i, unit_cost="3.50") for i, p in enumerate(products)],
        **kwargs,
    )


def _billed(po: PurchaseOrder) -> None:
    po = po_send(po=po)
    receipt_create(po=po, lines=[ReceiveLine(line=line, quantity=line.quantity) for line in po.lines.all()])
    bill = bill_record(
        po=po,
        supplier_reference=f"INV-{po.pk}",
        lines=[
            BillLineSpec(line=line, quantity=line.quantity, unit_cost=line.unit_cost)
            for line in po.lines.all()
        ],
    )
    supplier_payment_record(bill=bill, amount="1.00")


# --- ordering and updated_since ---------------------------------------------------------------------


def test_purchase_orders_sort_by_allowed_keys_and_refuse_others(api: PlatformApi):
    # given
    early = _po(order_date=_at("2030-01-10").date(), expected_date=_at("2030-03-01").date())
    late = _po(order_date=_at("2030-02-10").date(), expected_date=_at("2030-02-20").date())

    # when / then
    assert [p["id"] for p in api.get("/purchase-orders", ordering="order_date").json()["items"]] == [
        early.pk,
        late.pk,
    ]
    assert [p["id"] for p in api.get("/purchase-orders", ordering="expected_date,id").json()["items"]] == [
        late.pk,
        early.pk,
    ]
    assert [p["id"] for p in api.get("/purchase-orders", ordering="-date").json()["items"]] == [
        late.pk,
        early.pk,
    ]
    refused = api.get("/purchase-orders", ordering="supplier_mood")
    assert refused.status_code == 422
    assert "expected_date" in refused.json()["allowed"]
    assert "supplier_mood" in errors_of(refused)["ordering"]


def test_updated_since_on_every_procurement_list(api: PlatformApi):
    # given: everything changed a month ago, then one supplier and one order now
    _billed(_po())
    old = timezone.now() - datetime.timedelta(days=30)
    for model_name in ("supplier", "supplieritem", "purchaseorder", "receipt", "bill", "supplierpayment"):
        apps.get_model("procurement", model_name).objects.update(updated_at=old)
    fresh = _po()
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    # then
    def ids(path: str) -> list[int]:
        response = api.get(path, updated_since=cut)
        assert response.status_code == 200, (path, response.content)
        return [row["id"] for row in response.json()["items"]]

    assert ids("/purchase-orders") == [fresh.pk]
    assert ids("/suppliers") == [fresh.supplier_id]
    for path in ("/supplier-items", "/receipts", "/bills", "/payments"):
        assert ids(path) == [], path
    assert (
        api.get("/bills", updated_since=(old - datetime.timedelta(days=1)).isoformat()).json()["count"] == 1
    )


# --- expand -----------------------------------------------------------------------------------------


def test_purchase_orders_expand_lines_like_the_detail(api: PlatformApi):
    po = _po(lines=2)

    plain = api.get("/purchase-orders").json()["items"][0]
    expanded = api.get("/purchase-orders", expand="lines").json()["items"][0]
    refused = api.get("/purchase-orders", expand="receipts")

    assert plain["lines"] is None
    assert expanded["lines"] == api.get(f"/purchase-orders/{po.pk}").json()["lines"]
    assert [line["ordered"] for line in expanded["lines"]] == ["2.0000", "3.0000"]
    assert refused.status_code == 422
    assert refused.json()["allowed"] == ["lines"]


def test_expanded_purchase_orders_and_bills_cost_the_same_queries_for_5_as_for_50(api: PlatformApi):
    supplier = SupplierFactory()
    product = ProductFactory()
    supplier_item_set(supplier=supplier, product=product, unit_price="2.00")

    def seed(n: int) -> None:
        for _ in range(n):
            po = po_create(
                supplier=supplier,
                warehouse=warehouse("WH1"),
                lines=[POLineSpec(product, 1), POLineSpec(ProductFactory(), 2, unit_cost="1.00")],
            )
            _billed(po)

    seed(5)

    def list_orders() -> None:
        items = api.get("/purchase-orders", expand="lines").json()["items"]
        assert all(len(po["lines"]) == 2 for po in items)

    def list_bills() -> None:
        items = api.get("/bills", expand="lines,payments").json()["items"]
        assert all(len(b["lines"]) == 2 and len(b["payments"]) == 1 for b in items)

    assert_constant_queries(list_orders, lambda: seed(45))
    assert_constant_queries(list_bills, lambda: seed(5))


# --- ETag / If-Match ----------------------------------------------------------------------------------


def test_suppliers_and_purchase_orders_answer_an_etag_that_if_match_checks(api: PlatformApi):
    po = _po()
    for path, body in (
        (f"/purchase-orders/{po.pk}", {"notes": "gate 2"}),
        (f"/suppliers/{po.supplier_id}", {"lead_time_days": 9}),
    ):
        etag = api.get(path)["ETag"]
        fresh = api.patch(path, body, if_match=etag)
        stale = api.patch(path, body, if_match=etag)
        assert fresh.status_code == 200, (path, fresh.content)
        assert stale.status_code == 412, path
        assert stale["Content-Type"] == "application/problem+json"
        assert stale.json()["current_etag"] == fresh["ETag"]


def test_sending_an_order_makes_the_tag_read_before_stale(api: PlatformApi):
    po = _po()
    etag = api.get(f"/purchase-orders/{po.pk}")["ETag"]
    assert api.post(f"/purchase-orders/{po.pk}/send").status_code == 200

    stale = api.patch(f"/purchase-orders/{po.pk}", {"notes": "as I read it"}, if_match=etag)

    assert stale.status_code == 412
    po.refresh_from_db()
    assert po.notes == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_purchase_order_if_match_check_is_made_under_the_row_lock():
    api = PlatformApi(api_key_for(UserFactory(roles=["Purchasing manager"])), base=BASE)
    po = _po()
    etag = api.get(f"/purchase-orders/{po.pk}")["ETag"]

    answer = patch_while_another_writer_holds_the_row(
        api, f"/purchase-orders/{po.pk}", PurchaseOrder, po.pk, {"notes": "mine"}, etag
    )

    assert answer.status_code == 412, answer.content
    po.refresh_from_db()
    assert po.notes == ""


# --- money format ------------------------------------------------------------------------------------


def test_money_has_the_minor_unit_digits_of_the_supplier_currency(api: PlatformApi):
    # given: a yen supplier with a price break, a dollar one with a sub-cent unit cost
    yen = SupplierFactory(currency="JPY")
    part = ProductFactory()
    supplier_item_set(supplier=yen, product=part, unit_price="1500", price_breaks=[(10, "1400")])
    yen_po = po_create(supplier=yen, warehouse=warehouse("WH1"), lines=[POLineSpec(part, 3)])
    usd_po = _po(lines=1)
    cheap = po_create(
        supplier=usd_po.supplier,
        warehouse=warehouse("WH1"),
        lines=[POLineSpec(ProductFactory(), 1000, unit_cost="0.0125")],
    )

    # when
    yen_detail = api.get(f"/purchase-orders/{yen_po.pk}").json()
    item = api.get("/supplier-items", supplier=yen.pk).json()["items"][0]
    cheap_detail = api.get(f"/purchase-orders/{cheap.pk}").json()

    # then
    assert (yen_detail["currency"], yen_detail["total"], yen_detail["lines"][0]["unit_cost"]) == (
        "JPY",
        "4500",
        "1500",
    )
    assert (item["unit_price"], item["price_breaks"][0]["unit_price"]) == ("1500", "1400")
    assert api.get(f"/purchase-orders/{usd_po.pk}").json()["lines"][0]["unit_cost"] == "3.50"
    assert cheap_detail["lines"][0]["unit_cost"] == "0.0125"
    assert cheap_detail["total"] == "12.50"
    assert api.get(f"/suppliers/{yen.pk}").json()["open_balance"] == "0"


def test_supplier_payments_carry_their_currency(api: PlatformApi):
    _billed(_po(lines=1))
    listed = api.get("/payments").json()["items"][0]
    assert (listed["currency"], listed["amount"]) == ("USD", "1.00")


# --- the schema ---------------------------------------------------------------------------------------


def test_every_procurement_schema_has_an_example_and_every_operation_its_area_tag():
    assert assert_schemas_documented(procurement_schemas) > 20
    assert_one_tag_per_area("/api/v1/procurement/", "Procurement")
