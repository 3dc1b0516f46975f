"""Creating and editing orders: line entry, live totals (no writes), type-ahead pickers, save."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory import services as inventory_services
from sales.models import OrderStatus, SalesOrder
from sales.services import LineSpec, TaxSpec, order_confirm, order_create
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory
from tests.sales.factories import VAT, ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def seller() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam", roles=["Sales"]))
    return client


@pytest.fixture
def setup():
    channel = ChannelFactory()
    customer = CustomerFactory(name="Acme")
    tee = stocked_product(10, sku="TEE-RED-M", name="T-shirt red M", price="20.00")
    mug = stocked_product(4, sku="MUG-01", name="Mug", price="8.50")
    inventory_services.product_update(product=mug, barcodes=["4006381333931"])
    return {"channel": channel, "customer": customer, "tee": tee, "mug": mug}


def header(setup, **extra) -> dict[str, str]:
    return {
        "channel": str(setup["channel"].pk),
        "customer": str(setup["customer"].pk),
        "customer_query": "Acme",
        "shipping_amount": "5",
        "shipping_tax": "20",
        "order_discount": "",
        "notes": "leave at the door",
        "tags": "rush, wholesale",
        **extra,
    }


def line(i: int, product, quantity="1", price="", discount="", tax="20") -> dict[str, str]:
    return {
        f"lines-{i}-product": str(product.pk),
        f"lines-{i}-quantity": quantity,
        f"lines-{i}-unit_price": price,
        f"lines-{i}-discount": discount,
        f"lines-{i}-tax": tax,
    }


def totals_of(html: str) -> dict[str, str]:
    """The totals block as {label: amount} (partials render without a test context to inspect)."""
    rows = re.findall(
        r'<tr(?: class="[^"]*")?><th>([^<]+)(?:<span[^>]*>[^<]*</span>)?\s*</th><td[^>]*>([^<]+)</td>', html
    )
    return {label.strip(): value.strip() for label, value in rows if not label.startswith("Discounts")}


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


# --- the line entry -------------------------------------------------------------------------


def test_new_order_form_preselects_the_channel_and_the_customer_from_the_link(seller, setup):
    response = seller.get(f"/sales/orders/new/?customer={setup['customer'].pk}")
    form = response.context["form"]
    assert form.initial["channel"] == setup["channel"].pk
    assert form.initial["customer"] == setup["customer"].pk
    html = response.content.decode()
    assert re.search(r'id="entry-query"[^>]*autofocus', html)  # the customer is known: products next
    assert not re.search(r'id="id_customer_query"[^>]*autofocus', html)
    blank = seller.get("/sales/orders/new/").content.decode()
    assert re.search(r'id="id_customer_query"[^>]*autofocus', blank)


def test_enter_on_quantity_adds_the_picked_product_as_a_line(seller, setup):
    # when: the entry row is posted with op=add (what Enter on the quantity does)
    response = seller.post(
        "/sales/orders/new/",
        {
            **header(setup),
            "op": "add",
            "entry-product": str(setup["tee"].pk),
            "entry-quantity": "3",
            "entry-tax": "20",
        },
        HTTP_HX_TARGET="lines",
        **HTMX,
    )

    # then: the lines come back (only them), priced, and the totals are asked to refresh
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="lines">')
    assert f'name="lines-0-product" value="{setup["tee"].pk}"' in body
    assert 'name="lines-0-quantity" value="3"' in body
    assert 'name="lines-0-unit_price" value="20.00"' in body  # the list price
    assert "72.00" in body  # 3 x 20 + 20 % tax
    assert json.loads(response["HX-Trigger-After-Swap"]) == {"linesChanged": True}
    assert not SalesOrder.objects.exists()


def test_a_scanned_barcode_or_typed_sku_is_found_without_picking(seller, setup):
    posted = {**header(setup), **line(0, setup["tee"], "2"), "op": "add", "entry-query": "4006381333931"}
    response = seller.post("/sales/orders/new/", posted, **HTMX)
    body = response.content.decode()
    assert f'name="lines-1-product" value="{setup["mug"].pk}"' in body
    assert 'name="lines-1-quantity" value="1"' in body

    by_sku = seller.post(
        "/sales/orders/new/", {**header(setup), "op": "add", "entry-query": "tee-red-m"}, **HTMX
    )
    assert f'value="{setup["tee"].pk}"' in by_sku.content.decode()


def test_an_unknown_code_is_an_error_toast_and_the_lines_stay(seller, setup):
    posted = {**header(setup), **line(0, setup["tee"]), "op": "add", "entry-query": "NOPE"}
    response = seller.post("/sales/orders/new/", posted, **HTMX)
    assert trigger(response)["toast"] == {
        "message": "No product with SKU or barcode “NOPE”.",
        "level": "error",
    }
    assert "lines-0-product" in response.content.decode()
    assert "lines-1-product" not in response.content.decode()


def test_remove_a_line(seller, setup):
    posted = {**header(setup), **line(0, setup["tee"]), **line(3, setup["mug"]), "op": "remove-0"}
    body = seller.post("/sales/orders/new/", posted, **HTMX).content.decode()
    assert f'name="lines-0-product" value="{setup["mug"].pk}"' in body
    assert "lines-1-product" not in body


def test_without_javascript_add_renders_the_whole_form_again(seller, setup):
    posted = {**header(setup), "op": "add", "entry-query": "MUG-01", "entry-quantity": "2"}
    response = seller.post("/sales/orders/new/", posted)
    assert b"<html" in response.content
    assert [r.product for r in response.context["rows"]] == [setup["mug"]]


# --- live totals -------------------------------------------------------------------------------


def test_preview_computes_totals_and_line_totals_without_writing(seller, setup):
    # given: 2 tees at 20 with 10 % off, 1 mug at 8.50, 20 % tax, shipping 5 (+20 %), 4 off the order
    posted = {
        **header(setup, order_discount="4"),
        **line(0, setup["tee"], "2", "20", "10"),
        **line(1, setup["mug"], "1", "8.50"),
    }

    # when
    with CaptureQueriesContext(connection) as queries:
        response = seller.post("/sales/orders/preview/", posted, HTTP_HX_TARGET="totals", **HTMX)

    # then: 36 + 8.50 - 4 = 40.50 net; tax 8.10; shipping 5 + 1; total 54.60
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="totals"')
    assert totals_of(body) == {"Subtotal": "$40.50", "Shipping": "$5.00", "Tax": "$9.10", "Total": "$54.60"}
    assert '<span id="line-total-0" hx-swap-oob="true">' in body
    assert '<span id="line-total-1" hx-swap-oob="true">' in body
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert not SalesOrder.objects.exists()


def test_preview_shows_line_errors_and_an_impossible_discount(seller, setup):
    posted = {
        **header(setup, order_discount="1000"),
        **line(0, setup["tee"], "abc"),
        **line(1, setup["mug"], "1"),
    }
    body = seller.post("/sales/orders/preview/", posted, **HTMX).content.decode()
    assert "Quantity: a positive number." in body
    assert "exceeds the lines" in body


def test_preview_of_a_tax_exempt_customer_has_no_tax(seller, setup):
    exempt = CustomerFactory(tax_exempt=True)
    posted = {**header(setup, customer=str(exempt.pk)), **line(0, setup["tee"], "1")}
    response = seller.post("/sales/orders/preview/", posted, **HTMX)
    assert totals_of(response.content.decode())["Tax"] == "$0.00"
    assert b"tax exempt" in response.content


# --- saving -------------------------------------------------------------------------------


def test_save_as_draft_creates_the_order_with_its_lines(seller, setup):
    # when
    posted = {
        **header(setup, external_reference="#1001"),
        **line(0, setup["tee"], "2", "18", "10"),
        **line(1, setup["mug"], "1"),
        "op": "save",
    }
    response = seller.post("/sales/orders/new/", posted)

    # then
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sales/orders/{order.pk}/"
    assert order.status == OrderStatus.DRAFT
    assert (order.customer, order.channel) == (setup["customer"], setup["channel"])
    assert (order.external_reference, order.notes, order.tags) == (
        "#1001",
        "leave at the door",
        ["rush", "wholesale"],
    )
    lines = list(order.lines.order_by("position"))
    assert [(ln.product, ln.quantity, ln.unit_price, ln.discount_percent) for ln in lines] == [
        (setup["tee"], D(2), D(18), D(10)),
        (setup["mug"], D(1), D("8.5"), D(0)),
    ]
    assert [t.rate for t in lines[0].taxes.all()] == [D("0.2")]
    assert order.shipping_amount == D(5)
    assert order.shipping_tax_rate == D("0.2")
    assert order.total == D("38.88") + D("10.20") + D("6.00")  # 2 x 18 - 10 % + 20 %; 8.50 + 20 %; 5 + 20 %


def test_save_and_confirm_includes_the_typed_entry_line(seller, setup):
    posted = {**header(setup), "op": "confirm", "entry-product": str(setup["tee"].pk), "entry-quantity": "4"}
    response = seller.post("/sales/orders/new/", posted, follow=True)
    order = SalesOrder.objects.get()
    assert order.status == OrderStatus.CONFIRMED
    assert order.lines.get().quantity == D(4)
    assert f"{order.number} saved and confirmed." in response.content.decode()


def test_service_errors_show_next_to_the_line_and_nothing_is_saved(seller, setup):
    posted = {**header(setup), **line(0, setup["tee"], "1.5"), "op": "save"}
    response = seller.post("/sales/orders/new/", posted)
    assert response.status_code == 200
    assert not SalesOrder.objects.exists()
    assert response.context["rows"][0].errors == ["TEE-RED-M is sold in whole pcs."]
    assert "sold in whole pcs" in response.content.decode()


def test_a_customer_must_be_picked_and_a_line_given(seller, setup):
    response = seller.post(
        "/sales/orders/new/", {**header(setup, customer="", customer_query="nobody"), "op": "save"}
    )
    form = response.context["form"]
    assert form.errors["customer_query"] == ["Pick a customer from the list."]
    assert "Add at least one line" in form.non_field_errors()[0]
    assert not SalesOrder.objects.exists()


def test_a_customer_typed_by_its_exact_code_is_enough(seller, setup):
    posted = {
        **header(setup, customer="", customer_query=setup["customer"].code),
        **line(0, setup["tee"]),
        "op": "save",
    }
    assert seller.post("/sales/orders/new/", posted).status_code == 302
    assert SalesOrder.objects.get().customer == setup["customer"]


def test_edit_a_draft_keeps_its_lines_and_saves_changes(seller, setup):
    # given
    order = order_for((setup["tee"], 2), customer=setup["customer"], channel=setup["channel"])
    page = seller.get(f"/sales/orders/{order.pk}/edit/")
    assert [r.quantity for r in page.context["rows"]] == ["2"]
    assert "channel" not in page.context["form"].fields

    # when
    posted = {
        "order": str(order.pk),
        "shipping_amount": "0",
        "tags": "vip",
        **line(0, setup["tee"], "5", "20", "", ""),
        **line(1, setup["mug"], "1", "8.50", "", ""),
        "op": "save",
    }
    response = seller.post(f"/sales/orders/{order.pk}/edit/", posted)

    # then
    order.refresh_from_db()
    assert response.status_code == 302
    assert [ln.quantity for ln in order.lines.order_by("position")] == [D(5), D(1)]
    assert order.tags == ["vip"]
    assert order.total == D("108.50")


def test_edit_keeps_several_taxes_of_a_line_as_they_are(seller, setup):
    order = order_create(
        channel=setup["channel"],
        customer=setup["customer"],
        lines=[LineSpec(setup["tee"], 1, taxes=[TaxSpec("State", "0.06"), TaxSpec("County", "0.015")])],
    )
    page = seller.get(f"/sales/orders/{order.pk}/edit/").content.decode()
    assert "State 6% + County 1.5%" in page
    posted = {"order": str(order.pk), "op": "save", **line(0, setup["tee"], "2")}
    posted["lines-0-taxes"] = (
        page.split('name="lines-0-taxes" value="')[1].split('"')[0].replace("&quot;", '"')
    )
    seller.post(f"/sales/orders/{order.pk}/edit/", posted)
    assert sorted(order.lines.get().taxes.values_list("name", flat=True)) == ["County", "State"]


def test_only_drafts_can_be_edited(seller, setup):
    order = order_confirm(order=order_for((setup["tee"], 1)))
    response = seller.get(f"/sales/orders/{order.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/sales/orders/{order.pk}/", 302)]
    assert "only drafts can be edited" in response.content.decode()


# --- the type-ahead --------------------------------------------------------------------------


def options(client, query: str, **params) -> list[str]:
    response = client.get("/sales/products/options/", {"q": query, **params})
    return [chunk.split('"')[0] for chunk in response.content.decode().split('data-sku="')[1:]]


def test_product_typeahead_by_sku_barcode_and_name(seller, setup):
    ProductFactory(sku="TEE-OLD", name="Old tee", is_active=False)
    ProductFactory(sku="XTEE", name="Tee-shirt plain")
    assert options(seller, "tee-red") == ["TEE-RED-M"]
    assert options(seller, "4006381333931") == ["MUG-01"]
    assert options(seller, "mug") == ["MUG-01"]
    assert options(seller, "tee") == ["TEE-RED-M", "XTEE"]  # SKU prefix first, then name; never archived
    assert options(seller, "") == []


def test_product_typeahead_ranks_the_exact_sku_first_and_says_what_is_available(seller, setup):
    ProductFactory(sku="MUG-01-BIG", name="Big mug")
    ProductFactory(sku="AMUG", name="A mug")
    response = seller.get("/sales/products/options/", {"q": "MUG-01", "channel": setup["channel"].pk})
    assert options(seller, "MUG-01") == ["MUG-01", "MUG-01-BIG"]
    assert "4 pcs available in WH1" in response.content.decode()
    assert 'data-price="8.50"' in response.content.decode()
    assert "No active product matches" in seller.get("/sales/products/options/?q=zzz").content.decode()


def test_customer_picker_by_name_code_or_email(seller, setup):
    CustomerFactory(name="Archived Acme", is_active=False)
    by_name = seller.get("/sales/customers/options/?q=acm").content.decode()
    by_email = seller.get(f"/sales/customers/options/?q={setup['customer'].email}").content.decode()
    assert f'data-value="{setup["customer"].pk}"' in by_name
    assert "Archived" not in by_name
    assert f'data-value="{setup["customer"].pk}"' in by_email


def test_the_preview_and_the_saved_order_agree(seller, setup):
    # given: the same order as the form's preview and as the services save it
    posted = {
        **header(setup, shipping_amount="4.99", shipping_tax="20", order_discount="3.33"),
        **line(0, setup["tee"], "3", "19.99", "7.5", "20"),
        **line(1, setup["mug"], "7", "", "", "20"),
    }
    preview = totals_of(seller.post("/sales/orders/preview/", posted, **HTMX).content.decode())
    saved = order_create(
        channel=setup["channel"],
        customer=setup["customer"],
        lines=[
            LineSpec(setup["tee"], 3, "19.99", discount_percent="7.5", taxes=VAT),
            LineSpec(setup["mug"], 7, taxes=VAT),
        ],
        shipping_amount="4.99",
        shipping_tax_rate="0.2",
        order_discount="3.33",
    )

    # then
    assert (preview["Subtotal"], preview["Tax"], preview["Total"]) == (
        f"${saved.subtotal:,.2f}",
        f"${saved.tax_total:,.2f}",
        f"${saved.total:,.2f}",
    )
