"""The sales API as a platform: ordering, updated_since, expand at a constant number of queries,
ETag / If-Match on customers, channels and orders, the fulfilment queue, and the one money format."""

from __future__ import annotations

import datetime
from decimal import Decimal as D
from typing import Any

import pytest
from django.utils import timezone

from sales import schemas as sales_schemas
from sales.models import Customer, SalesChannel, SalesOrder
from sales.services import (
    LineSpec,
    TaxSpec,
    invoice_create,
    invoice_issue,
    order_confirm,
    order_create,
    payment_record,
    shipment_create,
)
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import warehouse
from tests.inventory.test_api_platform import (
    PlatformApi,
    assert_one_tag_per_area,
    assert_schemas_documented,
    errors_of,
    patch_while_another_writer_holds_the_row,
)
from tests.queries import FEW, MANY, assert_constant_queries
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"


@pytest.fixture
def api() -> PlatformApi:
    return PlatformApi(api_key_for(UserFactory(roles=["Sales"])), base=BASE)


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=datetime.UTC)


def _order(*, lines: int = 2, **kwargs: Any) -> SalesOrder:
    product = stocked_product(1000)
    return order_create(
        channel=kwargs.pop("channel", None) or ChannelFactory(),
        customer=kwargs.pop("customer", None) or CustomerFactory(),
        lines=[
            LineSpec(product=product, quantity=1 + i, taxes=[TaxSpec("VAT", "0.2")]) for i in range(lines)
        ],
        **kwargs,
    )


# --- ordering and updated_since ---------------------------------------------------------------------


def test_orders_sort_by_allowed_keys_in_order_and_refuse_others(api: PlatformApi):
    # given
    first = _order(order_date=_at("2030-01-10"))
    second = _order(order_date=_at("2030-02-10"))
    third = _order(order_date=_at("2030-03-10"))
    SalesOrder.objects.filter(pk=first.pk).update(updated_at=_at("2030-06-01"))
    SalesOrder.objects.filter(pk=second.pk).update(updated_at=_at("2030-06-01"))
    SalesOrder.objects.filter(pk=third.pk).update(updated_at=_at("2030-05-01"))

    # when
    by_update_then_number = api.get("/orders", ordering="-updated_at,number")
    oldest = api.get("/orders", ordering="date")
    refused = api.get("/orders", ordering="-colour")

    # then
    assert [o["id"] for o in by_update_then_number.json()["items"]] == [first.pk, second.pk, third.pk]
    assert [o["id"] for o in oldest.json()["items"]] == [first.pk, second.pk, third.pk]
    assert refused.status_code == 422
    assert "order_date" in refused.json()["allowed"]
    assert "'-colour'" in errors_of(refused)["ordering"]


def test_updated_since_on_every_sales_list_that_keeps_updated_at(api: PlatformApi):
    # given: an order shipped and invoiced long ago, and a customer changed recently
    order = order_confirm(order=_order())
    shipment_create(order=order)
    invoice = invoice_issue(invoice=invoice_create(order=order))
    payment_record(invoice=invoice, amount="1.00")
    old = timezone.now() - datetime.timedelta(days=30)
    for model in (SalesOrder, Customer, SalesChannel):
        model.objects.update(updated_at=old)
    for relation in ("shipments", "invoices"):
        getattr(order, relation).update(updated_at=old)
    invoice.payments.update(updated_at=old)
    recent = CustomerFactory(name="Recent")

    # then
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    before = (old - datetime.timedelta(days=1)).isoformat()
    for path in ("/orders", "/shipments", "/invoices", "/payments", "/returns", "/channels"):
        assert api.get(path, updated_since=cut).json()["count"] == 0, path
        assert api.get(path, updated_since=before).status_code == 200, path
    assert [c["id"] for c in api.get("/customers", updated_since=cut).json()["items"]] == [recent.pk]
    assert api.get("/orders", updated_since=before).json()["count"] == 1


# --- expand -----------------------------------------------------------------------------------------


def test_expand_lines_returns_each_order_with_its_lines(api: PlatformApi):
    # given
    order = order_confirm(order=_order(lines=2))

    # when
    plain = api.get("/orders").json()["items"][0]
    expanded = api.get("/orders", expand="lines").json()["items"][0]
    refused = api.get("/orders", expand="lines,customer")

    # then
    assert plain["lines"] is None
    assert [line["ordered"] for line in expanded["lines"]] == ["1.0000", "2.0000"]
    assert [line["reserved"] for line in expanded["lines"]] == ["1.0000", "2.0000"]
    assert expanded["lines"][0]["taxes"][0]["rate"] == "0.200000"  # rates as stored
    assert expanded["lines"][0]["line_total"] == "12.00"
    detail_lines = api.get(f"/orders/{order.pk}").json()["lines"]
    # the same lines; the order's own page adds what is backordered
    assert expanded["lines"] == [
        {k: v for k, v in line.items() if k != "backordered"} for line in detail_lines
    ]
    assert refused.status_code == 422
    assert refused.json()["allowed"] == ["lines"]
    assert "'customer'" in errors_of(refused)["expand"]


def test_expanded_orders_cost_the_same_queries_for_few_as_for_many(api: PlatformApi):
    channel, customer = ChannelFactory(), CustomerFactory()
    product = stocked_product(100_000)

    def seed(n: int) -> None:
        for _ in range(n):
            order_confirm(order=order_for((product, 1), (product, 2), channel=channel, customer=customer))

    seed(FEW)
    shown: list[int] = []

    def list_them() -> None:
        response = api.get("/orders", expand="lines")
        assert response.status_code == 200, response.content
        shown.append(sum(len(o["lines"]) for o in response.json()["items"]))

    queries = assert_constant_queries(list_them, lambda: seed(MANY - FEW))
    assert shown[-1] == 2 * MANY  # orders of 2 lines
    assert queries < 15


def test_invoices_expand_lines_and_payments_at_constant_queries(api: PlatformApi):
    channel, customer = ChannelFactory(), CustomerFactory()
    product = stocked_product(100_000)

    def seed(n: int) -> None:
        for _ in range(n):
            order = order_confirm(
                order=order_for((product, 1), (product, 2), channel=channel, customer=customer)
            )
            shipment_create(order=order)
            payment_record(invoice=invoice_issue(invoice=invoice_create(order=order)), amount="1.00")

    seed(5)

    def list_them() -> None:
        items = api.get("/invoices", expand="payments,lines").json()["items"]
        assert all(len(i["lines"]) == 2 and len(i["payments"]) == 1 for i in items)

    assert_constant_queries(list_them, lambda: seed(45))
    item = api.get("/invoices", expand="payments").json()["items"][0]
    assert (item["lines"], item["payments"][0]["amount"]) == (None, "1.00")


# --- ETag / If-Match ----------------------------------------------------------------------------------


def test_orders_customers_and_channels_answer_an_etag_that_if_match_checks(api: PlatformApi):
    # given
    order = _order()
    customer, channel = order.customer, order.channel
    paths = {
        f"/orders/{order.pk}": {"notes": "by the back door"},
        f"/customers/{customer.pk}": {"phone": "123"},
        f"/channels/{channel.pk}": {"name": "Shop"},
    }
    for path, body in paths.items():
        etag = api.get(path)["ETag"]

        # when: a write with the tag read, then one with the same (now stale) tag
        fresh = api.patch(path, body, if_match=etag)
        stale = api.patch(path, body, if_match=etag)

        # then
        assert fresh.status_code == 200, (path, fresh.content)
        assert fresh["ETag"] not in ("", etag)
        assert stale.status_code == 412, path
        assert stale.json()["current_etag"] == fresh["ETag"]


def test_a_state_change_makes_an_order_tag_stale(api: PlatformApi):
    # given: a draft read by a tool, then confirmed by someone else
    order = _order()
    etag = api.get(f"/orders/{order.pk}")["ETag"]
    assert api.post(f"/orders/{order.pk}/confirm").status_code == 200

    # when
    stale = api.patch(f"/orders/{order.pk}", {"notes": "edited from what I read"}, if_match=etag)

    # then
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    order.refresh_from_db()
    assert order.notes == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_order_if_match_check_is_made_under_the_row_lock():
    api = PlatformApi(api_key_for(UserFactory(roles=["Sales"])), base=BASE)
    order = _order()
    etag = api.get(f"/orders/{order.pk}")["ETag"]

    answer = patch_while_another_writer_holds_the_row(
        api, f"/orders/{order.pk}", SalesOrder, order.pk, {"notes": "mine"}, etag
    )

    assert answer.status_code == 412, answer.content
    order.refresh_from_db()
    assert order.notes == ""


# --- the fulfilment queue ------------------------------------------------------------------------------


def test_the_fulfilment_queue_lists_what_can_ship_with_what_is_held(api: PlatformApi):
    # given: a confirmed order (held), a draft (not), a backordered one (nothing held)
    scarce = stocked_product(3)
    held = order_confirm(order=order_for((scarce, 2), order_date=_at("2030-01-01")))
    order_for((scarce, 1))
    backordered = order_confirm(order=order_for((scarce, 5), order_date=_at("2030-01-02")))

    # when
    queue = api.get("/fulfilment")

    # then
    assert queue.status_code == 200, queue.content
    rows = [(r["order_number"], r["open"], r["reserved"]) for r in queue.json()["items"]]
    assert rows == [(held.number, "2.0000", "2.0000"), (backordered.number, "5.0000", "1.0000")]
    assert api.get("/fulfilment", ordering="-order_date").json()["items"][0]["order"] == backordered.pk
    assert api.get("/fulfilment", warehouse=warehouse("OTHER").pk).json()["count"] == 0


# --- money format ------------------------------------------------------------------------------------


def test_money_has_the_minor_unit_digits_of_the_document_currency(api: PlatformApi):
    # given: a JPY channel and a USD one
    yen = ChannelFactory(code="jp", currency="JPY")
    mug = stocked_product(100, price="1200")
    order = order_confirm(order=order_for((mug, 3), channel=yen, customer=CustomerFactory(currency="JPY")))
    usd_order = order_for((stocked_product(100, price="705.91"), 1))

    # when
    detail = api.get(f"/orders/{order.pk}").json()
    listed = {o["id"]: o for o in api.get("/orders", expand="lines").json()["items"]}
    usd = api.get(f"/orders/{usd_order.pk}").json()

    # then: yen has no minor unit, dollars have cents; quantities keep 4 places
    assert (detail["currency"], detail["total"], detail["subtotal"]) == ("JPY", "3600", "3600")
    assert detail["lines"][0]["unit_price"] == "1200"
    assert detail["lines"][0]["ordered"] == "3.0000"
    assert listed[order.pk]["lines"][0]["line_total"] == "3600"
    assert (usd["currency"], usd["total"], usd["lines"][0]["unit_price"]) == ("USD", "705.91", "705.91")
    assert D(usd["total"]) == usd_order.total


def test_payments_and_refunds_carry_their_currency(api: PlatformApi):
    order = order_confirm(order=order_for((stocked_product(10, price="10.00"), 2)))
    shipment_create(order=order)
    invoice = api.post(f"/orders/{order.pk}/invoice").json()
    paid = api.post(f"/invoices/{invoice['id']}/pay", {"amount": "5"})
    assert paid.status_code == 201, paid.content
    assert (paid.json()["currency"], paid.json()["amount"], paid.json()["invoice_balance"]) == (
        "USD",
        "5.00",
        "15.00",
    )
    listed = api.get("/payments").json()["items"][0]
    assert (listed["currency"], listed["amount"]) == ("USD", "5.00")


# --- the schema ---------------------------------------------------------------------------------------


def test_every_sales_schema_has_an_example_and_every_operation_its_area_tag():
    assert assert_schemas_documented(sales_schemas) > 20
    assert_one_tag_per_area("/api/v1/sales/", "Sales")
