"""Receipts against purchase orders, supplier bills with their three-way match, and payments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models import AuditedModel, audit_history
from erp.money import CurrencyField, MoneyField, QuantityField
from inventory.models import Location
from procurement.models.purchasing import PurchaseOrder, PurchaseOrderLine, Supplier


class Receipt(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receipts")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["-received_at", "-id"], name="proc_receipt_received_idx")]

    def __str__(self) -> str:
        return self.number


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines")
    quantity = QuantityField(help_text="in purchase units")
    lot_code = models.CharField(max_length=64, blank=True)
    expiry_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="proc_receipt_line_qty_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class BillStatus(models.TextChoices):
    NEEDS_REVIEW = "needs_review", "Needs review (match failed)"
    OPEN = "open", "Open"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Bill(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="bills", db_index=False)
    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="bills")
    supplier_reference = models.CharField(max_length=64, help_text="the supplier's invoice number")
    status = models.CharField(max_length=16, choices=BillStatus.choices, default=BillStatus.OPEN)
    currency = CurrencyField()
    bill_date = models.DateField()
    due_date = models.DateField()
    subtotal = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    amount_paid = MoneyField(default=0)
    match_ok = models.BooleanField(default=True)
    match_issues = models.JSONField(default=list, blank=True, help_text="what the three-way match flagged")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    history = audit_history()

    class Meta:
        ordering = ["-bill_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "supplier_reference"], name="proc_bill_supplier_ref_unique"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="proc_bill_total_nonneg"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="proc_bill_paid_nonneg"),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="proc_bill_status_due_idx"),
            models.Index(fields=["-bill_date", "-id"], name="proc_bill_date_idx"),
            models.Index(fields=["status"], condition=Q(match_ok=False), name="proc_bill_mismatch_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid


class BillLine(models.Model):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="bill_lines")
    quantity = QuantityField(help_text="in purchase units")
    unit_cost = MoneyField(help_text="as billed, per purchase unit")
    subtotal = MoneyField(default=0)
    tax_amount = MoneyField(default=0)
    total = MoneyField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="proc_bill_line_qty_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.unit_cost}"


class SupplierPayment(AuditedModel):
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField()
    paid_at = models.DateField()
    method = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="proc_payment_amount_pos")]
        indexes = [models.Index(fields=["-paid_at", "-id"], name="proc_payment_paid_idx")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.bill_id}"
