"""The sales API: customers, channels, orders created and confirmed in one request, the whole
order-to-cash flow over HTTP, errors (404, 409, 422) and who may do what."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client

from erp.models import OutboxEvent
from sales.models import Customer, InvoiceStatus, SalesChannel, SalesOrder
from sales.services import order_confirm
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

BASE = "/api/v1/sales"


class Api:
    """The sales API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def post_empty(self, path: str):
        """A POST without any body (an action taking no options, or taking the defaults)."""
        return self.client.post(BASE + path, "", content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def api() -> Api:
    return Api(api_key_for(UserFactory(roles=["Sales"])))


ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical St", "city": "London", "country": "gb"}


# --- customers ------------------------------------------------------------------------------------


def test_create_a_customer_with_addresses_and_contacts_then_read_and_update_it(api: Api):
    # when
    created = api.post(
        "/customers",
        {
            "name": "Engines Ltd",
            "email": "ap@engines.example",
            "payment_terms": "net_15",
            "billing_address": ADDRESS,
            "contacts": [{"name": "Charles", "role": "buyer"}, {"name": "Ada", "email": "ada@x.example"}],
        },
    )

    # then: the shipping address defaults to the billing one
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"].startswith("C-")
    assert D(body["open_balance"]) == 0
    assert sorted((a["kind"], a["country"], a["is_default"]) for a in body["addresses"]) == [
        ("billing", "GB", True),
        ("shipping", "GB", True),
    ]
    assert sorted(c["name"] for c in body["contacts"]) == ["Ada", "Charles"]
    assert body["recent_orders"] == []

    # when: a new default shipping address, a contact, a change
    customer_id = body["id"]
    address = api.post(
        f"/customers/{customer_id}/addresses", {**ADDRESS, "kind": "shipping", "line1": "2 Dock Rd"}
    )
    contact = api.post(f"/customers/{customer_id}/contacts", {"name": "Babbage", "phone": "123"})
    updated = api.patch(f"/customers/{customer_id}", {"name": "Engines plc", "is_active": False})

    # then
    assert address.status_code == 201, address.content
    assert contact.status_code == 201, contact.content
    assert updated.status_code == 200, updated.content
    detail = api.get(f"/customers/{customer_id}").json()
    assert (detail["name"], detail["is_active"], detail["payment_terms"]) == ("Engines plc", False, "net_15")
    shipping_defaults = [
        a["line1"] for a in detail["addresses"] if a["kind"] == "shipping" and a["is_default"]
    ]
    assert shipping_defaults == ["2 Dock Rd"]
    assert len(detail["contacts"]) == 3


def test_a_customer_shows_its_open_balance_and_latest_orders(api: Api):
    # given: an order invoiced for 20.00 of which 5.00 is paid
    customer = CustomerFactory()
    order = order_confirm(order=order_for((stocked_product(5, price="10.00"), 2), customer=customer))
    api.post(f"/orders/{order.pk}/ship")
    invoice = api.post(f"/orders/{order.pk}/invoice").json()
    api.post(f"/invoices/{invoice['id']}/pay", {"amount": "5.00"})

    # when
    detail = api.get(f"/customers/{customer.pk}").json()
    listed = api.get("/customers", q=customer.name).json()["items"]

    # then
    assert D(detail["open_balance"]) == D("15.00")
    assert [o["number"] for o in detail["recent_orders"]] == [order.number]
    assert [(c["id"], D(c["open_balance"])) for c in listed] == [(customer.pk, D("15.00"))]


def test_invalid_customer_input_is_a_422_naming_the_field_and_creates_nothing(api: Api):
    # when
    bad_terms = api.post("/customers", {"name": "X", "payment_terms": "net_1000"})
    bad_currency = api.post("/customers", {"name": "X", "currency": "XXY"})
    bad_address = api.post("/customers", {"name": "X", "billing_address": {"name": "Only a name"}})

    # then
    assert bad_terms.status_code == 422
    assert "payment_terms" in field_errors(bad_terms)
    assert bad_currency.status_code == 422
    assert "currency" in field_errors(bad_currency)
    assert bad_address.status_code == 422
    assert {"line1", "city", "country"} <= set(field_errors(bad_address))
    assert not Customer.objects.exists()


# --- channels -------------------------------------------------------------------------------------


def test_create_read_and_update_a_channel(api: Api):
    # given
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")

    # when
    created = api.post(
        "/channels",
        {
            "code": "B2B",
            "name": "Wholesale",
            "warehouse": wh1.pk,
            "kind": "wholesale",
            "currency": "EUR",
            "prices_include_tax": True,
            "invoice_policy": "ordered",
        },
    )
    channel_id = created.json()["id"]
    updated = api.patch(f"/channels/{channel_id}", {"warehouse": wh2.pk, "is_active": False})

    # then
    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0} == {
        "id": 0,
        "code": "b2b",
        "name": "Wholesale",
        "kind": "wholesale",
        "warehouse": wh1.pk,
        "warehouse_code": "WH1",
        "currency": "EUR",
        "prices_include_tax": True,
        "invoice_policy": "ordered",
        "is_active": True,
    }
    assert updated.status_code == 200, updated.content
    assert (updated.json()["warehouse_code"], updated.json()["is_active"]) == ("WH2", False)
    assert api.get(f"/channels/{channel_id}").json()["warehouse"] == wh2.pk


def test_invalid_channel_input_is_refused(api: Api):
    # given
    channel = ChannelFactory()

    # when
    bad_kind = api.post("/channels", {"code": "x", "warehouse": channel.warehouse_id, "kind": "telepathy"})
    unknown_warehouse = api.post("/channels", {"code": "x", "warehouse": 999999})
    duplicate = api.post("/channels", {"code": "WEB", "warehouse": channel.warehouse_id})
    bad_currency = api.patch(f"/channels/{channel.pk}", {"currency": "EURO"})

    # then
    assert bad_kind.status_code == 422
    assert "kind" in field_errors(bad_kind)
    assert unknown_warehouse.status_code == 404
    assert "warehouse" in field_errors(unknown_warehouse)
    assert duplicate.status_code == 422
    assert "code" in field_errors(duplicate)
    assert bad_currency.status_code == 422
    assert SalesChannel.objects.count() == 1
    channel.refresh_from_db()
    assert channel.currency == "USD"


# --- orders ---------------------------------------------------------------------------------------


def test_create_an_order_with_lines_by_sku_and_by_id_and_confirm_it_in_one_request(api: Api):
    # given
    stocked_product(10, price="10.00", sku="MUG-RED")
    by_id = stocked_product(1, price="5.00")
    channel, customer = ChannelFactory(), CustomerFactory()

    # when: the SKU in another case, 3 of a product with only 1 in stock
    response = api.post(
        "/orders",
        {
            "channel": channel.pk,
            "customer": customer.pk,
            "lines": [
                {
                    "sku": "mug-red",
                    "quantity": "4",
                    "discount_percent": "10",
                    "taxes": [{"name": "VAT", "rate": "0.2"}],
                },
                {"product": by_id.pk, "quantity": 3, "unit_price": "6.00"},
            ],
            "shipping_address": ADDRESS,
            "shipping_amount": "5.00",
            "tags": ["vip", " vip ", "gift"],
            "external_reference": "#1001",
            "confirm": True,
        },
    )

    # then: confirmed, stock reserved, the rest backordered, totals computed
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["number"].startswith("SO-")
    assert (order["channel_code"], order["customer_name"]) == ("web", customer.name)
    assert (order["tags"], order["external_reference"]) == (["gift", "vip"], "#1001")
    first, second = order["lines"]
    assert (first["sku"], first["ordered"], first["reserved"]) == ("MUG-RED", "4.0000", "4.0000")
    assert (D(first["line_subtotal"]), D(first["tax_amount"]), D(first["line_total"])) == (
        D("36"),
        D("7.20"),
        D("43.20"),
    )
    assert [(t["name"], D(t["rate"]), D(t["amount"])) for t in first["taxes"]] == [
        ("VAT", D("0.2"), D("7.20"))
    ]
    assert (second["product"], second["ordered"], second["reserved"]) == (by_id.pk, "3.0000", "1.0000")
    assert D(order["total"]) == D("43.20") + D("18.00") + D("5.00")
    assert order["shipping_address"]["city"] == "London"
    # nothing shipped yet, and the channel bills shipped quantities: "invoice" is not offered (as on the page)
    assert set(order["allowed_actions"]) == {"ship", "hold", "cancel"}
    assert SalesOrder.objects.get().status == "confirmed"


def test_an_order_without_confirm_stays_a_draft_and_reserves_nothing(api: Api):
    # given
    product = stocked_product(5)

    # when
    response = api.post(
        "/orders",
        {
            "channel": ChannelFactory().pk,
            "customer": CustomerFactory().pk,
            "lines": [{"product": product.pk, "quantity": 2}],
        },
    )

    # then: the product's sale price, nothing held
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "draft"
    # money with the currency's minor-unit digits, quantities with 4 places
    assert (order["lines"][0]["unit_price"], order["lines"][0]["reserved"]) == ("10.00", "0.0000")
    assert set(order["allowed_actions"]) == {"confirm", "hold", "cancel"}


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "GOOD", "quantity": 0}], "lines.0.quantity"),
        ([{"sku": "GOOD", "quantity": 1}, {"sku": "NO-SUCH-SKU", "quantity": 1}], "lines.1.sku"),
        ([{"product": 999999, "quantity": 1}], "lines.0.product"),
        ([{"quantity": 1}], "lines.0.product"),
        ([{"sku": "GOOD", "product": 1, "quantity": 1}], "lines.0.product"),
        ([{"sku": "GOOD", "quantity": 1, "discount_percent": 150}], "lines.0.discount_percent"),
        ([{"sku": "GOOD"}], "lines.0.quantity"),
        ([], "lines"),
    ],
)
def test_bad_lines_are_a_422_naming_the_line_and_nothing_is_created(api: Api, lines, field):
    # given
    stocked_product(5, sku="GOOD")
    channel, customer = ChannelFactory(), CustomerFactory()
    events_before = OutboxEvent.objects.count()

    # when
    response = api.post(
        "/orders", {"channel": channel.pk, "customer": customer.pk, "lines": lines, "confirm": True}
    )

    # then
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in field_errors(response)
    assert not SalesOrder.objects.exists()
    assert OutboxEvent.objects.count() == events_before


def test_unknown_ids_are_404(api: Api):
    # given
    product = stocked_product(1)

    # when
    unknown_customer = api.post(
        "/orders",
        {
            "channel": ChannelFactory().pk,
            "customer": 999999,
            "lines": [{"product": product.pk, "quantity": 1}],
        },
    )

    # then
    assert unknown_customer.status_code == 404
    assert "customer" in field_errors(unknown_customer)
    for path in (
        "/orders/999999",
        "/customers/999999",
        "/channels/999999",
        "/invoices/999999",
        "/shipments/999999",
        "/returns/999999",
        "/orders/999999/timeline",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "999999" in response.json()["detail"]
    assert api.post_empty("/orders/999999/confirm").status_code == 404


def test_edit_a_draft_then_only_notes_and_tags_once_confirmed(api: Api):
    # given
    product, other = stocked_product(10, price="10.00"), stocked_product(10, price="3.00")
    order = order_for((product, 1))

    # when: the draft's lines replaced
    edited = api.patch(
        f"/orders/{order.pk}",
        {"lines": [{"product": other.pk, "quantity": 2}], "order_discount": "1.00", "notes": "gift wrap"},
    )

    # then
    assert edited.status_code == 200, edited.content
    assert [(ln["product"], ln["ordered"]) for ln in edited.json()["lines"]] == [(other.pk, "2.0000")]
    assert D(edited.json()["total"]) == D("5.00")

    # when: confirmed, a change of lines is refused, tags are fine
    api.post_empty(f"/orders/{order.pk}/confirm")
    refused = api.patch(f"/orders/{order.pk}", {"lines": [{"product": product.pk, "quantity": 1}]})
    tagged = api.patch(f"/orders/{order.pk}", {"tags": ["rush"]})

    # then
    assert refused.status_code == 422
    assert tagged.status_code == 200
    assert tagged.json()["tags"] == ["rush"]


def test_hold_release_cancel_and_an_illegal_transition_is_a_409_naming_both_states(api: Api):
    # given
    product = stocked_product(5)
    order = order_confirm(order=order_for((product, 2)))

    # when / then: hold, release back to confirmed
    held = api.post(f"/orders/{order.pk}/hold", {"reason": "fraud check"})
    assert (held.status_code, held.json()["status"], held.json()["allowed_actions"]) == (
        200,
        "on_hold",
        ["release"],
    )
    assert "fraud check" in held.json()["notes"]
    released = api.post_empty(f"/orders/{order.pk}/release")
    assert released.json()["status"] == "confirmed"

    # when: closing an order that has not shipped
    refused = api.post_empty(f"/orders/{order.pk}/close")

    # then: 409, naming both states, nothing changed
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "'confirmed'" in refused.json()["detail"]
    assert "'closed'" in refused.json()["detail"]
    assert api.get(f"/orders/{order.pk}").json()["status"] == "confirmed"

    # when: cancelled, the stock is released, and it cannot be confirmed again
    cancelled = api.post(f"/orders/{order.pk}/cancel", {"reason": "changed mind"})
    again = api.post_empty(f"/orders/{order.pk}/confirm")

    # then
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["lines"][0]["reserved"] == "0.0000"
    assert again.status_code == 409
    assert "'cancelled'" in again.json()["detail"]
    assert "'confirmed'" in again.json()["detail"]


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


# --- who may do what ------------------------------------------------------------------------------


def test_a_warehouse_key_may_read_sales_but_not_write():
    # given
    product = stocked_product(5)
    channel, customer = ChannelFactory(), CustomerFactory()
    order = order_confirm(order=order_for((product, 1), channel=channel, customer=customer))
    warehouse_api = Api(api_key_for(UserFactory(roles=["Warehouse"])))

    # when
    reads = [
        warehouse_api.get(path) for path in ("/orders", f"/orders/{order.pk}", "/customers", "/invoices")
    ]
    create = warehouse_api.post(
        "/orders",
        {"channel": channel.pk, "customer": customer.pk, "lines": [{"product": product.pk, "quantity": 1}]},
    )
    ship = warehouse_api.post_empty(f"/orders/{order.pk}/ship")
    patch = warehouse_api.patch(f"/customers/{customer.pk}", {"name": "Renamed"})

    # then
    assert [r.status_code for r in reads] == [200, 200, 200, 200]
    assert (create.status_code, ship.status_code, patch.status_code) == (403, 403, 403)
    assert "sales:write" in create.json()["detail"]
    assert SalesOrder.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_an_inventory_only_key_may_not_read_sales():
    # given: a Sales user's key limited to inventory
    inventory_api = Api(api_key_for(UserFactory(roles=["Sales"]), scopes=["inventory:read"]))
    order = order_for((ProductFactory(), 1))

    # when
    listed = inventory_api.get("/orders")
    detail = inventory_api.get(f"/orders/{order.pk}")

    # then
    assert (listed.status_code, detail.status_code) == (403, 403)
    assert "sales:read" in listed.json()["detail"]


def test_an_anonymous_caller_is_a_401():
    response = Client().get(f"{BASE}/orders")

    assert response.status_code == 401
