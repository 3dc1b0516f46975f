"""Products, their units and variants, product templates, and the bulk endpoints (products upserted
by SKU, counted stock levels set), which are registered between ``/products`` and
``/products/{product_id}`` as they always were: the first matching path wins."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Status
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, no_nulls, user_of
from erp.concurrency import if_match_param, locked_for_update
from erp.exceptions import NotFound, ValidationFailed
from erp.models import Job
from erp.pagination import KeysetPagination
from erp.patching import answer_with_etag
from inventory import jobs, selectors, services
from inventory.api.common import PAGE_SIZE, product_by_id, router, warehouse_filter
from inventory.filters import ProductFilter
from inventory.models import Category, Product
from inventory.schemas.bulk import (
    BulkJobOut,
    CountedLevelsIn,
    CountedLevelsOut,
    ProductBulkUpsertIn,
    ProductBulkUpsertOut,
)
from inventory.schemas.products import (
    PRODUCT_ORDERING,
    ProductDetailOut,
    ProductFilterIn,
    ProductIn,
    ProductLookupOut,
    ProductOut,
    ProductPatchIn,
    ProductTemplateIn,
    ProductTemplateOut,
    ProductUnitIn,
    ProductUnitOut,
    VariantFilterIn,
    VariantOut,
)
from inventory.services.bulk import MAX_BATCH

PRODUCTS = Listing(ordering=PRODUCT_ORDERING)


@dataclass(frozen=True)
class ProductDetail(Shown[Product]):
    """A product as ProductDetailOut reads it, with its availability per warehouse and over all."""

    availability: list[dict[str, Any]]  # as WarehouseAvailabilityOut reads each
    on_hand: Decimal
    reserved: Decimal


def _product_detail(pk: int) -> ProductDetail:
    """A product as ProductDetailOut reads it: related rows prefetched, availability computed with the
    product page's selector."""
    try:
        product = selectors.product_detail(pk)
    except Product.DoesNotExist:
        raise NotFound(f"No product with id {pk}.") from None
    found = selectors.product_availability(pk)
    rows = [
        {
            "warehouse": warehouse.pk,
            "warehouse_code": warehouse.code,
            "on_hand": a.on_hand,
            "reserved": a.reserved,
            "available": a.available,
            "incoming": a.incoming,
            "outgoing": a.outgoing,
            "projected": a.projected,
        }
        for warehouse, a in found.per_warehouse
    ]
    return ProductDetail(
        obj=product, availability=rows, on_hand=found.total.on_hand, reserved=found.total.reserved
    )


@router.get("/products", response=list[ProductOut])
@paginate(
    KeysetPagination, page_size=PAGE_SIZE, rows=ProductOut, attach={"barcodes": selectors.attach_barcodes}
)
def product_list(request: HttpRequest, filters: Query[ProductFilterIn]) -> QuerySet[Product]:
    """Products with on hand, reserved and available over the stock bins (of one warehouse with
    ``warehouse``). ``q`` matches a SKU prefix, an exact barcode or part of the name."""
    queryset = selectors.product_list(warehouse_id=warehouse_filter(filters.warehouse))
    return filtered(ProductFilter, filters, queryset, listing=PRODUCTS, exclude={"warehouse"})


@router.post("/products", response={201: ProductDetailOut})
def product_create(request: HttpRequest, payload: ProductIn) -> ProductDetail:
    """A product (a SKU). SKUs are unique ignoring case."""
    data = payload.model_dump()
    category_id = data.pop("category")
    category = (
        get_or_404(Category, category_id, "category", field="category") if category_id is not None else None
    )
    product = services.product_create(**data, category=category, user=user_of(request))
    return _product_detail(product.pk)


# Before /products/{product_id}: the first matching path wins.
@router.post("/products/bulk-upsert", response={200: ProductBulkUpsertOut, 202: BulkJobOut})
def product_bulk_upsert(request: HttpRequest, payload: ProductBulkUpsertIn) -> Any:
    """Create or update many products by SKU (any case) in one transaction, validated as a whole:
    when any item is refused the answer is 422 with errors per item (``items.3.sku``) and nothing
    is written. Fields left out of an item are left as they are; a new SKU needs a ``name``.

    Up to 5,000 items are done in the request; more (up to 50,000) are accepted as a background
    job: 202 with its ``url`` to follow."""
    items = [
        services.ProductUpsert(
            sku=item.sku,
            values={
                name: value.strip() if isinstance(value, str) and name != "description" else value
                for name, value in item.model_dump(
                    exclude_unset=True, exclude={"sku", "barcodes", "is_active"}
                ).items()
            },
            barcodes=item.barcodes,
            is_active=item.is_active,
        )
        for item in payload.items
    ]
    nulls = {
        f"items.{index}.{name}": ["Cannot be null."]
        for index, item in enumerate(items)
        for name, value in item.values.items()
        if value is None and name not in ("category", "weight")
    }
    if nulls:
        raise ValidationFailed(f"Cannot be null: {', '.join(nulls)}.", field_errors=nulls)
    if len(items) > MAX_BATCH:
        job = jobs.bulk_job_start(jobs.UPSERT_KIND, user=user_of(request), params=jobs.upsert_params(items))
        return Status(202, _accepted(job))
    done = services.products_upsert(items=items, user=user_of(request))
    return {
        "created": [u.sku for u in done if u.action == "created"],
        "updated": [u.sku for u in done if u.action == "updated"],
        "unchanged": [u.sku for u in done if u.action == "unchanged"],
        "items": [{"index": u.index, "sku": u.sku, "id": u.product.pk, "action": u.action} for u in done],
    }


def _accepted(job: Job) -> dict[str, Any]:
    return {"id": job.pk, "kind": job.kind, "state": job.state, "url": f"/api/v1/jobs/{job.pk}"}


@router.post("/stock/counted-levels", response={200: CountedLevelsOut, 202: BulkJobOut})
def stock_counted_levels(request: HttpRequest, payload: CountedLevelsIn) -> Any:
    """Set the on-hand quantity of many (SKU, bin[, lot]) to what was counted, in one transaction,
    validated as a whole (422 with errors per item, nothing written). Each difference is booked as a
    count move to or from the adjustment location, so the ledger explains every unit; the moves share
    the document ``inventory.stockcount`` / ``batch``.

    Up to 5,000 items are done in the request; more (up to 50,000) are accepted as a background
    job: 202 with its ``url`` to follow."""
    items = [
        services.CountedLevel(
            sku=item.sku,
            counted=item.counted,
            location=item.location,
            location_path=item.location_path or "",
            lot=item.lot or "",
            expiry_date=item.expiry_date,
        )
        for item in payload.items
    ]
    if len(items) > MAX_BATCH:
        params = jobs.counted_params(items, reference=payload.reference, reason=payload.reason)
        job = jobs.bulk_job_start(jobs.COUNTED_KIND, user=user_of(request), params=params)
        return Status(202, _accepted(job))
    return services.stock_levels_set_counted(
        items=items, reference=payload.reference, reason=payload.reason, user=user_of(request)
    )


@router.get("/products/lookup", response=ProductLookupOut)
def product_lookup(request: HttpRequest, code: str) -> dict[str, Any]:
    """What a scanner read: an exact barcode (maybe of a box: then the unit and its factor) or SKU."""
    found = selectors.product_by_code(code)
    if found is None:
        raise NotFound(f"No product has the barcode or SKU '{code.strip()}'.")
    product, barcode = found
    unit = barcode.unit if barcode is not None else None
    return {
        "code": code.strip(),
        "matched": "barcode" if barcode is not None else "sku",
        "product": selectors.product_list().get(pk=product.pk),
        "unit": unit.unit.code if unit is not None else product.stock_unit.code,
        "factor": unit.factor if unit is not None else Decimal(1),
    }


@router.get("/products/{product_id}", response=ProductDetailOut)
def product_detail(request: HttpRequest, product_id: int, response: HttpResponse) -> ProductDetail:
    """A product with its units, attribute values, reorder rules and availability per warehouse
    (on hand, reserved, available, incoming, outgoing, projected). The ``ETag`` header names its
    version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, _product_detail(product_id))


@router.patch("/products/{product_id}", response=ProductDetailOut)
def product_update(
    request: HttpRequest,
    product_id: int,
    payload: ProductPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> ProductDetail:
    """Change the fields sent. ``barcodes`` replaces the product's own (not its units') barcodes.
    With ``If-Match``: 412 when the product changed since it was read."""
    changes = payload.model_dump(exclude_unset=True)
    no_nulls(changes, nullable={"category", "weight"})
    barcodes = changes.pop("barcodes", None)
    if changes.get("category") is not None:
        changes["category"] = get_or_404(Category, changes["category"], "category", field="category")
    with locked_for_update(Product, product_id, what="product", if_match=if_match) as product:
        services.product_update(product=product, user=user_of(request), barcodes=barcodes, **changes)
    return answer_with_etag(response, _product_detail(product_id))


@router.post("/products/{product_id}/archive", response=ProductDetailOut)
def product_archive(request: HttpRequest, product_id: int) -> ProductDetail:
    """Archive a product: hidden from pickers, its history kept."""
    services.product_archive(product=product_by_id(product_id, field=None), user=user_of(request))
    return _product_detail(product_id)


@router.post("/products/{product_id}/restore", response=ProductDetailOut)
def product_restore(request: HttpRequest, product_id: int) -> ProductDetail:
    services.product_archive(
        product=product_by_id(product_id, field=None), user=user_of(request), active=True
    )
    return _product_detail(product_id)


@router.post("/products/{product_id}/units", response={201: ProductUnitOut})
def product_unit_set(request: HttpRequest, product_id: int, payload: ProductUnitIn) -> Any:
    """Add (or change) an alternative unit: 1 ``unit`` = ``factor`` stock units, maybe with a barcode."""
    product = product_by_id(product_id, field=None)
    return services.product_unit_set(
        product=product, unit=payload.unit, factor=payload.factor, barcode=payload.barcode
    )


@router.get("/products/{product_id}/variants", response=list[VariantOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def product_variants(
    request: HttpRequest, product_id: int, filters: Query[VariantFilterIn]
) -> QuerySet[Product]:
    """The variants of the product's template (the product included); empty without a template."""
    product = product_by_id(product_id, field=None)
    variants = selectors.product_list().prefetch_related("attribute_values__attribute")
    if product.template_id is None:
        return variants.none()
    return PRODUCTS.apply(variants.filter(template_id=product.template_id), filters)


@router.post("/product-templates", response={201: ProductTemplateOut})
def product_template_create(request: HttpRequest, payload: ProductTemplateIn) -> dict[str, Any]:
    """A template and one variant (a product with its own SKU) per combination of attribute values:
    ``{"Size": ["S", "M"], "Colour": ["Red"]}`` makes PREFIX-S-RED and PREFIX-M-RED."""
    data = payload.model_dump()
    category_id = data.pop("category")
    category = (
        get_or_404(Category, category_id, "category", field="category") if category_id is not None else None
    )
    template = services.product_template_create(**data, category=category, user=user_of(request))
    variants = (
        selectors.product_list()
        .prefetch_related("attribute_values__attribute")
        .filter(template=template)
        .order_by("pk")
    )
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "category_id": template.category_id,
        "attributes": [a.name for a in template.attributes.order_by("pk")],
        "variants": list(variants),
    }
