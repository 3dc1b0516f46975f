"""What inventory plugs into the kernel: demo data and the global search."""

from inventory import demo as _demo  # noqa: F401  (registers the inventory demo seeder)
