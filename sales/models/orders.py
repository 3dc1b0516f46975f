"""Customers, channels and sales orders."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from erp.models import AuditedModel, audit_history
from erp.money import CurrencyField, MoneyField, QuantityField
from inventory.models import Product, ProductKind, Warehouse


class CustomerKind(models.TextChoices):
    COMPANY = "company", "Company"
    PERSON = "person", "Person"


class PaymentTerms(models.TextChoices):
    PREPAID = "prepaid", "Prepaid"
    DUE_ON_RECEIPT = "due_on_receipt", "Due on receipt"
    NET_15 = "net_15", "Net 15"
    NET_30 = "net_30", "Net 30"
    NET_60 = "net_60", "Net 60"

    @property
    def days(self) -> int:
        return {"prepaid": 0, "due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_60": 60}[self.value]


class Customer(AuditedModel):
    code = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=10, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField("tax id", max_length=40, blank=True)
    tax_exempt = models.BooleanField(default=False)
    currency = CurrencyField(default="USD")
    payment_terms = models.CharField(max_length=20, choices=PaymentTerms.choices, default=PaymentTerms.NET_30)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    history = audit_history()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"], name="sales_customer_name_idx"),
            models.Index(fields=["email"], name="sales_customer_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    class Kind(models.TextChoices):
        BILLING = "billing", "Billing"
        SHIPPING = "shipping", "Shipping"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="recipient")
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(is_default=True), name="sales_address_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.city} {self.country}"

    def snapshot(self) -> dict[str, str]:
        return {
            "name": self.name,
            "company": self.company,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
            "phone": self.phone,
        }


class ChannelKind(models.TextChoices):
    WEB_STORE = "web_store", "Web store"
    MARKETPLACE = "marketplace", "Marketplace"
    WHOLESALE = "wholesale", "Wholesale"
    POINT_OF_SALE = "pos", "Point of sale"
    MANUAL = "manual", "Manual"


class InvoicePolicy(models.TextChoices):
    ORDERED = "ordered", "Invoice ordered quantities"
    SHIPPED = "shipped", "Invoice shipped quantities"


class SalesChannel(AuditedModel):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=ChannelKind.choices, default=ChannelKind.MANUAL)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="sales_channels")
    currency = CurrencyField(default="USD")
    prices_include_tax = models.BooleanField(default=False)
    invoice_policy = models.CharField(
        max_length=10, choices=InvoicePolicy.choices, default=InvoicePolicy.SHIPPED
    )
    is_active = models.BooleanField(default=True)
    history = audit_history()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONFIRMED = "confirmed", "Confirmed"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    CLOSED = "closed", "Closed"
    ON_HOLD = "on_hold", "On hold"
    CANCELLED = "cancelled", "Cancelled"


class SalesOrder(AuditedModel):
    number = models.CharField(max_length=20, unique=True)
    # Found by the (channel, order_date) and (customer, order_date) indexes below: an index of
    # their own would only be written to.
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="orders", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", db_index=False)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    held_from = models.CharField(
        max_length=20, choices=OrderStatus.choices, blank=True, help_text="status before hold"
    )
    order_date = models.DateTimeField()
    currency = CurrencyField()
    prices_include_tax = models.BooleanField(default=False)
    billing_address = models.JSONField(default=dict, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    shipping_amount = MoneyField(default=0)
    shipping_method = models.CharField(
        max_length=100, blank=True, help_text="the shipping the customer chose (the channel's shipping line)"
    )
    shipping_tax_rate = models.DecimalField(max_digits=7, decimal_places=6, default=0)
    order_discount = MoneyField(default=0, help_text="an amount off the whole order, before tax")
    subtotal = MoneyField(default=0, help_text="lines after line discounts, before tax")
    discount_total = MoneyField(default=0, help_text="line discounts and the order discount")
    tax_total = MoneyField(default=0)
    shipping_total = MoneyField(default=0, help_text="shipping with its tax")
    total = MoneyField(default=0)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    external_reference = models.CharField(
        max_length=100, blank=True, help_text="the order's number in its channel"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    history = audit_history()

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="sales_order_total_nonneg"),
            models.CheckConstraint(condition=Q(shipping_amount__gte=0), name="sales_order_shipping_nonneg"),
            models.CheckConstraint(condition=Q(order_discount__gte=0), name="sales_order_discount_nonneg"),
        ]
        indexes = [
            models.Index(fields=["status", "order_date"], name="sales_order_status_date_idx"),
            models.Index(fields=["channel", "order_date"], name="sales_order_channel_date_idx"),
            models.Index(fields=["customer", "order_date"], name="sales_order_customer_date_idx"),
            # By date, carrying what the homes' sales figures sum and group (index-only scans).
            models.Index(
                fields=["order_date"],
                include=["id", "status", "currency", "channel", "customer", "total"],
                name="sales_order_date_cov_idx",
            ),
            models.Index(fields=["external_reference"], name="sales_order_extref_idx"),
            # The home's on-time chart reads 8 weeks of confirmed orders from the index alone.
            models.Index(
                fields=["confirmed_at"], include=["id", "status"], name="sales_order_confirmed_cov_idx"
            ),
            # The orders to ship, and of them the late ones, whatever the history (the homes' figures).
            models.Index(
                fields=["order_date"],
                include=["id"],
                condition=Q(status__in=["confirmed", "partially_shipped"]),
                name="sales_order_to_ship_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class FulfilledBy(models.TextChoices):
    """Who ships a line: the merchant, from our stock, or the marketplace it was sold on, from its own
    (Amazon FBA). A marketplace line is sold and invoiced here but never reserves or issues our stock."""

    MERCHANT = "merchant", "Merchant"
    MARKETPLACE = "marketplace", "Marketplace"


class OrderLine(models.Model):
    # The lines that take stock of ours, for set reads (demand, backorders, MRP): the queryset twin
    # of ``uses_our_stock``, so that a list and a line never disagree.
    USES_OUR_STOCK = Q(product__kind=ProductKind.STOCKED, fulfilled_by=FulfilledBy.MERCHANT)

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(  # found by the (product, order) index below
        Product, on_delete=models.PROTECT, related_name="sales_lines", db_index=False
    )
    description = models.CharField(max_length=255, blank=True)
    quantity = QuantityField()
    unit_price = MoneyField()
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    discount_amount = MoneyField(default=0, help_text="line discount, rounded to the currency")
    line_subtotal = MoneyField(default=0, help_text="quantity x price - discount, before tax (net)")
    tax_amount = MoneyField(default=0)
    line_total = MoneyField(default=0, help_text="with tax")
    quantity_shipped = QuantityField(default=0)
    quantity_invoiced = QuantityField(default=0)
    quantity_returned = QuantityField(default=0)
    fulfilled_by = models.CharField(
        max_length=12,
        choices=FulfilledBy.choices,
        default=FulfilledBy.MERCHANT,
        help_text="marketplace: shipped by the marketplace from its own stock (Amazon FBA), none of ours",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_pos"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_line_price_nonneg"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="sales_line_discount_pct",
            ),
            models.CheckConstraint(
                condition=Q(quantity_shipped__gte=0, quantity_shipped__lte=F("quantity")),
                name="sales_line_shipped_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__gte=0, quantity_returned__lte=F("quantity_shipped")),
                name="sales_line_returned_within_shipped",
            ),
            models.CheckConstraint(condition=Q(quantity_invoiced__gte=0), name="sales_line_invoiced_nonneg"),
        ]
        indexes = [
            models.Index(fields=["product", "order"], name="sales_line_product_idx"),
            # The open lines (not all shipped), a set that does not grow with the history: what the
            # homes' backorders and ready-to-ship figures and the unreserved demand read.
            models.Index(
                fields=["order"],
                include=["id", "product", "quantity", "quantity_shipped", "fulfilled_by"],
                condition=Q(quantity__gt=F("quantity_shipped")),
                name="sales_line_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def open_quantity(self) -> Decimal:
        """Ordered and not shipped yet."""
        return self.quantity - self.quantity_shipped

    @property
    def fulfilled_by_marketplace(self) -> bool:
        """The marketplace ships it from its own stock: no shipping tool of ours is to ship it."""
        return self.fulfilled_by == FulfilledBy.MARKETPLACE

    @property
    def uses_our_stock(self) -> bool:
        """The line reserves, backorders and issues our stock: a stocked product the merchant ships.

        Every question "does this sales line touch stock?" asks this (``USES_OUR_STOCK`` for sets),
        never ``product.is_stocked`` alone, which misses lines the marketplace fulfils.
        """
        return self.product.is_stocked and not self.fulfilled_by_marketplace


class OrderLineTax(models.Model):
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="taxes")
    name = models.CharField(max_length=60)
    rate = models.DecimalField(max_digits=7, decimal_places=6, help_text="0.2 for 20 %")
    amount = MoneyField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(rate__gte=0), name="sales_line_tax_rate_nonneg")]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}"
