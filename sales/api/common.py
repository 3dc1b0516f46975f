"""What the sections of the sales API share: the router they register on, the page size, and the
helpers and lookups more than one of them uses."""

from typing import Any

from django.db.models import DecimalField
from django.db.models.functions import Coalesce
from ninja import Router

from erp.apiauth import ErpAuth
from erp.exceptions import NotFound
from inventory.selectors import reserved_for_demand
from sales import selectors
from sales.models import Invoice, Shipment
from sales.schemas.common import AddressFields

router = Router(tags=["Sales"], auth=ErpAuth("sales"))
# Invoices, payments and refunds: sales:write, or the accountant's right (docs/roles.md).
INVOICING = ErpAuth("sales", right="sales_invoice")

PAGE_SIZE = 50

QUANTITY: "DecimalField[Any, Any]" = DecimalField(max_digits=18, decimal_places=4)


def held_quantity() -> Coalesce:
    """What is still reserved for an order line (the row of the outer query), as a subquery."""
    return reserved_for_demand(selectors.DEMAND_TYPE)


def address_dict(fields: AddressFields | None) -> dict[str, str] | None:
    """An address of the input as the services take it."""
    return fields.dict() if fields is not None else None


def shipment_of(pk: int) -> Shipment:
    """A shipment as ShipmentDetailOut reads it (404 when unknown)."""
    try:
        return selectors.shipment_detail(pk)
    except Shipment.DoesNotExist:
        raise NotFound(f"No shipment with id {pk}.") from None


def invoice_of(pk: int) -> Invoice:
    """An invoice as InvoiceDetailOut reads it (404 when unknown)."""
    try:
        return selectors.invoice_detail(pk)
    except Invoice.DoesNotExist:
        raise NotFound(f"No invoice with id {pk}.") from None
