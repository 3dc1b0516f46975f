"""Every kind of message a person reads writes its numbers through erp.formatting: a page's table
cell (the template filters), a toast, a confirmation, a service's error, a search result, a CSV
export cell and a printed document, each with a large (12,345,678.9), a small (0.0001), a negative
and a zero-decimal-currency (JPY) value. None of them has an exponent; amounts carry their currency
and minor unit, quantities their unit. (The quantities of 10 and 20 below are the ones
``Decimal.normalize()`` used to write as ``1E+1`` and ``2E+1``.)"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from django.template import Context, Template
from django.test import Client, override_settings

from erp import search as global_search
from erp.exceptions import ValidationFailed
from inventory import services as stock
from procurement import services as purchasing
from sales.models import Invoice
from sales.services import (
    ShipLine,
    invoice_create,
    invoice_issue,
    order_confirm,
    payment_record,
    shipment_create,
)
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, unit, warehouse
from tests.procurement.factories import SupplierFactory
from tests.procurement.test_views import bill_for, make_world, received_order
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "order"}
EXPONENT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE][+-]\d+")  # 5.15E+3, 1E+1, 1e-05


def no_exponent(text: str) -> str:
    found = EXPONENT.search(text)
    assert found is None, f"an exponent: …{text[max(0, found.start() - 60) : found.end() + 60]}…"
    return text


def client_for(*roles: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=f"u-{'-'.join(roles).lower()}", roles=list(roles)))
    return client


def toast_of(response) -> str:
    return str(json.loads(response["HX-Trigger"])["toast"]["message"])


@pytest.fixture
def yen_order():
    """A JPY order of 10 katanas at ¥1,234,567.89: ¥12,345,678.9, ¥12,345,679 to the yen."""
    channel = ChannelFactory(code="jp", name="Tokyo store", currency="JPY", invoice_policy="ordered")
    customer = CustomerFactory(name="Kobayashi", currency="JPY")
    katana = stocked_product(20, price="1234567.89", sku="KATANA")
    return order_confirm(order=order_for((katana, 10), channel=channel, customer=customer))


@pytest.fixture
def yen_invoice(yen_order) -> Invoice:
    return invoice_issue(invoice=invoice_create(order=yen_order))


@pytest.fixture
def providers() -> Iterator[None]:
    """The sales and procurement search providers, registered afresh for the test."""
    saved = dict(global_search._providers)
    import procurement.search
    import sales.search

    importlib.reload(sales.search)
    importlib.reload(procurement.search)
    yield
    global_search._providers.clear()
    global_search._providers.update(saved)


# --- the filters themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "value", "shown"),
    [
        ("{{ v|money:'USD' }}", D("12345678.9"), "$12,345,678.90"),
        ("{{ v|money:'USD' }}", D("0.0001"), "$0.0001"),
        ("{{ v|money:'EUR' }}", D("-5.15E+3"), "-€5,150.00"),
        ("{{ v|money:'JPY' }}", D("1.2345679E+7"), "¥12,345,679"),
        ("{{ v|base_total }}", D("12345678.9876"), "$12,345,678.99"),
        ("{{ v|base_money }}", D("0.0001"), "$0.0001"),
        ("{{ v|quantity:'kg' }}", D("12345678.9"), "12,345,678.9 kg"),
        ("{{ v|quantity:'pcs' }}", D("1E+1"), "10 pcs"),
        ("{{ v|quantity:'kg' }}", D("-0.0001"), "-0.0001 kg"),
        ("{{ v|number }}", D("-1.23456789E+7"), "-12,345,678.9"),
        ("{{ v|percent }}", D("12.50"), "12.5%"),
        ("{{ v|plain }}", D("5.15E+3"), "5150"),
        (
            "{{ v|quantities_by_unit }}",
            [(D("1E+1"), "pcs"), (D("2.5"), "kg"), (D("2"), "pcs")],
            "12 pcs + 2.5 kg",
        ),
        ("{{ v|money:'USD' }}", "n/a", "n/a"),  # not a number: shown as it is, the page still renders
    ],
)
def test_a_table_cell_through_the_filters(template, value, shown):
    assert no_exponent(Template(template).render(Context({"v": value}))) == shown


# --- pages ---------------------------------------------------------------------------------------


def test_an_order_page_and_the_list_show_yen_to_the_yen_with_a_symbol_and_grouping(yen_order):
    seller = client_for("Sales")

    detail = no_exponent(seller.get(f"/sales/orders/{yen_order.pk}/").content.decode())
    orders = no_exponent(seller.get("/sales/orders/").content.decode())

    assert '<td class="num">10 pcs</td>' in detail  # the ordered quantity, with its unit
    assert '<td class="num">¥1,234,567.89</td>' in detail  # the unit price keeps what it carries
    assert '<td class="num"><strong>¥12,345,679</strong></td>' in detail  # the line total, to the yen
    assert '<tr class="grand"><th>Total</th><td class="num">¥12,345,679</td></tr>' in detail
    assert '<td class="num">¥12,345,679</td>' in orders
    assert "12345679" not in detail + orders


def test_a_small_unit_price_keeps_its_digits_and_the_line_total_is_to_the_cent():
    order = order_for((stocked_product(5, price="0.0001", sku="WASHER"), 3))

    detail = no_exponent(client_for("Sales").get(f"/sales/orders/{order.pk}/").content.decode())

    assert '<td class="num">$0.0001</td>' in detail
    assert '<td class="num"><strong>$0.00</strong></td>' in detail


def test_a_negative_stock_level_reads_with_a_minus_sign_grouping_and_no_exponent():
    wh = warehouse("NEG", allow_negative=True)
    flour = ProductFactory(sku="FLOUR", stock_unit=unit("kg"))
    stock.stock_issue(product=flour, location=bin_of(wh), quantity="12345678.9")

    levels = no_exponent(client_for("Warehouse").get("/inventory/levels/?q=FLOUR").content.decode())

    assert ">-12,345,678.9</td>" in levels


# --- toasts and confirmations ---------------------------------------------------------------------


def test_the_payment_toast_says_the_amount_in_yen(yen_invoice):
    seller, prefix = client_for("Sales"), f"pay{yen_invoice.pk}"

    response = seller.post(
        f"/sales/invoices/{yen_invoice.pk}/pay/",
        {f"{prefix}-amount": "12345679", f"{prefix}-paid_at": "2030-01-02", f"{prefix}-method": "card"},
        **HTMX,
    )

    assert no_exponent(toast_of(response)) == (
        f"Payment of ¥12,345,679 on {yen_invoice.number} recorded; paid in full."
    )


def test_a_small_payment_toast_and_what_is_left_keep_their_digits():
    order = order_confirm(order=order_for((stocked_product(5, price="10.00"), 1)))
    channel = order.channel
    channel.invoice_policy = "ordered"
    channel.save()
    invoice = invoice_issue(invoice=invoice_create(order=order))
    prefix = f"pay{invoice.pk}"

    response = client_for("Sales").post(
        f"/sales/invoices/{invoice.pk}/pay/",
        {f"{prefix}-amount": "0.0001", f"{prefix}-paid_at": "2030-01-02"},
        **HTMX,
    )

    assert no_exponent(toast_of(response)) == (
        f"Payment of $0.0001 on {invoice.number} recorded; $9.9999 still due."
    )


@override_settings(PURCHASE_APPROVAL_THRESHOLDS={"EUR": D("5000")})
def test_the_confirmations_name_the_amount_with_its_currency(yen_order):
    draft = invoice_create(order=yen_order)
    supplier = SupplierFactory(currency="EUR")
    po = purchasing.po_create(
        supplier=supplier,
        warehouse=warehouse("WH1"),
        lines=[purchasing.POLineSpec(ProductFactory(sku="BOLT"), "1000", unit_cost="10.016")],
    )

    order_page = client_for("Sales").get(f"/sales/orders/{yen_order.pk}/").content.decode()
    po_page = client_for("Purchasing manager").get(f"/procurement/orders/{po.pk}/").content.decode()

    assert draft.status == "draft"
    assert 'hx-confirm="Issue this invoice of ¥12,345,679? It gets a number and a due date."' in order_page
    assert "the total of €10,016.00 is above the approval threshold of €5,000.00" in po_page
    assert f'hx-confirm="Approve {po.number} (€10,016.00)?"' in po_page
    no_exponent(order_page + po_page)


# --- services' errors ----------------------------------------------------------------------------


def test_paying_more_than_is_due_names_both_amounts_in_yen(yen_invoice):
    with pytest.raises(ValidationFailed) as refused:
        payment_record(invoice=yen_invoice, amount="12345680")

    assert no_exponent(refused.value.message) == (
        f"¥12,345,680 is more than the ¥12,345,679 still due on {yen_invoice.number}."
    )
    assert refused.value.field_errors == {"amount": ["At most ¥12,345,679."]}


def test_shipping_more_than_is_open_says_20_and_10_not_2e1_and_1e1(yen_order):
    line = yen_order.lines.get()

    with pytest.raises(ValidationFailed) as refused:
        shipment_create(order=yen_order, lines=[ShipLine(line, 20)])

    assert no_exponent(refused.value.message).endswith("KATANA: 20 to ship but only 10 is open.")


def test_a_negative_supplier_payment_is_refused_with_both_amounts():
    bill = bill_for(received_order(make_world()))  # 2 boxes at $60.00

    with pytest.raises(ValidationFailed) as refused:
        purchasing.supplier_payment_record(bill=bill, amount="-5")

    assert no_exponent(refused.value.message) == "A payment is between 0 and $120.00, not -$5.00."


def test_a_bill_above_the_ordered_price_says_both_prices_in_the_orders_currency():
    po = received_order(make_world())

    bill = bill_for(po, cost="12345678.9")

    assert any(
        no_exponent(issue).endswith("billed at $12,345,678.90 per unit, ordered at $60.00.")
        for issue in bill.match_issues
    )


# --- search results ------------------------------------------------------------------------------


def test_search_results_say_the_totals_with_their_currency(yen_order, providers):
    supplier = SupplierFactory(name="Zeiss Optik", currency="EUR")
    po = purchasing.po_create(
        supplier=supplier,
        warehouse=warehouse("WH1"),
        lines=[purchasing.POLineSpec(ProductFactory(sku="LENS"), "3", unit_cost="0.0001")],
    )

    sales_results = {
        p.key: r for p, r in global_search.search(yen_order.number, UserFactory(roles=["Sales"]))
    }
    buying = {p.key: r for p, r in global_search.search(po.number, UserFactory(roles=["Purchasing"]))}

    (order_hit,) = sales_results["sales.orders"]
    (po_hit,) = buying["procurement.orders"]
    assert "¥12,345,679" in no_exponent(order_hit.subtitle)
    assert no_exponent(po_hit.subtitle) == "Zeiss Optik · Draft · €0.00"


# --- CSV exports: machine-readable, no exponent, no grouping, no symbol ---------------------------


def csv_of(response) -> list[str]:
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


def test_csv_exports_write_plain_numbers_that_the_import_reads_back():
    ProductFactory(sku="SHIP", sale_price=D("12345678.9"), currency="USD")
    ProductFactory(sku="SPRING", sale_price=D("0.0001"), currency="USD")
    ProductFactory(sku="NIHONTO", sale_price=D("1.2345678E+7"), currency="JPY")
    wh = warehouse("NEG", allow_negative=True)
    flour = ProductFactory(sku="FLOUR", stock_unit=unit("kg"))
    stock.stock_receive(product=flour, location=bin_of(wh), quantity="10", unit_cost="0.0001")
    stock.stock_issue(product=flour, location=bin_of(wh), quantity="12345688.9")
    staff = client_for("Warehouse")

    products = csv_of(staff.get("/inventory/io/export/products.csv"))
    levels = csv_of(staff.get("/inventory/io/export/stock-levels.csv"))

    row = {line.split(",")[0]: line.split(",") for line in products[1:]}
    assert (row["SHIP"][6], row["SPRING"][6], row["NIHONTO"][6]) == ("12345678.90", "0.0001", "12345678")
    (flour_level,) = [line for line in levels[1:] if line.startswith("FLOUR,")]
    assert flour_level.split(",")[4:] == ["-12345678.9", "0", "0.0001"]
    no_exponent("\n".join(products + levels))


# --- printed documents ---------------------------------------------------------------------------


def test_the_printed_invoice_says_yen_to_the_yen(yen_invoice):
    printed = no_exponent(
        client_for("Sales").get(f"/sales/invoices/{yen_invoice.pk}/print/").content.decode()
    )

    assert '<td class="num">¥1,234,567.89</td>' in printed  # the unit price
    assert "<th>Total JPY</th><td>¥12,345,679</td>" in printed
    assert "Please pay ¥12,345,679 by" in printed


def test_the_printed_purchase_order_has_small_prices_large_quantities_and_its_currency():
    supplier = SupplierFactory(name="Mühle GmbH", currency="EUR")
    flour = ProductFactory(sku="FLOUR", stock_unit=unit("kg"))
    po = purchasing.po_create(
        supplier=supplier,
        warehouse=warehouse("WH1"),
        lines=[purchasing.POLineSpec(flour, "12345678.9", unit_cost="0.0001")],
    )

    printed = no_exponent(
        client_for("Purchasing").get(f"/procurement/orders/{po.pk}/print/").content.decode()
    )

    assert '<td class="num">12,345,678.9 kg</td>' in printed
    assert '<td class="num">€0.0001</td>' in printed
    assert '<tr class="grand"><td>Total EUR</td><td class="num">€1,234.57</td></tr>' in printed
