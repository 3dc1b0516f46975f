"""Create and edit draft purchase orders, keyboard first.

The lines live in the form itself (``line-N-*`` inputs): each change posts the
form and gets the lines back, re-priced. Type a SKU, barcode or name and press
Enter (a scanner does the same): the line is added and its quantity field takes
the focus; type the quantity, Enter, and the focus is back on the product field.
A line's unit, factor and price default from the supplier item (the price break
reached at the typed quantity) until the person changes them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from erp import formatting
from erp.exceptions import DomainError
from erp.money import ZERO
from erp.ui import flash, int_or_none, is_htmx, toast
from inventory.models import Product
from inventory.selectors import sole_warehouse_id, stocked_product_find
from procurement import selectors, services
from procurement.forms import PurchaseOrderForm
from procurement.models import PurchaseOrder, PurchaseOrderStatus, Supplier
from procurement.views.common import price_text, read, render_page, write
from procurement.views.order_lines import (
    SUGGESTIONS,
    Added,
    DraftLine,
    add_line,
    build_lines,
    line_errors_from,
    raw_from_order,
    raw_lines,
    totals,
)


def _context(
    request: HttpRequest,
    form: PurchaseOrderForm,
    lines: list[DraftLine],
    *,
    po: PurchaseOrder | None,
    supplier: Supplier | None,
    added: Added | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "form": form,
        "po": po,
        "supplier": supplier,
        "currency": po.currency if po else (supplier.currency if supplier else ""),
        "lines": lines,
        "totals": totals(lines),
        "added": added,
        "errors": errors or [],
        "action": request.path,
        "lookup_url": reverse("procurement:order-lookup"),
    }


def _supplier_of(form_data: QueryDict, po: PurchaseOrder | None) -> Supplier | None:
    if po is not None:
        return po.supplier
    pk = int_or_none(form_data.get("supplier"))
    return Supplier.objects.filter(pk=pk).first() if pk else None


def _order_form(request: HttpRequest, po: PurchaseOrder | None) -> HttpResponse:
    fixed = po.supplier if po else None
    if request.method != "POST":
        initial: dict[str, Any] = {}
        raws: list[dict[str, str]] = []
        if po is not None:
            initial = {"warehouse": po.warehouse_id, "expected_date": po.expected_date, "notes": po.notes}
            raws = raw_from_order(po)
        else:
            initial = {k: request.GET[k] for k in ("supplier", "warehouse") if request.GET.get(k)}
            only = sole_warehouse_id(active_only=True)
            if "warehouse" not in initial and only is not None:
                initial["warehouse"] = only  # the only one
        form = PurchaseOrderForm(initial=initial, fixed_supplier=fixed)
        supplier = fixed or (
            Supplier.objects.filter(pk=int_or_none(initial.get("supplier")) or 0).first()
            if initial.get("supplier")
            else None
        )
        currency = po.currency if po else (supplier.currency if supplier else "USD")
        lines = build_lines(raws, supplier=supplier, currency=currency)
        context = _context(request, form, lines, po=po, supplier=supplier)
        return render_page(request, "procurement/po_form.html", context, fragments=())

    data = request.POST
    action = data.get("action") or ("add" if data.get("code", "").strip() else "recalc")
    form = PurchaseOrderForm(data, fixed_supplier=fixed)
    supplier = _supplier_of(data, po)
    currency = po.currency if po else (supplier.currency if supplier else "USD")
    raws = raw_lines(data)
    added: Added | None = None
    if action.startswith("remove:"):
        raws = [r for r in raws if r["_index"] != action.removeprefix("remove:")]
    elif action.startswith("pick:"):
        added = add_line(raws, "", supplier, product_id=int_or_none(action.removeprefix("pick:")))
    elif action == "add":
        added = add_line(raws, data.get("code", ""), supplier)
    lines = build_lines(raws, supplier=supplier, currency=currency)

    if action == "save":
        return _save(request, form, lines, po=po, supplier=supplier)
    context = _context(request, form, lines, po=po, supplier=supplier, added=added)
    if is_htmx(request):
        return render_page(request, "procurement/po_form.html#lines", context, fragments=())
    return render_page(request, "procurement/po_form.html", context, fragments=())


def _save(
    request: HttpRequest,
    form: PurchaseOrderForm,
    lines: list[DraftLine],
    *,
    po: PurchaseOrder | None,
    supplier: Supplier | None,
) -> HttpResponse:
    errors: list[str] = []
    if not lines:
        errors.append("Add at least one line: type a SKU, barcode or name above and press Enter.")
    elif any(line.errors for line in lines):
        errors.append("Some lines need attention (marked below).")
    if form.is_valid() and not errors:
        specs = [
            services.POLineSpec(
                product=line.product,
                quantity=line.quantity_text,
                unit_cost=line.cost_text,
                purchase_unit=line.unit,
                factor=line.factor_text,
                tax_rate=line.tax_rate or ZERO,
                description=line.description,
            )
            for line in lines
        ]
        data = form.cleaned_data
        try:
            if po is None:
                assert supplier is not None
                saved = services.po_create(
                    supplier=supplier,
                    warehouse=data["warehouse"],
                    lines=specs,
                    expected_date=data["expected_date"],
                    notes=data["notes"],
                    user=request.user,
                )
                message = (
                    f"{saved.number} is saved as a draft: {formatting.money(saved.total, saved.currency)}."
                )
            else:
                saved = services.po_update(
                    po=po,
                    lines=specs,
                    warehouse=data["warehouse"],
                    expected_date=data["expected_date"] or po.expected_date,
                    notes=data["notes"],
                    user=request.user,
                )
                message = f"{saved.number} is saved: {formatting.money(saved.total, saved.currency)}."
        except DomainError as exc:
            rest = line_errors_from(exc, lines)
            for text in rest:
                form.add_error(None, text)
            if not rest:
                errors.append("Some lines need attention (marked below).")
        else:
            if services.needs_approval(saved) and saved.approved_at is None:
                message += " It needs a purchasing manager's approval before it is sent."
            flash(request, message)
            url = reverse("procurement:order", args=[saved.pk])
            return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
    context = _context(request, form, lines, po=po, supplier=supplier, errors=errors)
    if is_htmx(request):
        response = render_page(request, "procurement/po_form.html#form", context, fragments=())
        response["HX-Retarget"] = "#po-form"
        response["HX-Reswap"] = "outerHTML"
        return toast(response, "Nothing was saved: see the marked fields.", "error")
    return render_page(request, "procurement/po_form.html", context, fragments=())


@write
def order_create(request: HttpRequest) -> HttpResponse:
    return _order_form(request, None)


@write
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    po = get_object_or_404(
        PurchaseOrder.objects.select_related("supplier", "warehouse").prefetch_related("lines"), pk=pk
    )
    if po.status != PurchaseOrderStatus.DRAFT:
        flash(
            request, f"{po.number} is {po.get_status_display().lower()}: only drafts can be edited.", "error"
        )
        return redirect("procurement:order", pk=pk)
    return _order_form(request, po)


@read
def order_lookup(request: HttpRequest) -> HttpResponse:
    """Type-ahead for the product field: SKU, barcode or name, with this supplier's price."""
    code = request.GET.get("code", "").strip()
    supplier = Supplier.objects.filter(pk=int_or_none(request.GET.get("supplier")) or 0).first()
    products: list[Product] = []
    if len(code) >= 2:
        products = list(stocked_product_find(code)[:SUGGESTIONS])
    items = (
        selectors.supplier_items_by_product(supplier, [p.pk for p in products])
        if supplier and products
        else {}
    )
    rows = [
        (p, items.get(p.pk), price_text(items[p.pk].unit_price) if p.pk in items else "") for p in products
    ]
    return render_page(
        request, "procurement/_suggest.html", {"rows": rows, "code": code, "supplier": supplier}, fragments=()
    )
