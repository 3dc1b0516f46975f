"""The sales JSON API, mounted at /api/v1/sales/.

Thin handlers: parse the input, look up what it references (404 when an id in the
path or a top-level reference is unknown, 422 for a bad line), call a service or
selector, answer with a schema. Reads need ``sales:read``, everything else
``sales:write`` (ErpAuth). Lists are paginated (``page``, ``page_size``:
``{"count", "items"}``) and filtered with the FilterSets of sales.filters, the same
the pages use; they take ``ordering`` (an allow-list per list), ``updated_since`` and, for
orders and invoices, ``expand`` (erp.api_helpers). Customers, channels and orders answer an
``ETag`` and their PATCH takes ``If-Match`` (412 when stale; erp.concurrency). An action the
lifecycle refuses is a 409 naming both states.

One module per section, each registering its handlers on the one ``router`` of
``sales.api.common``; the handlers of one section never import another's.
"""

# The sections register their paths in the order they are imported here, which is the order of
# the paths in the OpenAPI document (and of the URL patterns): keep it.
from sales.api import customers, channels, orders, shipments, invoices, returns  # noqa: F401  # isort: skip
from sales.api import documents  # noqa: F401  # isort: skip
from sales.api.common import router

__all__ = ["router"]
