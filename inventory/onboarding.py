"""Inventory's steps of the getting-started checklist (erp.onboarding): warehouses and locations,
products, opening stock. Each is one EXISTS query."""

from __future__ import annotations

from django.http import HttpRequest

from erp.onboarding import ChecklistStep, register
from inventory.models import Location, LocationKind, MoveKind, Product, StockMove

# Moves that bring stock in from outside: a receipt from a supplier, an adjustment, a count.
OPENING_KINDS = (MoveKind.RECEIPT, MoveKind.ADJUSTMENT, MoveKind.COUNT)


def warehouses_done(request: HttpRequest) -> bool:
    """An active warehouse with at least one active location that holds stock."""
    return Location.objects.filter(
        kind=LocationKind.INTERNAL, is_active=True, warehouse__is_active=True
    ).exists()


def products_done(request: HttpRequest) -> bool:
    return Product.objects.filter(is_active=True).exists()


def opening_stock_done(request: HttpRequest) -> bool:
    """Stock counted or received: a move into a location that holds stock, by receipt, adjustment or count."""
    return StockMove.objects.filter(kind__in=OPENING_KINDS, to_location__kind=LocationKind.INTERNAL).exists()


register(
    ChecklistStep(
        key="warehouses",
        order=20,
        title="Warehouses and locations",
        detail="A warehouse with at least one location that holds stock: where goods come in and go out.",
        url_name="inventory:warehouses",
        done=warehouses_done,
    )
)
register(
    ChecklistStep(
        key="products",
        order=30,
        title="Products",
        detail="Import them from a spreadsheet, or from a connected store (its connection: Import products).",
        url_name="inventory:io",
        done=products_done,
    )
)
register(
    ChecklistStep(
        key="opening-stock",
        order=40,
        title="Opening stock",
        detail="Count what is on the shelves, or import the opening quantities from a spreadsheet.",
        url_name="inventory:io",
        done=opening_stock_done,
    )
)
