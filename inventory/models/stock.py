"""Where stock is and how it moves: warehouses, locations, the ledger, levels, reservations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast

from erp import formatting
from erp.models import AuditedModel, audit_history
from erp.money import MoneyField, QuantityField
from inventory.models.catalog import Lot, Product


class Warehouse(AuditedModel):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    address = models.TextField(blank=True)
    allow_negative_stock = models.BooleanField(
        default=False, help_text="Let issues take stock below zero (never past other orders' reservations)."
    )
    is_active = models.BooleanField(default=True)
    history = audit_history()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class LocationKind(models.TextChoices):
    INTERNAL = "internal", "Internal (holds stock)"
    VIEW = "view", "View (zone: groups locations)"
    SUPPLIER = "supplier", "Supplier (virtual)"
    CUSTOMER = "customer", "Customer (virtual)"
    PRODUCTION = "production", "Production (virtual)"
    ADJUSTMENT = "adjustment", "Adjustment / loss (virtual)"
    SCRAP = "scrap", "Scrap (virtual)"
    TRANSIT = "transit", "Transit (virtual)"


VIRTUAL_KINDS = frozenset(
    {
        LocationKind.SUPPLIER,
        LocationKind.CUSTOMER,
        LocationKind.PRODUCTION,
        LocationKind.ADJUSTMENT,
        LocationKind.SCRAP,
        LocationKind.TRANSIT,
    }
)


class Location(models.Model):
    """A place stock can be: a bin in a warehouse's tree, or a virtual counterpart."""

    warehouse = models.ForeignKey(
        Warehouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="locations",
        db_index=False,
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_index=False,
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=LocationKind.choices, default=LocationKind.INTERNAL)
    path = models.CharField(max_length=500, editable=False, help_text="WH/Stock/A-01, for display and sort")
    barcode = models.CharField(max_length=64, null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="inv_location_unique_in_parent"),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(warehouse__isnull=True),
                name="inv_location_one_virtual_per_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["internal", "view"], warehouse__isnull=False)
                    | Q(kind__in=sorted(str(k) for k in VIRTUAL_KINDS), warehouse__isnull=True)
                ),
                name="inv_location_warehouse_iff_physical",
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "kind"], name="inv_location_wh_kind_idx")]

    def __str__(self) -> str:
        return self.path

    @property
    def is_virtual(self) -> bool:
        return self.kind in VIRTUAL_KINDS

    @property
    def holds_stock(self) -> bool:
        return self.kind == LocationKind.INTERNAL


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue"
    TRANSFER = "transfer", "Transfer"
    ADJUSTMENT = "adjustment", "Adjustment"
    SCRAP = "scrap", "Scrap"
    COUNT = "count", "Count"
    PRODUCTION = "production", "Production"
    CONSUMPTION = "consumption", "Consumption"
    REVERSAL = "reversal", "Reversal"
    RETURN = "return", "Customer return"


class AppendOnlyError(Exception):
    """A stock move was changed or deleted: the ledger only grows (reverse a move instead)."""


class StockMove(models.Model):
    """One line of the ledger: quantity of a product from one location to another.

    Append-only: never updated, never deleted; a mistake is undone by a reversing move.
    """

    # product, from_location and to_location are indexed with created_at (Meta.indexes), which
    # serves each alone too: no index of their own to write with every move.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves", db_index=False)
    quantity = QuantityField(help_text="in the product's stock unit, always positive")
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="moves_out", db_index=False
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="moves_in", db_index=False
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="moves")
    unit_cost = MoneyField(default=0, help_text="cost per stock unit carried by this move")
    kind = models.CharField(max_length=12, choices=MoveKind.choices)
    reference = models.CharField(max_length=100, blank=True, help_text="document number: SO-0042, PO-7")
    document_type = models.CharField(max_length=64, blank=True, help_text="app.model of the document")
    document_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    operation = models.UUIDField(help_text="moves written together by one operation share it")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField()  # indexed with id (Meta.indexes)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inv_move_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="inv_move_distinct_ends"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="inv_move_cost_nonneg"),
        ]
        indexes = [
            # the ledger's default sort (newest first), and any range of times
            models.Index(fields=["created_at", "id"], name="inv_move_time_id_idx"),
            models.Index(fields=["product", "created_at"], name="inv_move_product_time_idx"),
            models.Index(fields=["from_location", "created_at"], name="inv_move_from_time_idx"),
            models.Index(fields=["to_location", "created_at"], name="inv_move_to_time_idx"),
            models.Index(fields=["document_type", "document_id"], name="inv_move_document_idx"),
            models.Index(fields=["document_id"], name="inv_move_document_id_idx"),  # the filter alone
            models.Index(fields=["operation"], name="inv_move_operation_idx"),
            models.Index(fields=["kind", "created_at"], name="inv_move_kind_time_idx"),
        ]

    def __str__(self) -> str:
        q = formatting.number(self.quantity)
        return f"{q} × {self.product_id}: {self.from_location_id} → {self.to_location_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Stock moves are append-only; write a reversing move instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Stock moves are append-only; write a reversing move instead.")


class StockLevel(models.Model):
    """The cached balance of one (product, location, lot), written with every move."""

    # product, location and warehouse lead the composite indexes of Meta.indexes, which serve each
    # alone too: no index of their own to write with every new level.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="levels", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="levels", db_index=False)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="levels")
    warehouse = models.ForeignKey(
        Warehouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="levels",
        editable=False,
        db_index=False,
    )  # the location's, copied so per-warehouse sums are one indexed GROUP BY
    on_hand = QuantityField(default=0)
    reserved = QuantityField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    # The product's SKU and the location's path, copied so that the list's default sort (SKU, then
    # path) is read from one index instead of sorting every level joined to both tables (page 1,000
    # took 100 ms at 110k levels). Two columns rather than one concatenated key: each compares
    # under the database's collation exactly as the originals do, whatever that collation is.
    # Written where levels are created (locks.lock_levels, integrity.repair) and kept current by
    # the services that change them (product_update, location_update).
    product_sku = models.CharField(max_length=64, editable=False)
    location_path = models.CharField(max_length=500, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location"], condition=Q(lot__isnull=True), name="inv_level_unique_no_lot"
            ),
            models.UniqueConstraint(
                fields=["product", "location", "lot"],
                condition=Q(lot__isnull=False),
                name="inv_level_unique_lot",
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inv_level_reserved_nonneg"),
            models.CheckConstraint(
                condition=Q(reserved=0) | Q(reserved__lte=F("on_hand")),
                name="inv_level_reserved_within_on_hand",
            ),
            # A level written without its sort copies (a raw INSERT, a new creation path) is refused
            # instead of sorting first in every list: a SKU and a path are never empty.
            models.CheckConstraint(
                condition=~Q(product_sku="") & ~Q(location_path=""), name="inv_level_sort_copies_set"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "warehouse"], name="inv_level_product_wh_idx"),
            models.Index(fields=["warehouse", "product"], name="inv_level_wh_product_idx"),
            models.Index(fields=["location", "product"], name="inv_level_location_idx"),
            # The levels list's default sort, of the levels in warehouses (its default: no virtual
            # counterparts), read in order: page N skips index entries, a cursor starts in it.
            models.Index(
                fields=["product_sku", "location_path", "id"],
                condition=Q(warehouse__isnull=False),
                name="inv_level_sort_idx",
            ),
        ]

    def __str__(self) -> str:
        on_hand, reserved = formatting.number(self.on_hand), formatting.number(self.reserved)
        return f"{self.product_id}@{self.location_id}: {on_hand} ({reserved} reserved)"

    @property
    def available(self) -> Any:
        return self.on_hand - self.reserved


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CONSUMED = "consumed", "Consumed"
    RELEASED = "released", "Released"


class Reservation(models.Model):
    """Stock held for a demand (a sales order line, a manufacturing component line)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="reservations")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations")
    quantity = QuantityField(help_text="still held")
    consumed_quantity = QuantityField(default=0)
    released_quantity = QuantityField(default=0)
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE
    )
    demand_type = models.CharField(max_length=64, help_text="app.model of the demand: sales.orderline")
    demand_id = models.CharField(max_length=64, help_text="the demand's id as its owner names it: 17, A-1001")
    # The same id as a number when it is one (a sales order line's or a manufacturing component
    # line's primary key): selectors join on it with no cast; null for an id that is not a number.
    demand_pk = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    reference = models.CharField(max_length=100, blank=True, help_text="SO-0042")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inv_reservation_quantity_nonneg"),
            models.CheckConstraint(
                condition=Q(status="active", quantity__gt=0) | (~Q(status="active") & Q(quantity=0)),
                name="inv_reservation_active_iff_held",
            ),
            models.CheckConstraint(
                condition=Q(demand_pk__isnull=True) | Q(demand_id=Cast("demand_pk", models.CharField())),
                name="inv_reservation_demand_pk_is_demand_id",
            ),
        ]
        indexes = [
            models.Index(fields=["demand_type", "demand_id"], name="inv_reservation_demand_idx"),
            models.Index(fields=["demand_type", "demand_pk"], name="inv_reservation_demand_pk_idx"),
            models.Index(
                fields=["product", "location"],
                condition=Q(status="active"),
                name="inv_reservation_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{formatting.number(self.quantity)} of {self.product_id} for {self.demand_type}:{self.demand_id}"
        )


class ReorderRule(AuditedModel):
    """Keep a product between min and max in a warehouse, ordering in multiples."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="reorder_rules", db_index=False
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reorder_rules")
    min_quantity = QuantityField()
    max_quantity = QuantityField()
    multiple = QuantityField(default=1)
    history = audit_history()

    class Meta:
        ordering = ["product__sku", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="inv_reorder_rule_unique"),
            models.CheckConstraint(condition=Q(min_quantity__gte=0), name="inv_reorder_min_nonneg"),
            models.CheckConstraint(
                condition=Q(max_quantity__gte=F("min_quantity")), name="inv_reorder_max_ge_min"
            ),
            models.CheckConstraint(condition=Q(multiple__gt=0), name="inv_reorder_multiple_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.min_quantity}–{self.max_quantity}"
