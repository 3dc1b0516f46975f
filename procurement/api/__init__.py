"""The procurement JSON API, mounted at /api/v1/procurement/.

Thin handlers: parse the input, look up what it references (404 when an id in the
path or a top-level reference is unknown, 422 for a bad line), call a service or
selector, answer with a schema. Reads need ``procurement:read``, everything else
``procurement:write`` (ErpAuth), except receiving goods, which a warehouse may do
too (``procurement:write`` or ``inventory:write``). Lists are paginated (``page``,
``page_size``: ``{"count", "items"}``) and filtered with the FilterSets of
procurement.filters, the same the pages use; they take ``ordering`` (an allow-list per
list), ``updated_since`` and, for purchase orders and bills, ``expand`` (erp.api_helpers).
Suppliers and purchase orders answer an ``ETag`` and their PATCH takes ``If-Match`` (412 when
stale; erp.concurrency). An action the lifecycle refuses is a 409 naming both states.

One module per section, each registering its handlers on the one ``router`` of
``procurement.api.common``; the handlers of one section never import another's.
"""

# The sections register their paths in the order they are imported here, which is the order of
# the paths in the OpenAPI document (and of the URL patterns): keep it.
from procurement.api import suppliers, supplier_items, orders, receipts, bills, replenishment  # noqa: F401  # isort: skip
from procurement.api import documents  # noqa: F401  # isort: skip
from procurement.api.common import router

__all__ = ["router"]
