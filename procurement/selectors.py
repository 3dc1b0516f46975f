"""Reads of procurement, with what pages and the API need at a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TypedDict

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from erp.money import ZERO
from inventory.models import Product
from procurement.filters import OPEN
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import (
    Bill,
    BillLine,
    BillStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierContact,
    SupplierItem,
    SupplierPayment,
)
from procurement.thresholds import above_threshold

MONEY: DecimalField[object, object] = DecimalField(max_digits=19, decimal_places=4)
OPEN_BILL_STATUSES = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID, BillStatus.NEEDS_REVIEW)
PAYABLE_BILL_STATUSES = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)


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
    return open_po_list().filter(supplier=supplier)


def supplier_choices() -> QuerySet[Supplier]:
    """Every supplier by name, with only what a filter's choices show (id, name, code). One query."""
    return Supplier.objects.order_by("name").only("pk", "name", "code")


def supplier_item_list() -> QuerySet[SupplierItem]:
    return (
        SupplierItem.objects.select_related("supplier", "product__stock_unit", "purchase_unit")
        .prefetch_related("price_breaks")
        .order_by("supplier__name", "product__sku", "id")
    )


def supplier_items_by_product(supplier: Supplier, product_ids: Iterable[int]) -> dict[int, SupplierItem]:
    """What the supplier sells us of each of these products (product id -> item, with its purchase unit
    and price breaks). Two queries (one when it sells none of them)."""
    items = supplier_item_list().filter(supplier=supplier, product_id__in=list(product_ids))
    return {item.product_id: item for item in items}


def has_preferred_supplier(product: Product) -> bool:
    """Whether some supplier's item of the product is the preferred one (at most one is). One query."""
    return SupplierItem.objects.filter(product=product, is_preferred=True).exists()


def po_list() -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.select_related("supplier", "warehouse").order_by("-order_date", "-id")


def open_po_list() -> QuerySet[PurchaseOrder]:
    """Purchase orders waiting for goods (``OPEN_STATUSES``: sent or partially received), newest first."""
    return po_list().filter(status__in=OPEN_STATUSES)


def po_by_number(number: str) -> PurchaseOrder | None:
    """The purchase order with this number in any case (what a scanner or a person typed), or None.
    One query."""
    return PurchaseOrder.objects.filter(number__iexact=number.strip()).first()


def po_line_list() -> QuerySet[PurchaseOrderLine]:
    """Purchase order lines in their order, with product, stock unit and purchase unit."""
    return PurchaseOrderLine.objects.select_related("product__stock_unit", "purchase_unit").order_by(
        "position", "id"
    )


def po_status_counts(orders: QuerySet[PurchaseOrder]) -> dict[str, int]:
    """How many of these orders are in each status, how many are open (``OPEN_STATUSES``, under the
    key ``"open"``) and how many there are (``"all"``): the order list's tabs. One query."""
    aggregates = {"all": Count("pk"), OPEN: Count("pk", filter=Q(status__in=OPEN_STATUSES))}
    for status in PurchaseOrderStatus:
        aggregates[status.value] = Count("pk", filter=Q(status=status))
    counts: dict[str, int] = orders.order_by().aggregate(**aggregates)
    return counts


class PurchaseOrderFigures(TypedDict):
    """What the procurement landing page counts of purchase orders."""

    drafts: int
    awaiting_approval: int  # drafts over the approval threshold, not approved yet
    open: int  # sent or partially received
    overdue: int  # open, expected before today


class BillFigures(TypedDict):
    """What the procurement landing page counts of supplier bills."""

    review: int  # the three-way match flagged them
    due_week: int  # to pay within the week (or overdue)
    overdue: int


def po_figures(today: datetime.date) -> PurchaseOrderFigures:
    """The purchase orders to act on, as of ``today``. One query."""
    counts = PurchaseOrder.objects.aggregate(
        drafts=Count("pk", filter=Q(status=PurchaseOrderStatus.DRAFT)),
        awaiting_approval=Count(
            "pk",
            filter=Q(above_threshold(), status=PurchaseOrderStatus.DRAFT, approved_at__isnull=True),
        ),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, expected_date__lt=today)),
    )
    return PurchaseOrderFigures(
        drafts=counts["drafts"],
        awaiting_approval=counts["awaiting_approval"],
        open=counts["open"],
        overdue=counts["overdue"],
    )


def bill_figures(today: datetime.date) -> BillFigures:
    """The bills to act on, as of ``today``: in review, due within a week, overdue. One query."""
    week = today + datetime.timedelta(days=7)
    counts = Bill.objects.aggregate(
        review=Count("pk", filter=Q(status=BillStatus.NEEDS_REVIEW)),
        due_week=Count("pk", filter=Q(status__in=PAYABLE_BILL_STATUSES, due_date__lte=week)),
        overdue=Count("pk", filter=Q(status__in=PAYABLE_BILL_STATUSES, due_date__lt=today)),
    )
    return BillFigures(review=counts["review"], due_week=counts["due_week"], overdue=counts["overdue"])


def po_detail(pk: int) -> PurchaseOrder:
    """A purchase order with its lines (product, unit), receipts (lines), bills (lines, payments)."""
    return (
        PurchaseOrder.objects.select_related("supplier", "warehouse", "approved_by", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=po_line_list().select_related("supplier_item")),
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
                    Prefetch("lines", queryset=bill_line_list()),
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


def bill_line_list() -> QuerySet[BillLine]:
    """Bill lines in their order, with the order line they bill, its product and its purchase unit."""
    return BillLine.objects.select_related("order_line__product", "order_line__purchase_unit").order_by("id")


def bill_list() -> QuerySet[Bill]:
    return Bill.objects.select_related("supplier", "order").order_by("-bill_date", "-id")


def bill_detail(pk: int) -> Bill:
    return (
        Bill.objects.select_related("supplier", "order", "reviewed_by")
        .prefetch_related(
            Prefetch("lines", queryset=bill_line_list()),
            "payments",
        )
        .get(pk=pk)
    )


def payment_list() -> QuerySet[SupplierPayment]:
    return SupplierPayment.objects.select_related("bill__supplier").order_by("-paid_at", "-id")
