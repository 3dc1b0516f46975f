"""Products: the list, the detail page, the product form, archiving, and variants from a template."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp.exceptions import DomainError
from erp.ui import htmx_of
from inventory import selectors, services
from inventory.filters import ProductFilter
from inventory.forms import ProductForm, VariantsForm, add_domain_errors
from inventory.models import AttributeValue, LocationKind
from inventory.services.catalog import _variant_sku
from inventory.views.common import friendly_filters, or_404, paginate, read, render_page, sort_headers, write

PRODUCT_COLUMNS = (
    ("sku", "SKU", False),
    ("name", "Name", False),
    ("", "Category", False),
    ("", "Unit", False),
    ("price", "Price", True),
    ("on_hand", "On hand", True),
    ("", "Reserved", True),
    ("", "Available", True),
    ("", "Status", False),
)


@read
def product_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.product_list().annotate(available=F("on_hand") - F("reserved"))
    filterset = friendly_filters(ProductFilter(request.GET, queryset=queryset))
    context = {
        "filter": filterset,
        "page": paginate(request, filterset.qs),
        "headers": sort_headers(request, PRODUCT_COLUMNS, default="sku"),
    }
    return render_page(request, "inventory/product_list.html", context)


@read
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = or_404(selectors.product_detail, pk)
    found = selectors.product_availability(product.pk)
    barcodes = list(product.barcodes.all())
    variants = []
    if product.template is not None:
        variants = list(
            product.template.variants.select_related("stock_unit")
            .prefetch_related("attribute_values__attribute")
            .order_by("sku")
        )
    context = {
        "product": product,
        "per_warehouse": found.per_warehouse,
        "total": found.total,
        "levels": selectors.level_list()
        .filter(product=product, location__kind=LocationKind.INTERNAL)
        .exclude(on_hand=0, reserved=0),
        "reservations": selectors.reservation_list().filter(product=product)[:100],
        "moves": selectors.move_list().filter(product=product)[:50],
        "variants": variants,
        "barcodes": barcodes,
        "units_without_barcode": [
            u for u in product.units.all() if u.pk not in {b.unit_id for b in barcodes}
        ],
        "rules": list(product.reorder_rules.all()),
    }
    return render_page(request, "inventory/product_detail.html", context)


@write
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(user=request.user, **form.values())
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{product.sku} created.")
            return redirect("inventory:product", pk=product.pk)
    return render_page(request, "inventory/product_form.html", {"form": form, "product": None}, fragments=())


@write
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = or_404(selectors.product_detail, pk)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        barcodes = values.pop("barcodes")
        try:
            services.product_update(product=product, user=request.user, barcodes=barcodes, **values)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{values['sku']} saved.")
            return redirect("inventory:product", pk=product.pk)
    context = {"form": form, "product": product}
    return render_page(request, "inventory/product_form.html", context, fragments=())


@write
@require_POST
def product_archive(request: HttpRequest, pk: int) -> HttpResponse:
    product = or_404(selectors.product_detail, pk)
    restore = request.POST.get("active") == "1"
    services.product_archive(product=product, user=request.user, active=restore)
    messages.success(request, f"{product.sku} {'restored' if restore else 'archived'}.")
    url = reverse("inventory:product", kwargs={"pk": product.pk})
    return HttpResponseClientRedirect(url) if htmx_of(request) else redirect(url)


def _variant_preview(form: VariantsForm) -> list[dict[str, Any]]:
    """The SKUs product_template_create will make, and which of them are taken already."""
    attributes = form.cleaned_data["attributes"]
    prefix = form.cleaned_data["sku_prefix"]
    rows: list[dict[str, Any]] = []
    for combination in itertools.product(*attributes.values()):
        values = [AttributeValue(value=v) for v in combination]
        rows.append({"sku": _variant_sku(prefix, values), "label": " / ".join(combination)})
    taken = selectors.skus_taken(r["sku"] for r in rows)
    for row in rows:
        row["taken"] = row["sku"].lower() in taken
    return rows


@write
def product_variants_create(request: HttpRequest) -> HttpResponse:
    form = VariantsForm(request.POST or None)
    preview: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        preview = _variant_preview(form)
        if request.POST.get("action") != "preview":
            data = form.cleaned_data
            try:
                template = services.product_template_create(
                    name=data["name"],
                    sku_prefix=data["sku_prefix"],
                    attributes=data["attributes"],
                    stock_unit=data["stock_unit"],
                    category=data["category"],
                    sale_price=data["sale_price"],
                    currency=data["currency"],
                    user=request.user,
                )
            except DomainError as exc:
                add_domain_errors(form, exc, aliases={"sku": "sku_prefix"})
            else:
                count = template.variants.count()
                messages.success(request, f"{template.name}: {count} variant(s) created.")
                return redirect(f"{reverse('inventory:products')}?template={template.pk}")
    context = {"form": form, "preview": preview}
    return render_page(request, "inventory/product_variants.html", context, fragments=("preview",))


@write
@require_POST
def product_variants_preview(request: HttpRequest) -> HttpResponse:
    form = VariantsForm(request.POST)
    preview = _variant_preview(form) if form.is_valid() else []
    return render(request, "inventory/product_variants.html#preview", {"form": form, "preview": preview})
