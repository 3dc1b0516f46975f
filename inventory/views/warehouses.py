"""Warehouses: the list (and a new one), and one warehouse with its tree of locations."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from erp.exceptions import DomainError
from erp.money import ZERO
from inventory import selectors, services, valuation
from inventory.forms import LocationForm, WarehouseForm, add_domain_errors
from inventory.models import LocationKind, Warehouse
from inventory.views.common import or_404, read_write, render_page


@read_write
def warehouse_list(request: HttpRequest) -> HttpResponse:
    form = WarehouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            warehouse = services.warehouse_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"Warehouse {warehouse.code} created with a Stock bin.")
            return redirect("inventory:warehouse", pk=warehouse.pk)
    values = {v.warehouse.pk: v for v in valuation.current_by_warehouse()}
    bins = selectors.bin_counts()
    rows = [
        {"warehouse": w, "value": values.get(w.pk), "bins": bins.get(w.pk, 0)}
        for w in selectors.warehouse_list()
    ]
    status = 422 if form.errors else 200
    return render_page(request, "inventory/warehouse_list.html", {"rows": rows, "form": form}, status=status)


def _location_tree(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Locations in path order, each with its depth and the stock in it and below it, per stock unit
    (``[(quantity, unit)]``: kilograms are never added to pieces)."""
    locations = list(selectors.location_list(warehouse_id=warehouse.pk))
    products: dict[int, int] = defaultdict(int)
    stock: dict[int, dict[str, Decimal]] = defaultdict(dict)  # location -> unit -> on hand
    for row in selectors.location_stock(warehouse):
        products[row.location_id] += row.products
        if row.quantity:
            stock[row.location_id][row.unit] = row.quantity
    parents = {loc.pk: loc.parent_id for loc in locations}
    rolled: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for location_id, by_unit in stock.items():
        node: int | None = location_id
        while node is not None:
            for unit, quantity in by_unit.items():
                rolled[node][unit] = rolled[node].get(unit, ZERO) + quantity
            node = parents.get(node)
    root_depth = min((loc.path.count("/") for loc in locations), default=0)
    return [
        {
            "location": loc,
            "depth": loc.path.count("/") - root_depth,
            "on_hand": [(q, unit) for unit, q in stock.get(loc.pk, {}).items()],
            "products": products.get(loc.pk, 0),
            "total": [(q, unit) for unit, q in rolled.get(loc.pk, {}).items()],
        }
        for loc in locations
    ]


@read_write
def warehouse_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warehouse = or_404(lambda key: selectors.warehouse_list().get(pk=key), pk)
    tree = _location_tree(warehouse)
    zones = [row["location"] for row in tree if row["location"].kind == LocationKind.VIEW]
    form = LocationForm(request.POST or None, zones=zones)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            location = services.location_create(
                parent=data["parent"], name=data["name"], kind=data["kind"], barcode=data["barcode"] or None
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, f"{location.path} added.")
            return redirect("inventory:warehouse", pk=warehouse.pk)
    context = {"warehouse": warehouse, "tree": tree, "form": form}
    return render_page(
        request, "inventory/warehouse_detail.html", context, status=422 if form.errors else 200
    )
