"""Exports: generators of CSV text for ``StreamingHttpResponse``. They iterate querysets with
``.iterator()`` at a constant number of queries, whatever the size of the catalog."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db.models import QuerySet

from inventory.csv_io.cells import format_money, format_number
from inventory.csv_io.products import BARCODE_SEPARATOR, PRODUCT_COLUMNS, category_paths
from inventory.models import Barcode, LocationKind, Product, StockLevel

LEVEL_COLUMNS = ("sku", "warehouse", "location", "lot", "on_hand", "reserved", "unit_cost")


class _Echo:
    """A file-like object whose write() returns what it was given (for csv.writer in a generator)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Iterable[str], rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes spreadsheets read UTF-8
    for row in rows:
        yield writer.writerow(row)


def export_products(products: QuerySet[Product] | None = None) -> Iterator[str]:
    """The products CSV (re-importable as it is), line by line.

    Three queries whatever the number of products: categories, products and
    their own barcodes, the last two streamed in pk order and merged.
    """
    queryset = Product.objects.all() if products is None else products
    return _csv_lines(PRODUCT_COLUMNS, _product_rows(queryset))


def _product_rows(queryset: QuerySet[Product]) -> Iterator[list[str]]:
    paths = category_paths()
    barcodes = iter(
        Barcode.objects.filter(unit__isnull=True, product__in=queryset.values("pk"))
        .order_by("product_id", "code")
        .values_list("product_id", "code")
        .iterator(chunk_size=5000)
    )
    pending = next(barcodes, None)
    products = queryset.select_related("stock_unit").order_by("pk").iterator(chunk_size=2000)
    for product in products:
        codes = []
        while pending is not None and pending[0] <= product.pk:
            if pending[0] == product.pk:
                codes.append(pending[1])
            pending = next(barcodes, None)
        yield [
            product.sku,
            product.name,
            product.description,
            paths.get(product.category_id, "") if product.category_id else "",
            product.kind,
            product.stock_unit.code,
            format_money(product.sale_price, product.currency),
            product.currency,
            product.tracking,
            BARCODE_SEPARATOR.join(codes),
            format_number(product.weight) if product.weight is not None else "",
            "yes" if product.is_active else "no",
        ]


def export_levels(levels: QuerySet[StockLevel] | None = None) -> Iterator[str]:
    """Stock levels of bins that hold or reserve something, with the product's average cost.

    One query, streamed. Its ``on_hand`` column imports back as opening stock.
    """
    queryset = StockLevel.objects.all() if levels is None else levels
    queryset = (
        queryset.filter(location__kind=LocationKind.INTERNAL)
        .exclude(on_hand=0, reserved=0)
        .select_related("product", "location", "warehouse", "lot")
        .order_by("product_sku", "location_path", "lot__code")
    )
    return _csv_lines(LEVEL_COLUMNS, _level_rows(queryset))


def _level_rows(queryset: QuerySet[StockLevel]) -> Iterator[list[str]]:
    for level in queryset.iterator(chunk_size=2000):
        yield [
            level.product.sku,
            level.warehouse.code if level.warehouse else "",
            level.location.path,
            level.lot.code if level.lot else "",
            format_number(level.on_hand),
            format_number(level.reserved),
            format_money(level.product.average_cost, settings.ERP_BASE_CURRENCY),
        ]
