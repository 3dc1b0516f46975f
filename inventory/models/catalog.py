"""What is stocked: products (each variant its own SKU), templates, units, barcodes, lots."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from erp import formatting
from erp.models import AuditedModel, audit_history
from erp.money import CurrencyField, MoneyField, QuantityField


class UnitOfMeasure(models.Model):
    code = models.CharField(max_length=16, unique=True, help_text="pcs, kg, m, l, box")
    name = models.CharField(max_length=60)
    allows_fractions = models.BooleanField(default=False, help_text="kg and m do; pieces do not")

    class Meta:
        ordering = ["code"]
        verbose_name = "unit of measure"

    def __str__(self) -> str:
        return self.code


class Category(models.Model):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_index=False,
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="inv_category_unique_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="inv_category_unique_root"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Attribute(models.Model):
    """A dimension of variants: Size, Colour."""

    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeValue(models.Model):
    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="values", db_index=False)
    value = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attribute__name", "position", "value"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "value"], name="inv_attribute_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute.name}: {self.value}"


class ProductKind(models.TextChoices):
    STOCKED = "stocked", "Stocked"
    SERVICE = "service", "Non-stocked / service"


class Tracking(models.TextChoices):
    NONE = "none", "No tracking"
    LOT = "lot", "By lot"
    SERIAL = "serial", "By serial number"


class ProductTemplate(AuditedModel):
    """Groups variants (T-shirt → T-shirt / M / Blue); each variant is a Product with its own SKU."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    attributes = models.ManyToManyField(Attribute, blank=True, related_name="templates")
    is_active = models.BooleanField(default=True)
    history = audit_history(m2m_fields=[])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(AuditedModel):
    """A stock-keeping unit. Everything else (moves, lines, connectors) points at this."""

    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=ProductKind.choices, default=ProductKind.STOCKED)
    template = models.ForeignKey(
        ProductTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="variants"
    )
    attribute_values = models.ManyToManyField(AttributeValue, blank=True, related_name="products")
    stock_unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    weight = QuantityField(null=True, blank=True, help_text="kg per stock unit")
    sale_price = MoneyField(default=0)
    currency = CurrencyField(default="USD")
    average_cost = MoneyField(default=0, editable=False, help_text="moving average, per stock unit")
    tracking = models.CharField(max_length=10, choices=Tracking.choices, default=Tracking.NONE)
    is_active = models.BooleanField(default=True)
    history = audit_history(excluded_fields=["average_cost", "updated_at"], m2m_fields=[])

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(Lower("sku"), name="inv_product_sku_ci_unique"),
            models.CheckConstraint(condition=Q(sale_price__gte=0), name="inv_product_price_nonneg"),
            models.CheckConstraint(condition=Q(average_cost__gte=0), name="inv_product_cost_nonneg"),
            models.CheckConstraint(condition=~Q(sku=""), name="inv_product_sku_not_blank"),
        ]
        # One per sort and filter the lists offer, in the sort's order (the sku index serves the
        # default sort and its keyset; the SKU's unique constraint is the index of lower(sku)).
        # Text search: trigram indexes on UPPER(sku) and UPPER(name), migration 0003.
        indexes = [
            models.Index(fields=["sku", "id"], name="inv_product_sku_idx"),
            models.Index(fields=["name"], name="inv_product_name_idx"),
            models.Index(fields=["sale_price", "id"], name="inv_product_price_idx"),
            models.Index(fields=["is_active", "sku"], name="inv_product_active_sku_idx"),
            models.Index(fields=["category", "sku"], name="inv_product_category_idx"),
            models.Index(fields=["kind", "sku"], name="inv_product_kind_sku_idx"),
            models.Index(fields=["tracking", "sku"], name="inv_product_tracking_sku_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    @property
    def is_stocked(self) -> bool:
        return self.kind == ProductKind.STOCKED


class ProductUnit(models.Model):
    """An alternative unit of a product: 1 box = 12 pcs (factor 12, in stock units)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="units", db_index=False)
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    factor = QuantityField(help_text="stock units in one of this unit")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "unit"], name="inv_product_unit_unique"),
            models.CheckConstraint(condition=Q(factor__gt=0), name="inv_product_unit_factor_pos"),
        ]

    def __str__(self) -> str:
        return f"1 {self.unit} = {formatting.number(self.factor)} {self.product.stock_unit}"


class Barcode(models.Model):
    """A scannable code of a product; with a unit, one scan counts as that unit (a box)."""

    code = models.CharField(max_length=64, unique=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")
    unit = models.ForeignKey(
        ProductUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="barcodes"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Lot(models.Model):
    """A lot (with expiry) or, for serial-tracked products, one serial number."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots", db_index=False)
    code = models.CharField(max_length=64)
    expiry_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expiry_date", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="inv_lot_unique_per_product"),
        ]

    def __str__(self) -> str:
        return self.code
