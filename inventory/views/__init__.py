"""Inventory pages, for people who spend their day in them.

One view per page. An htmx request whose target is a fragment of the page
(``rows``, ``panel``, ...) gets that fragment only (django-template-partials,
``"inventory/product_list.html#rows"``); any other request gets the whole page,
so every link and form also works without JavaScript.

Views parse input, call a selector or a service, and render. Domain errors
become form errors (next to the field the service names) or an inline message.
Reading needs ``inventory:read``; anything that writes needs ``inventory:write``.

One module per family of pages; ``common`` holds what they share and ``scanner`` the scanner
sessions of the transfer, adjustment and count pages.
"""

from inventory.views.adjustments import adjust, adjust_scan
from inventory.views.counts import (
    count_apply,
    count_cancel,
    count_create,
    count_detail,
    count_line,
    count_list,
    count_scan,
)
from inventory.views.import_export import io_apply, io_export_levels, io_export_products, io_index, io_preview
from inventory.views.landing import index, stock_check
from inventory.views.moves import level_list, move_list, move_reverse
from inventory.views.products import (
    product_archive,
    product_create,
    product_detail,
    product_edit,
    product_list,
    product_variants_create,
    product_variants_preview,
)
from inventory.views.reports import replenishment_list, valuation_report
from inventory.views.transfers import transfer, transfer_detail, transfer_receive, transfer_scan
from inventory.views.warehouses import warehouse_detail, warehouse_list

__all__ = [
    "adjust",
    "adjust_scan",
    "count_apply",
    "count_cancel",
    "count_create",
    "count_detail",
    "count_line",
    "count_list",
    "count_scan",
    "index",
    "io_apply",
    "io_export_levels",
    "io_export_products",
    "io_index",
    "io_preview",
    "level_list",
    "move_list",
    "move_reverse",
    "product_archive",
    "product_create",
    "product_detail",
    "product_edit",
    "product_list",
    "product_variants_create",
    "product_variants_preview",
    "replenishment_list",
    "stock_check",
    "transfer",
    "transfer_detail",
    "transfer_receive",
    "transfer_scan",
    "valuation_report",
    "warehouse_detail",
    "warehouse_list",
]
