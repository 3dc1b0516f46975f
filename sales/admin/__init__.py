"""Admin: every sales model, searchable and filterable.

Documents whose state the services drive (orders, shipments, invoices, payments,
returns, refunds and their lines) are read-only here; what changes them are the
actions, which call the services. Customers and channels are master data that
admins edit, and even those saves go through the services, so that the events
connectors listen to are recorded.
"""

# Each module registers its admins when imported: the master data (customers, channels), then the
# documents (orders, shipments, invoices, payments, returns, refunds); the admin's URL patterns
# follow this order.
from sales.admin import masterdata, documents  # noqa: F401  # isort: skip
