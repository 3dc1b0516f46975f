"""Suppliers: the list with open orders and bills, the detail with contacts, items and orders, the forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from erp.exceptions import DomainError
from erp.ui import flash, int_or_none, is_htmx, paginate, qty, sort_headers, toast
from inventory.models import Product
from procurement import selectors, services
from procurement.filters import SupplierFilter
from procurement.forms import ContactForm, SupplierForm, SupplierItemForm, add_domain_errors
from procurement.models import Supplier, SupplierItem
from procurement.views.common import price_text, read, render_page, write

SUPPLIER_ORDERING = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "code": ("code",),
    "-code": ("-code",),
    "open_orders": ("open_orders", "name"),
    "-open_orders": ("-open_orders", "name"),
    "open_balance": ("open_balance", "name"),
    "-open_balance": ("-open_balance", "name"),
}
RECENT_ORDERS = 15


@read
def supplier_list(request: HttpRequest) -> HttpResponse:
    filterset = SupplierFilter(request.GET, queryset=selectors.supplier_list())
    qs = filterset.qs if filterset.is_valid() else Supplier.objects.none()
    ordering = request.GET.get("ordering", "name")
    qs = qs.order_by(*SUPPLIER_ORDERING.get(ordering, ("name", "id")))
    headers = sort_headers(
        request.GET,
        [
            ("Code", "code", False),
            ("Name", "name", False),
            ("Email", None, False),
            ("Phone", None, False),
            ("Currency", None, False),
            ("Terms", None, True),
            ("Lead time", None, True),
            ("Open orders", "open_orders", True),
            ("Open bills", "open_balance", True),
            ("", None, False),
        ],
        default="name",
        descending_first=("open_orders", "open_balance"),
    )
    context = {"filter": filterset, "page": paginate(request, qs), "headers": headers}
    return render_page(request, "procurement/supplier_list.html", context)


@dataclass(frozen=True)
class ItemRow:
    """A supplier item (the page writes its numbers with the erp_format filters)."""

    item: SupplierItem


def _detail_context(pk: int, **extra: Any) -> dict[str, Any]:
    try:
        supplier = selectors.supplier_detail(pk)
    except Supplier.DoesNotExist as exc:
        raise Http404(f"No supplier {pk}") from exc
    return {
        "supplier": supplier,
        "contacts": list(supplier.contacts.all()),
        "items": [ItemRow(item) for item in supplier.items.all()],
        "orders": list(selectors.po_list().filter(supplier=supplier)[:RECENT_ORDERS]),
        "contact_form": extra.pop("contact_form", None) or ContactForm(),
        **extra,
    }


@read
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_page(
        request, "procurement/supplier_detail.html", _detail_context(pk), fragments=("contacts", "items")
    )


def _supplier_form(request: HttpRequest, supplier: Supplier | None) -> HttpResponse:
    if request.method == "POST":
        form = SupplierForm(request.POST, editing=supplier is not None)
        if form.is_valid():
            try:
                if supplier is None:
                    saved = services.supplier_create(
                        code=form.cleaned_data["code"], user=request.user, **form.values()
                    )
                    flash(request, f"Supplier {saved.name} ({saved.code}) is created.")
                else:
                    saved = services.supplier_update(supplier=supplier, user=request.user, **form.values())
                    flash(request, f"Supplier {saved.name} is saved.")
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                return redirect("procurement:supplier", pk=saved.pk)
    elif supplier is not None:
        initial = {name: getattr(supplier, name) for name in SupplierForm.base_fields}
        form = SupplierForm(initial=initial, editing=True)
    else:
        form = SupplierForm()
    return render_page(
        request, "procurement/supplier_form.html", {"form": form, "supplier": supplier}, fragments=()
    )


@write
def supplier_create(request: HttpRequest) -> HttpResponse:
    return _supplier_form(request, None)


@write
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _supplier_form(request, get_object_or_404(Supplier, pk=pk))


@write
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(Supplier, pk=pk)
    if request.method != "POST":
        return redirect("procurement:supplier", pk=pk)
    form = ContactForm(request.POST)
    message, level = "", "success"
    if form.is_valid():
        try:
            contact = services.supplier_contact_add(supplier=supplier, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            message = f"{contact.name} is added to {supplier.name}."
            form = ContactForm()
    if form.errors:
        message, level = "The contact is not added: see the form.", "error"
    if not is_htmx(request):
        flash(request, message, level)
        return redirect("procurement:supplier", pk=pk)
    response = render_page(
        request,
        "procurement/supplier_detail.html#contacts",
        _detail_context(pk, contact_form=form, contact_open=bool(form.errors)),
        fragments=(),
    )
    return toast(response, message, level)


def _item_form(request: HttpRequest, supplier: Supplier | None, item: SupplierItem | None) -> HttpResponse:
    if request.method == "POST":
        form = SupplierItemForm(request.POST, supplier=supplier, item=item)
        form.parse_breaks(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            target = supplier or data["supplier"]
            try:
                saved = services.supplier_item_set(
                    supplier=target,
                    product=data["product"],
                    unit_price=data["unit_price"],
                    purchase_unit=data["purchase_unit"],
                    factor=data["factor"],
                    supplier_sku=data["supplier_sku"],
                    min_order_quantity=data["min_order_quantity"],
                    lead_time_days=data["lead_time_days"],
                    is_preferred=data["is_preferred"],
                    price_breaks=form.breaks,
                    user=request.user,
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                flash(request, f"{saved.product.sku} from {target.name} is saved.")
                back = request.POST.get("next", "")
                if back.startswith("/") and not back.startswith("//"):
                    return redirect(back)
                return redirect("procurement:supplier", pk=target.pk)
    else:
        initial: dict[str, Any] = {}
        if item is not None:
            initial = {
                "supplier_sku": item.supplier_sku,
                "purchase_unit": item.purchase_unit.code,
                "factor": qty(item.factor),
                "unit_price": price_text(item.unit_price),
                "min_order_quantity": qty(item.min_order_quantity),
                "lead_time_days": item.lead_time_days,
                "is_preferred": item.is_preferred,
            }
        else:
            product = Product.objects.filter(pk=int_or_none(request.GET.get("product")) or 0).first()
            if product is not None:
                initial["product"] = product.sku
                initial["is_preferred"] = not selectors.has_preferred_supplier(product)
            if supplier is None and request.GET.get("supplier"):
                initial["supplier"] = int_or_none(request.GET.get("supplier"))
        form = SupplierItemForm(initial=initial, supplier=supplier, item=item)
        form.initial_break_rows()
    context = {
        "form": form,
        "supplier": supplier,
        "item": item,
        "break_rows": form.padded_break_rows(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render_page(request, "procurement/supplier_item_form.html", context, fragments=())


@write
def item_create(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new supplier item: from a supplier's page (pk), or for a product (?product=) from replenishment."""
    supplier = get_object_or_404(Supplier, pk=pk) if pk is not None else None
    return _item_form(request, supplier, None)


@write
def item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = get_object_or_404(
        SupplierItem.objects.select_related("supplier", "product", "purchase_unit").prefetch_related(
            "price_breaks"
        ),
        pk=item_pk,
        supplier_id=pk,
    )
    return _item_form(request, item.supplier, item)


def supplier_url(pk: int) -> str:
    return reverse("procurement:supplier", args=[pk])
