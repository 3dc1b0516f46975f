"""The products of an order record's lines, resolved the one way for a new order and for the lines
an edit adds (see the package's doc): ExternalRef("variant"), then ExternalRef("sku"), then an
active product with that SKU (any case); a line that resolves to none is a MissingDependency."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models.functions import Lower

from integrations.appliers.refs import SKU, VARIANT, ct, link, refs
from integrations.errors import MissingDependency
from integrations.models import Connection
from integrations.records import OrderLineRecord, OrderRecord
from inventory.models import Product


def line_products(
    connection: Connection, record: OrderRecord, lines: Sequence[tuple[int, OrderLineRecord]]
) -> list[Product]:
    """The product of each (position, line) of ``record``, in order; MissingDependency for the first
    that resolves to none. A variant found by its SKU is linked (ExternalRef("variant"))."""
    variant_ids = [ln.variant_external_id for _, ln in lines if ln.variant_external_id]
    skus = [ln.sku for _, ln in lines if ln.sku]
    product_ct = ct(Product)
    by_variant = dict(
        refs(connection, VARIANT)
        .filter(external_id__in=variant_ids, content_type=product_ct)
        .values_list("external_id", "object_id")
    )
    by_sku_ref = dict(
        refs(connection, SKU)
        .filter(external_id__in=skus, content_type=product_ct)
        .values_list("external_id", "object_id")
    )
    ids = set(by_variant.values()) | set(by_sku_ref.values())
    products = {p.pk: p for p in Product.objects.select_related("stock_unit").filter(pk__in=ids)}
    by_sku = {
        p.sku.lower(): p
        for p in Product.objects.select_related("stock_unit")
        .annotate(sku_lower=Lower("sku"))
        .filter(is_active=True, sku_lower__in=[s.lower() for s in skus])
    }
    resolved = []
    for position, line in lines:
        product = (
            products.get(by_variant.get(line.variant_external_id, 0))
            or products.get(by_sku_ref.get(line.sku, 0))
            or by_sku.get(line.sku.lower())
        )
        if product is None:
            what = f"SKU {line.sku!r}" if line.sku else f"variant {line.variant_external_id!r} (no SKU)"
            raise MissingDependency(
                f"Unknown {what} on line {position} ({line.title or 'untitled'}) of order {record.number}: "
                "map it to a product and the order is imported.",
                kind="sku" if line.sku else "variant",
                value=line.sku or line.variant_external_id,
            )
        if line.variant_external_id and line.variant_external_id not in by_variant:
            link(connection, VARIANT, line.variant_external_id, product)
        resolved.append(product)
    return resolved
