"""Manufacturing's tables: work centres, bills of materials, manufacturing orders, MRP runs."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from erp.models import AuditedModel, audit_history
from erp.money import MoneyField, QuantityField
from inventory.models import Product, UnitOfMeasure, Warehouse


class WorkCentre(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    cost_per_hour = MoneyField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class BillOfMaterials(AuditedModel):
    """How to make ``output_quantity`` of a product. Versions; one active per product."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="boms", db_index=False)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=False)
    output_quantity = QuantityField(default=1)
    lead_time_days = models.PositiveIntegerField(default=1, help_text="from start to finish of one order")
    notes = models.TextField(blank=True)
    history = audit_history()

    class Meta:
        ordering = ["product__sku", "-version"]
        verbose_name = "bill of materials"
        verbose_name_plural = "bills of materials"
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="mfg_bom_version_unique"),
            models.UniqueConstraint(
                fields=["product"], condition=Q(is_active=True), name="mfg_bom_one_active"
            ),
            models.CheckConstraint(condition=Q(output_quantity__gt=0), name="mfg_bom_output_pos"),
        ]

    def __str__(self) -> str:
        return f"BOM {self.product_id} v{self.version}"


class BomComponent(models.Model):
    bom = models.ForeignKey(
        BillOfMaterials, on_delete=models.CASCADE, related_name="components", db_index=False
    )
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="used_in", db_index=False)
    quantity = QuantityField(help_text="per the BOM's output quantity, in `unit`")
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    factor = QuantityField(default=1, help_text="stock units of the component per `unit`")
    scrap_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bom", "product"], name="mfg_component_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="mfg_component_qty_pos"),
            models.CheckConstraint(condition=Q(factor__gt=0), name="mfg_component_factor_pos"),
            models.CheckConstraint(
                condition=Q(scrap_percent__gte=0, scrap_percent__lt=100), name="mfg_component_scrap_range"
            ),
        ]
        indexes = [models.Index(fields=["product"], name="mfg_component_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit_id} × {self.product_id}"

    def stock_quantity_per_output(self) -> Decimal:
        """Stock units consumed per one unit of output, scrap included."""
        return self.quantity * self.factor * (1 + self.scrap_percent / 100) / self.bom.output_quantity


class BomOperation(models.Model):
    bom = models.ForeignKey(BillOfMaterials, on_delete=models.CASCADE, related_name="operations")
    sequence = models.PositiveIntegerField(default=10)
    name = models.CharField(max_length=100)
    work_centre = models.ForeignKey(WorkCentre, on_delete=models.PROTECT, related_name="operations")
    minutes_per_unit = models.DecimalField(max_digits=10, decimal_places=3)
    cost_per_hour = MoneyField(help_text="defaults to the work centre's")

    class Meta:
        ordering = ["sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(minutes_per_unit__gte=0), name="mfg_operation_minutes_nonneg"),
            models.CheckConstraint(condition=Q(cost_per_hour__gte=0), name="mfg_operation_cost_nonneg"),
        ]

    def __str__(self) -> str:
        return self.name


class MOStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class ManufacturingOrder(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="manufacturing_orders", db_index=False
    )
    bom = models.ForeignKey(BillOfMaterials, on_delete=models.PROTECT, related_name="orders")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="manufacturing_orders")
    quantity = QuantityField()
    quantity_produced = QuantityField(default=0)
    status = models.CharField(max_length=12, choices=MOStatus.choices, default=MOStatus.DRAFT)
    planned_start = models.DateField()
    planned_finish = models.DateField()
    produced_cost = MoneyField(default=0, help_text="total cost put into the output so far")
    notes = models.TextField(blank=True)
    history = audit_history()

    class Meta:
        ordering = ["-planned_start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="mfg_mo_quantity_pos"),
            models.CheckConstraint(condition=Q(quantity_produced__gte=0), name="mfg_mo_produced_nonneg"),
            models.CheckConstraint(
                condition=Q(planned_finish__gte=F("planned_start")), name="mfg_mo_dates_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "planned_start"], name="mfg_mo_status_idx"),
            models.Index(fields=["product", "status"], name="mfg_mo_product_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class MOComponent(models.Model):
    """A component line of a manufacturing order, in stock units for the whole order (scrap included)."""

    order = models.ForeignKey(
        ManufacturingOrder, on_delete=models.CASCADE, related_name="components", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity_required = QuantityField()
    quantity_consumed = QuantityField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="mfg_mo_component_unique"),
            models.CheckConstraint(condition=Q(quantity_required__gt=0), name="mfg_mo_component_qty_pos"),
        ]
        indexes = [models.Index(fields=["product", "order"], name="mfg_mo_component_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity_required} × {self.product_id}"


class MrpRun(models.Model):
    started_at = models.DateTimeField()
    horizon = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"MRP {self.started_at:%Y-%m-%d %H:%M} to {self.horizon}"


class SuggestionKind(models.TextChoices):
    MAKE = "make", "Make (manufacturing order)"
    BUY = "buy", "Buy (purchase order)"


class MrpSuggestion(models.Model):
    run = models.ForeignKey(MrpRun, on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(max_length=4, choices=SuggestionKind.choices)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    quantity = QuantityField(help_text="in stock units")
    due_date = models.DateField()
    release_date = models.DateField(help_text="due date less the lead time: when to order or start")
    level = models.PositiveIntegerField(help_text="low-level code of the product")
    supplier_item = models.ForeignKey(
        "procurement.SupplierItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    covers = models.JSONField(
        default=list, help_text="the demands it covers, each with its date and quantity"
    )
    converted_to = models.CharField(max_length=40, blank=True, help_text="MO-... or PO-... once converted")

    class Meta:
        ordering = ["level", "release_date", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} of {self.product_id} by {self.due_date}"
