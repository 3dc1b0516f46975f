"""Products in: see the package's doc."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone

from erp.money import ZERO
from integrations.appliers.refs import PRODUCT, SKU, VARIANT, Applied, claim, ct, is_stale, link, refs
from integrations.canonical import content_hash
from integrations.contract import Action, InboundItem
from integrations.errors import MissingDependency
from integrations.models import Connection, SyncRun
from integrations.records import ProductRecord
from inventory.models import Barcode, Product
from inventory.services import product_create


def apply_product(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    record = item.record
    if item.action == Action.DELETE or record is None:
        return Applied(PRODUCT, item.external_id, "skipped", "deleted in the tool: products here are kept")
    if not isinstance(record, ProductRecord):
        raise ValueError(f"A product item carries a {type(record).__name__}.")
    ref, claimed = claim(connection, PRODUCT, record.external_id, Product)
    updated_at = item.updated_at or record.updated_at
    if not claimed:
        if is_stale(ref, updated_at):
            return Applied(PRODUCT, record.external_id, "skipped", "stale", ref.object_id)
        if ref.content_hash == content_hash(record):
            return Applied(PRODUCT, record.external_id, "skipped", "unchanged", ref.object_id)
    currency = connection.sales_channel.currency if connection.sales_channel else "USD"
    created, linked, changed, first = 0, 0, 0, None
    for variant in record.variants:
        vref, new = claim(connection, VARIANT, variant.external_id, Product)
        if new:
            if not variant.sku:
                raise MissingDependency(
                    f"Variant {variant.external_id} of {record.title!r} has no SKU: give it one in the tool "
                    "or map it to a product.",
                    kind="variant",
                    value=variant.external_id,
                )
            product, made = _product_for(connection, record, variant.sku, variant, currency)
            created, linked = created + made, linked + (not made)
            vref.object_id, vref.extra = product.pk, dict(variant.extra)
            vref.save(update_fields=["object_id", "extra"])
        else:
            product = Product.objects.get(pk=vref.object_id)
            if any(vref.extra.get(k) != v for k, v in variant.extra.items()):
                vref.extra = {**vref.extra, **dict(variant.extra)}
                vref.save(update_fields=["extra"])
                changed += 1
        if variant.sku:
            link(connection, SKU, variant.sku, product)
        first = first or product
    if first is None:
        raise ValueError(f"Product {record.external_id} has no variants.")
    ref.content_type, ref.object_id = ct(Product), first.pk
    if ref.external_updated_at is None or (updated_at and updated_at > ref.external_updated_at):
        ref.external_updated_at = updated_at
    ref.content_hash = content_hash(record)
    ref.extra = {"variants": [v.external_id for v in record.variants]}
    ref.synced_at = timezone.now()
    ref.save()
    outcome = "created" if claimed else ("updated" if created or linked or changed else "skipped")
    reason = f"{len(record.variants)} variant(s): {created} product(s) created, {linked} linked"
    return Applied(PRODUCT, record.external_id, outcome, reason, first.pk, first.sku)


def _product_for(
    connection: Connection, record: ProductRecord, sku: str, variant: Any, currency: str
) -> tuple[Product, bool]:
    """(product, created): mapped SKU, else the product with the SKU, else a new one."""
    mapped = refs(connection, SKU).filter(external_id=sku, content_type=ct(Product)).first()
    if mapped is not None:
        return Product.objects.get(pk=mapped.object_id), False
    existing = Product.objects.annotate(sku_lower=Lower("sku")).filter(sku_lower=sku.lower()).first()
    if existing is not None:
        return existing, False
    barcodes = (
        [variant.barcode]
        if variant.barcode and not Barcode.objects.filter(code=variant.barcode).exists()
        else []
    )
    product = product_create(
        sku=sku,
        name=(variant.title or record.title or sku)[:200],
        description=record.description,
        sale_price=variant.price if variant.price is not None else ZERO,
        currency=currency,
        barcodes=barcodes,
    )
    return product, True
