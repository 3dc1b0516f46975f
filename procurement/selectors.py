"""Reads of procurement, with what pages and the API need at a constant number of queries."""

from __future__ import annotations

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from erp.money import ZERO
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import (
    Bill,
    BillLine,
    BillStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierContact,
    SupplierItem,
    SupplierPayment,
)

MONEY: DecimalField[object, object] = DecimalField(max_digits=19, decimal_places=4)
OPEN_BILL_STATUSES = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID, BillStatus.NEEDS_REVIEW)


def supplier_list() -> QuerySet[Supplier]:
    """Suppliers with ``open_orders`` (sent or partially received POs) and ``open_balance`` (unpaid bills)."""
    open_orders = (
        PurchaseOrder.objects.filter(supplier=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("supplier")
        .annotate(n=Count("pk"))
        .values("n")
    )
    open_balance = (
        Bill.objects.filter(supplier=OuterRef("pk"), status__in=OPEN_BILL_STATUSES)
        .order_by()
        .values("supplier")
        .annotate(total=Sum(F("total") - F("amount_paid")))
        .values("total")
    )
    return Supplier.objects.annotate(
        open_orders=Coalesce(Subquery(open_orders, output_field=IntegerField()), Value(0)),
        open_balance=Coalesce(Subquery(open_balance, output_field=MONEY), Value(ZERO), output_field=MONEY),
    ).order_by("name", "id")


def supplier_detail(pk: int) -> Supplier:
    """A supplier with its contacts and items (product, unit, price breaks)."""
    return (
        supplier_list()
        .prefetch_related(
            Prefetch("contacts", queryset=SupplierContact.objects.order_by("name", "id")),
            Prefetch("items", queryset=supplier_item_list()),
        )
        .get(pk=pk)
    )


def supplier_open_orders(supplier: Supplier) -> QuerySet[PurchaseOrder]:
    return po_list().filter(supplier=supplier, status__in=OPEN_STATUSES)


def supplier_item_list() -> QuerySet[SupplierItem]:
    return (
        SupplierItem.objects.select_related("supplier", "product__stock_unit", "purchase_unit")
        .prefetch_related("price_breaks")
        .order_by("supplier__name", "product__sku", "id")
    )


def po_list() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier", "warehouse").order_by("-order_date", "-id")


def po_detail(pk: int) -> PurchaseOrder:
    """A purchase order with its lines (product, unit), receipts (lines), bills (lines, payments)."""
    return (
        PurchaseOrder.objects.select_related("supplier", "warehouse", "approved_by", "created_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PurchaseOrderLine.objects.select_related(
                    "product__stock_unit", "purchase_unit", "supplier_item"
                ).order_by("position", "id"),
            ),
            Prefetch(
                "receipts",
                queryset=Receipt.objects.select_related("location").prefetch_related(
                    Prefetch(
                        "lines",
                        queryset=ReceiptLine.objects.select_related("order_line__product").order_by("id"),
                    )
                ),
            ),
            Prefetch(
                "bills",
                queryset=Bill.objects.select_related("supplier").prefetch_related(
                    Prefetch(
                        "lines",
                        queryset=BillLine.objects.select_related("order_line__product").order_by("id"),
                    ),
                    "payments",
                ),
            ),
        )
        .get(pk=pk)
    )


def receipt_list() -> QuerySet[Receipt]:
    return (
        Receipt.objects.select_related("order__supplier", "location", "created_by")
        .prefetch_related(
            Prefetch(
                "lines", queryset=ReceiptLine.objects.select_related("order_line__product").order_by("id")
            )
        )
        .order_by("-received_at", "-id")
    )


def receipt_detail(pk: int) -> Receipt:
    return receipt_list().get(pk=pk)


def bill_list() -> QuerySet[Bill]:
    return Bill.objects.select_related("supplier", "order").order_by("-bill_date", "-id")


def bill_detail(pk: int) -> Bill:
    return (
        Bill.objects.select_related("supplier", "order", "reviewed_by")
        .prefetch_related(
            Prefetch("lines", queryset=BillLine.objects.select_related("order_line__product").order_by("id")),
            "payments",
        )
        .get(pk=pk)
    )


def payment_list() -> QuerySet[SupplierPayment]:
    return SupplierPayment.objects.select_related("bill__supplier").order_by("-paid_at", "-id")
