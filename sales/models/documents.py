"""What follows an order: shipments, invoices and credit notes, payments, returns and refunds."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from erp.models import AuditedModel, audit_history
from erp.money import CurrencyField, MoneyField, QuantityField
from sales.models.orders import Customer, OrderLine, SalesOrder


class Shipment(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="shipments", db_index=False)
    carrier = models.CharField(max_length=60, blank=True)
    service = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField()

    class Meta:
        ordering = ["-shipped_at", "-id"]
        indexes = [
            models.Index(fields=["tracking_number"], name="sales_shipment_tracking_idx"),
            # an order's first shipment (the home's on-time chart)
            models.Index(fields=["order", "shipped_at"], name="sales_shipment_order_time_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = QuantityField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_shipment_line_qty_pos")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(AuditedModel):
    """An invoice or, with kind=credit_note, a credit note (amounts positive, meaning money back)."""

    number = models.CharField(
        max_length=20, unique=True, null=True, blank=True, help_text="given when issued"
    )
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices", db_index=False)
    credit_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = CurrencyField()
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    subtotal = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    amount_paid = MoneyField(default=0)
    billing_address = models.JSONField(default=dict, blank=True)
    history = audit_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="sales_invoice_total_nonneg"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_paid__lte=F("total")),
                name="sales_invoice_paid_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="sales_invoice_status_due_idx"),
            models.Index(fields=["customer", "status"], name="sales_invoice_customer_idx"),
            # The open invoices (issued, part paid) with what receivables and their ageing sum: the
            # homes read them from the index alone, however many invoices were paid before.
            models.Index(
                fields=["currency"],
                include=["id", "due_date", "total", "amount_paid"],
                condition=Q(kind="invoice", status__in=["issued", "partially_paid"]),
                name="sales_invoice_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft invoice {self.pk}"

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    description = models.CharField(max_length=255)
    quantity = QuantityField()
    unit_price = MoneyField()
    discount_amount = MoneyField(default=0)
    subtotal = MoneyField(default=0)
    tax_amount = MoneyField(default=0)
    total = MoneyField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_invoice_line_qty_pos")]

    def __str__(self) -> str:
        return self.description


class Payment(AuditedModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField()
    paid_at = models.DateField()
    method = models.CharField(max_length=40, blank=True, help_text="card, bank transfer, ...")
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sales_payment_amount_pos")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.invoice_id}"


class ReturnStatus(models.TextChoices):
    OPEN = "open", "Open"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class ReturnDisposition(models.TextChoices):
    RESTOCK = "restock", "Back into stock"
    SCRAP = "scrap", "Scrapped"


class SalesReturn(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(SalesOrder, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.OPEN)
    reason = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    credit_note = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="sales_return"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    sales_return = models.ForeignKey(SalesReturn, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = QuantityField()
    disposition = models.CharField(
        max_length=10, choices=ReturnDisposition.choices, default=ReturnDisposition.RESTOCK
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_return_line_qty_pos")]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class Refund(AuditedModel):
    sales_return = models.ForeignKey(
        SalesReturn, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    credit_note = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField()
    refunded_at = models.DateField()
    method = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-refunded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sales_refund_amount_pos")]

    def __str__(self) -> str:
        return f"refund {self.amount}"
