"""Suppliers, what they sell us, and purchase orders."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models import AuditedModel, audit_history
from erp.money import CurrencyField, MoneyField, QuantityField
from inventory.models import Product, UnitOfMeasure, Warehouse


class Supplier(AuditedModel):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    currency = CurrencyField(default="USD")
    payment_terms_days = models.PositiveIntegerField(default=30)
    lead_time_days = models.PositiveIntegerField(default=7, help_text="default for its items")
    address = models.TextField(blank=True)
    tax_id = models.CharField("tax id", max_length=40, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    history = audit_history()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="proc_supplier_name_idx")]

    def __str__(self) -> str:
        return self.name


class SupplierContact(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierItem(AuditedModel):
    """A product as one supplier sells it: their SKU, unit, price, minimum and lead time."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="items", db_index=False)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="supplier_items", db_index=False
    )
    supplier_sku = models.CharField(max_length=64, blank=True)
    purchase_unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    factor = QuantityField(default=1, help_text="stock units in one purchase unit (a box of 12: 12)")
    unit_price = MoneyField(help_text="per purchase unit, in the supplier's currency")
    min_order_quantity = QuantityField(default=0, help_text="in purchase units")
    lead_time_days = models.PositiveIntegerField(null=True, blank=True, help_text="empty: the supplier's")
    is_preferred = models.BooleanField(default=False)
    history = audit_history()

    class Meta:
        ordering = ["supplier__name", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="proc_supplier_item_unique"),
            models.UniqueConstraint(
                fields=["product"], condition=Q(is_preferred=True), name="proc_supplier_item_one_preferred"
            ),
            models.CheckConstraint(condition=Q(factor__gt=0), name="proc_supplier_item_factor_pos"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="proc_supplier_item_price_nonneg"),
            models.CheckConstraint(
                condition=Q(min_order_quantity__gte=0), name="proc_supplier_item_moq_nonneg"
            ),
        ]
        indexes = [models.Index(fields=["product", "is_preferred"], name="proc_supplier_item_product_idx")]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.supplier_sku or self.product_id}"

    @property
    def effective_lead_time(self) -> int:
        return self.lead_time_days if self.lead_time_days is not None else self.supplier.lead_time_days


class PriceBreak(models.Model):
    """From this quantity (in purchase units) on, this price per purchase unit."""

    item = models.ForeignKey(
        SupplierItem, on_delete=models.CASCADE, related_name="price_breaks", db_index=False
    )
    min_quantity = QuantityField()
    unit_price = MoneyField()

    class Meta:
        ordering = ["min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["item", "min_quantity"], name="proc_price_break_unique"),
            models.CheckConstraint(condition=Q(min_quantity__gt=0), name="proc_price_break_qty_pos"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="proc_price_break_price_nonneg"),
        ]

    def __str__(self) -> str:
        return f"≥ {self.min_quantity}: {self.unit_price}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False
    )
    status = models.CharField(
        max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    currency = CurrencyField()
    order_date = models.DateField()
    expected_date = models.DateField(null=True, blank=True)
    subtotal = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    history = audit_history()

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="proc_po_total_nonneg")]
        indexes = [
            models.Index(fields=["status", "expected_date"], name="proc_po_status_idx"),
            models.Index(fields=["supplier", "order_date"], name="proc_po_supplier_idx"),
            models.Index(fields=["warehouse", "status"], name="proc_po_warehouse_idx"),
            models.Index(fields=["-order_date", "-id"], name="proc_po_order_date_idx"),
            models.Index(fields=["expected_date"], name="proc_po_expected_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="purchase_lines", db_index=False
    )
    supplier_item = models.ForeignKey(
        SupplierItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(max_length=255, blank=True)
    purchase_unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    factor = QuantityField(default=1, help_text="stock units per purchase unit, fixed when ordered")
    quantity = QuantityField(help_text="in purchase units")
    unit_cost = MoneyField(help_text="per purchase unit")
    tax_rate = models.DecimalField(max_digits=7, decimal_places=6, default=0)
    line_subtotal = MoneyField(default=0)
    tax_amount = MoneyField(default=0)
    line_total = MoneyField(default=0)
    quantity_received = QuantityField(default=0, help_text="in purchase units")
    quantity_billed = QuantityField(default=0, help_text="in purchase units")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="proc_po_line_qty_pos"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="proc_po_line_cost_nonneg"),
            models.CheckConstraint(condition=Q(factor__gt=0), name="proc_po_line_factor_pos"),
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0), name="proc_po_line_received_nonneg"
            ),
            models.CheckConstraint(condition=Q(quantity_billed__gte=0), name="proc_po_line_billed_nonneg"),
        ]
        indexes = [models.Index(fields=["product", "order"], name="proc_po_line_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} {self.purchase_unit_id} × {self.product_id}"

    @property
    def open_quantity(self) -> Decimal:
        return max(self.quantity - self.quantity_received, Decimal(0))
