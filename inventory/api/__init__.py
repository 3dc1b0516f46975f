"""The inventory JSON API, mounted at /api/v1/inventory/.

Thin handlers: parse the input, look up what it references (404 when an id is
unknown), call a service or selector, answer with a schema. Reads need
``inventory:read``, everything else ``inventory:write`` (ErpAuth). Lists are
paginated (``page``, ``page_size``: ``{"count", "items"}``) and filtered with the
FilterSets of inventory.filters, the same the pages use, and take ``ordering`` (an
allow-list per list), ``updated_since`` where the rows keep an ``updated_at`` (moves: when
made) -- see erp.api_helpers. Products and warehouses answer an ``ETag`` and their PATCH
takes ``If-Match`` (412 when stale; erp.concurrency). Stock moves are never changed or
deleted: there is no PUT, PATCH or DELETE for them (405). Bulk: products upserted by SKU and
counted stock levels set, many in one request, all or nothing.

One module per section; each registers its handlers on the one ``router`` (inventory.api.common)
when it is imported. The imports below are in the order of the sections: it is the order of the
paths in the OpenAPI document and of the URL patterns (the first matching path wins), so keep it.
"""

# isort: off
from inventory.api.common import router
from inventory.api import products, warehouses, stock, transfers, counts  # noqa: F401
from inventory.api import reservations, replenishment, reports  # noqa: F401

# isort: on

__all__ = ["router"]
