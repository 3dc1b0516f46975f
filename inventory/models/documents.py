"""Documents of inventory's own operations: two-step transfers, count sheets, stock checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models import AuditedModel
from erp.money import QuantityField
from inventory.models.catalog import Lot, Product
from inventory.models.stock import Location


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", "In transit"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Transfer(AuditedModel):
    """A two-step transfer: shipped into transit, received at the destination later."""

    number = models.CharField(max_length=20, unique=True)
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=TransferStatus.choices, default=TransferStatus.IN_TRANSIT
    )
    note = models.CharField(max_length=255, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="inv_transfer_status_idx")]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="inv_transfer_line_qty_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class CountStatus(models.TextChoices):
    OPEN = "open", "Counting"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


class CountSheet(AuditedModel):
    """A cycle count of one location: lines counted, reviewed, then applied as adjustments."""

    number = models.CharField(max_length=20, unique=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="count_sheets")
    status = models.CharField(max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    note = models.CharField(max_length=255, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="inv_count_status_idx")]

    def __str__(self) -> str:
        return self.number


class CountLine(models.Model):
    sheet = models.ForeignKey(CountSheet, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    expected_quantity = QuantityField(help_text="on hand when the line was added")
    counted_quantity = QuantityField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "product"], condition=Q(lot__isnull=True), name="inv_count_line_unique"
            ),
            models.UniqueConstraint(
                fields=["sheet", "product", "lot"],
                condition=Q(lot__isnull=False),
                name="inv_count_line_lot_unique",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="inv_count_line_counted_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.counted_quantity} (expected {self.expected_quantity})"


class StockCheckRun(models.Model):
    """The result of recomputing every level from the ledger (`manage.py check_stock`)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    levels_checked = models.PositiveIntegerField()
    drift_count = models.PositiveIntegerField()
    repaired = models.BooleanField(default=False)
    drifts = models.JSONField(default=list, help_text="the first 500 drifts found")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"stock check {self.started_at:%Y-%m-%d %H:%M}: {self.drift_count} drift(s)"


class LedgerDay(models.Model):
    """A day of the ledger closed for the books: the value that came into and left our stock on it,
    by the kind of place it came from or went to (``valuation.flows``), announced once as
    ``inventory.day_closed`` (an accounting tool may post it as a journal entry)."""

    date = models.DateField(unique=True, help_text="the day, in the company's time zone")
    currency = models.CharField(max_length=3)
    flows = models.JSONField(default=list, help_text='[{"counterpart": "customer", "value": "-12.50"}]')
    closed_at = models.DateTimeField()

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"ledger day {self.date.isoformat()}"
