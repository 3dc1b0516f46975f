"""Creating and editing orders: the form, its line entry, live totals and the type-ahead pickers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.api_helpers import Shown
from erp.exceptions import DomainError
from erp.money import ZERO
from erp.ui import flash, is_htmx, toast
from inventory.models import Product
from sales import lifecycle, selectors, services
from sales.filters import CustomerFilter
from sales.forms import OrderForm, add_domain_errors
from sales.models import Customer, OrderLine, SalesChannel, SalesOrder
from sales.order_lines import (
    LineRow,
    default_channel,
    entry_from_post,
    lines_from_order,
    lines_from_post,
    merge_rows,
    money_text,
    parse_decimal,
    place_line_errors,
)
from sales.pricing import LineIn, OrderOut, TaxIn, compute
from sales.views.common import read, render_page, write

SAVE_OPS = ("save", "confirm")
REMOVE = re.compile(r"^remove-(\d+)$")
OPTIONS_LIMIT = 10


@dataclass(frozen=True)
class ProductOption(Shown[Product]):
    """A product as the line entry's type-ahead shows it: ``selectors.product_options`` (with what is
    available in the channel's warehouse) and its price as the price box takes it."""

    price_text: str


@dataclass
class Totals:
    """What the totals block shows: pricing.compute's result, or why it cannot be computed."""

    result: OrderOut | None
    currency: str
    prices_include_tax: bool
    tax_exempt: bool
    error: str = ""


def price(data: QueryDict, rows: list[LineRow], order: SalesOrder | None) -> Totals:
    """Live totals with sales.pricing.compute, nothing written. Sets each priceable row's total."""
    if order is not None:
        currency, included, exempt = order.currency, order.prices_include_tax, order.customer.tax_exempt
    else:
        channel_id, customer_id = str(data.get("channel", "")), str(data.get("customer", ""))
        channel = SalesChannel.objects.filter(pk=channel_id).first() if channel_id.isdigit() else None
        exempt = bool(
            customer_id.isdigit() and Customer.objects.filter(pk=customer_id, tax_exempt=True).exists()
        )
        currency = channel.currency if channel else "USD"
        included = channel.prices_include_tax if channel else False
    totals = Totals(None, currency, included, exempt)
    priced = [row for row in rows if row.product is not None and not row.errors]
    for row in rows:
        row.total = None
    try:
        result = compute(
            [
                LineIn(
                    row.qty,
                    row.price,
                    row.discount_percent,
                    [TaxIn(t.name, Decimal(str(t.rate))) for t in row.taxes()],
                )
                for row in priced
            ],
            currency=currency,
            prices_include_tax=included,
            order_discount=parse_decimal(data.get("order_discount")) or ZERO,
            shipping=parse_decimal(data.get("shipping_amount")) or ZERO,
            shipping_tax_rate=(parse_decimal(data.get("shipping_tax")) or ZERO) / 100,
            tax_exempt=exempt,
        )
    except (ValueError, ArithmeticError) as exc:
        totals.error = str(exc)
        return totals
    for row, out in zip(priced, result.lines, strict=True):
        row.total = out.total
    totals.result = result
    return totals


def _page(
    request: HttpRequest,
    form: OrderForm,
    rows: list[LineRow],
    order: SalesOrder | None,
    *,
    entry_error: str = "",
    status: int = 200,
) -> HttpResponse:
    data = request.POST if request.method == "POST" else _initial_data(form)
    context = {
        "form": form,
        "rows": rows,
        "order": order,
        "totals": price(data, rows, order),
        "entry_error": entry_error,
        "form_url": reverse("sales:order-edit", args=[order.pk]) if order else reverse("sales:order-new"),
        "customer_label": _customer_label(form),
    }
    # The cursor starts where typing starts: the customer, or the products once the customer is known.
    context["focus_entry"] = order is not None or bool(form["customer"].value())
    context["focus_customer"] = not context["focus_entry"]
    return render_page(request, "sales/order_form.html", context, fragments=(), status=status)


def _initial_data(form: OrderForm) -> QueryDict:
    data = QueryDict(mutable=True)
    for name in ("channel", "shipping_amount", "shipping_tax", "order_discount"):
        if name in form.fields:
            value = form[name].value()
            data[name] = str(value.pk if hasattr(value, "pk") else value or "")
    return data


def _customer_label(form: OrderForm) -> str:
    if "customer_query" not in form.fields:
        return ""
    return str(form["customer_query"].value() or "")


def _order_for_edit(pk: int) -> SalesOrder:
    lines = OrderLine.objects.select_related("product__stock_unit").prefetch_related("taxes")
    return get_object_or_404(
        SalesOrder.objects.select_related("channel__warehouse", "customer").prefetch_related(
            Prefetch("lines", queryset=lines)
        ),
        pk=pk,
    )


@write
def order_create(request: HttpRequest) -> HttpResponse:
    return _order_form(request, None)


@write
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_for_edit(pk)
    if order.status not in lifecycle.EDITABLE_STATUSES:
        flash(
            request,
            f"{order.number} is {order.get_status_display().lower()}: only drafts can be edited.",
            "error",
        )
        return redirect("sales:order", pk=pk)
    return _order_form(request, order)


def _order_form(request: HttpRequest, order: SalesOrder | None) -> HttpResponse:
    if request.method != "POST":
        initial: dict[str, Any] = {}
        if order is None:
            channels = list(selectors.active_channels())
            customer = request.GET.get("customer", "")
            channel = default_channel(channels, request.user)
            if channel is not None:
                initial["channel"] = channel.pk
            found = Customer.objects.filter(pk=customer).first() if customer.isdigit() else None
            if found is not None:
                initial.update(customer=found.pk, customer_query=f"{found.name} ({found.code})")
        form = OrderForm(order=order, initial=initial) if order is None else OrderForm(order=order)
        return _page(request, form, lines_from_order(order) if order else [], order)

    op = request.POST.get("op", "save")
    form = OrderForm(request.POST, order=order)
    rows = lines_from_post(request.POST)
    entry_error = ""
    merged: list[str] = []
    entry_typed = request.POST.get("entry-product") or request.POST.get("entry-query", "").strip()
    if op == "add" or (op in SAVE_OPS and entry_typed):
        entry, entry_error = entry_from_post(request.POST)
        if entry is not None:
            rows.append(entry)
    rows, merged = merge_rows(rows)  # the same SKU twice: one line, quantities added
    removed = REMOVE.match(op)
    if removed and int(removed.group(1)) < len(rows):
        rows.pop(int(removed.group(1)))
    for row in rows:
        row.check()

    if op not in SAVE_OPS:  # add, remove: the lines again, nothing saved
        if is_htmx(request):
            context = {"rows": rows, "totals": price(request.POST, rows, order), "order": order}
            context["form_url"] = request.path
            response = render(request, "sales/order_form.html#lines", context)
            if entry_error:
                return toast(response, entry_error, "error")
            if merged:
                toast(response, "; ".join(merged) + ".")
            # after the swap, so that the totals are computed from the new lines
            response["HX-Trigger-After-Swap"] = json.dumps({"linesChanged": True})
            return response
        for message in merged:
            flash(request, f"{message}.")
        return _page(request, form, rows, order, entry_error=entry_error)

    for message in merged:
        flash(request, f"{message}.")
    valid = form.is_valid()
    if not rows:
        form.add_error(None, "Add at least one line: find a product by SKU, barcode or name.")
        valid = False
    if entry_error:
        valid = False
    if valid and all(not row.errors for row in rows):
        try:
            specs = [row.spec() for row in rows]
            if order is None:
                order = services.order_create(
                    channel=form.cleaned_data["channel"],
                    customer=form.cleaned_data["customer"],
                    lines=specs,
                    user=request.user,
                    **form.service_kwargs(),
                )
            else:
                order = services.order_update(
                    order=order, lines=specs, user=request.user, **form.service_kwargs()
                )
        except DomainError as exc:
            if not place_line_errors(rows, exc):
                add_domain_errors(form, exc)
        else:
            return _saved(request, order, confirm=op == "confirm")
    return _page(request, form, rows, order, entry_error=entry_error)


def _saved(request: HttpRequest, order: SalesOrder, *, confirm: bool) -> HttpResponse:
    if confirm:
        try:
            services.order_confirm(order=order, user=request.user)
        except DomainError as exc:
            flash(request, f"{order.number} is saved as a draft but not confirmed: {exc.message}", "error")
            return redirect("sales:order", pk=order.pk)
        flash(request, f"{order.number} saved and confirmed.")
    else:
        flash(request, f"{order.number} saved as a draft.")
    return redirect("sales:order", pk=order.pk)


@write
@require_POST
def order_preview(request: HttpRequest) -> HttpResponse:
    """Live totals of the order form (htmx): the totals block and each line's total. Writes nothing."""
    order_id = request.POST.get("order", "")
    order = (
        SalesOrder.objects.select_related("customer").filter(pk=order_id).first()
        if order_id.isdigit()
        else None
    )
    rows = lines_from_post(request.POST)
    for row in rows:
        row.check()
    context = {"rows": rows, "totals": price(request.POST, rows, order), "preview": True}
    return render(request, "sales/order_form.html#totals", context)


@read
def product_options(request: HttpRequest) -> HttpResponse:
    """Products matching what is typed (SKU prefix, barcode, name), best first, with what is
    available in the channel's warehouse: the options of the line entry's type-ahead."""
    query = request.GET.get("q", "").strip()
    channel_id = request.GET.get("channel", "")
    channel = (
        SalesChannel.objects.select_related("warehouse").filter(pk=channel_id).first()
        if channel_id.isdigit()
        else None
    )
    warehouse_id = channel.warehouse_id if channel else None
    products = [
        ProductOption(obj=product, price_text=money_text(product.sale_price))
        for product in selectors.product_options(query, warehouse_id=warehouse_id, limit=OPTIONS_LIMIT)
    ]
    context = {"products": products, "query": query, "warehouse": channel.warehouse if channel else None}
    return render(request, "sales/_product_options.html", context)


@read
def customer_options(request: HttpRequest) -> HttpResponse:
    """Active customers matching the name, code or email typed: the customer picker's options."""
    query = request.GET.get("q", "").strip()
    customers: list[Customer] = []
    if query:
        customers = list(
            CustomerFilter({"q": query}, queryset=selectors.active_customers()).qs.order_by("name")[
                :OPTIONS_LIMIT
            ]
        )
    return render(request, "sales/_customer_options.html", {"customers": customers, "query": query})
