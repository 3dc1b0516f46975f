"""Products and units as an API input names them: a product by its id or its SKU (one of the two),
a unit by its code, both in any case. For the apps above inventory (procurement's order lines and
supplier items, manufacturing's BOMs and orders), so that each says "unknown" the same way.

A request naming many products looks them all up at once (``products_by_id_and_sku``, at most
two queries), then reads each line's (``product_of``), collecting the errors per line; a request
naming one uses ``one_product``, a 422 on the field that is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol

from django.db.models.functions import Lower

from erp.exceptions import ValidationFailed
from erp.statements import Lookup
from inventory.models import Product, UnitOfMeasure


class ProductRef(Protocol):
    """An input naming a product: by id, or by SKU."""

    @property
    def product(self) -> int | None: ...

    @property
    def sku(self) -> str | None: ...


class ProductFound(NamedTuple):
    """What an input's product reference gave: the product, or the field that is wrong and why."""

    product: Product | None
    field: str  # "product" (the id, or neither/both given) or "sku"
    error: str  # empty when found


def units_by_code(codes: Iterable[str]) -> dict[str, UnitOfMeasure]:
    """Units by lower-case code (the codes matched in any case), in one query."""
    wanted = {c.strip().lower() for c in codes}
    if not wanted:
        return {}
    return {u.code.lower(): u for u in UnitOfMeasure.objects.annotate(lc=Lower("code")).filter(lc__in=wanted)}


def products_by_id_and_sku(
    ids: Iterable[int], skus: Iterable[str]
) -> tuple[dict[int, Product], dict[str, Product]]:
    """Products (with their stock unit) by id and by lower-case SKU (matched in any case), in at
    most two queries."""
    ids, wanted = set(ids), {s.lower() for s in skus}
    products = Product.objects.select_related("stock_unit")
    by_id: dict[int, Product] = {}
    if len(ids) > _BY_ID.max_items:  # a bulk request: in batches (SQLite's parameter limit)
        by_id = products.in_bulk(ids)
    elif ids:
        by_id = {p.pk: p for p in _BY_ID.rows(ids=sorted(ids))}
    by_sku: dict[str, Product] = {}
    if wanted:
        for p in _BY_SKU.rows(skus=sorted(wanted)):
            by_sku[p.sku.lower()] = p
    return by_id, by_sku


# The two queries of ``products_by_id_and_sku``, built once per number of ids or SKUs (erp.statements):
# an order's lines are looked up on every order, and building them cost more than running them.
_BY_ID = Lookup(lambda ids: Product.objects.select_related("stock_unit").filter(pk__in=ids))
_BY_SKU = Lookup(
    lambda skus: Product.objects.select_related("stock_unit").annotate(lc=Lower("sku")).filter(lc__in=skus)
)


def products_named(refs: Iterable[ProductRef]) -> tuple[dict[int, Product], dict[str, Product]]:
    """``products_by_id_and_sku`` of every product the inputs name, for ``product_of``."""
    refs = list(refs)
    return products_by_id_and_sku(
        {r.product for r in refs if r.product is not None},
        {r.sku.strip() for r in refs if r.sku and r.sku.strip()},
    )


def product_of(
    product_id: int | None, sku: str | None, by_id: dict[int, Product], by_sku: dict[str, Product]
) -> ProductFound:
    """The product an input names by id or SKU, among those looked up; or which field is wrong and why
    (neither or both given, no such id, no such SKU)."""
    sku = (sku or "").strip()
    if (product_id is None) == (not sku):
        return ProductFound(None, "product", "Give the product id or its SKU, one of the two.")
    if product_id is not None:
        found = by_id.get(product_id)
        return ProductFound(found, "product", "" if found else f"No product with id {product_id}.")
    found = by_sku.get(sku.lower())
    return ProductFound(found, "sku", "" if found else f"No product with SKU '{sku}'.")


def one_product(product_id: int | None, sku: str | None) -> Product:
    """The product a request names by id or SKU; a 422 on the field that is wrong."""
    sku = (sku or "").strip()
    by_id, by_sku = products_by_id_and_sku(
        {product_id} if product_id is not None else set(), {sku} if sku else set()
    )
    product, field, error = product_of(product_id, sku, by_id, by_sku)
    if product is None:
        raise ValidationFailed(error, field_errors={field: [error]})
    return product
