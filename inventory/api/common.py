"""What every section of the inventory API shares: the router, the page size and the look-ups by id
(404 when an id is unknown, naming the field that held it)."""

from ninja import Router

from erp.api_helpers import get_or_404
from erp.apiauth import ErpAuth
from erp.exceptions import ValidationFailed
from inventory.models import Location, Lot, Product, Warehouse

router = Router(tags=["Inventory"], auth=ErpAuth("inventory"))
PAGE_SIZE = 50


def product_by_id(pk: int, field: str | None = "product") -> Product:
    return get_or_404(Product.objects.select_related("stock_unit"), pk, "product", field=field)


def location_by_id(pk: int, field: str | None = "location") -> Location:
    return get_or_404(Location.objects.select_related("warehouse"), pk, "location", field=field)


def warehouse_by_id(pk: int, field: str | None = "warehouse") -> Warehouse:
    return get_or_404(Warehouse, pk, "warehouse", field=field)


def lot_by_id(pk: int | None, field: str = "lot") -> Lot | None:
    return None if pk is None else get_or_404(Lot, pk, "lot", field=field)


def warehouse_filter(pk: int | None) -> int | None:
    """A ``warehouse`` query parameter outside a FilterSet: unknown is an invalid filter (422)."""
    if pk is not None and not Warehouse.objects.filter(pk=pk).exists():
        raise ValidationFailed("Invalid filter.", field_errors={"warehouse": [f"No warehouse with id {pk}."]})
    return pk
