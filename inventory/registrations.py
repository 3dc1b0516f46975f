"""What inventory plugs into the kernel: demo data and the global search."""

from inventory import demo as _demo  # noqa: F401  (registers the inventory demo seeder)
from inventory import search as _search  # noqa: F401  (global search: products by SKU, barcode or name)
