"""What inventory plugs into the kernel: demo data and the global search."""

from inventory import demo as _demo  # noqa: F401  (registers the inventory demo seeder)
from inventory import jobs as _jobs  # noqa: F401  (the csv_import background job)
from inventory import onboarding as _onboarding  # noqa: F401  (getting started: warehouses, products, stock)
from inventory import search as _search  # noqa: F401  (global search: products by SKU, barcode or name)
from inventory import timeline as _timeline  # noqa: F401  (document timelines: erp.timeline)
from inventory import workspace as _workspace  # noqa: F401  (the role homes' figures: erp.workspace)
