"""Demo data of inventory: two warehouses, ~300 products and a stock history.

Registered with ``erp.demo`` (order 10) when this package is imported, run by ``manage.py seed_demo``.

* Deterministic: every choice comes from ``random.Random(42)``; the whole plan
  (catalog, then history) is drawn before anything is looked up, so the same
  draws happen whatever the database holds.
* Idempotent: warehouses, bins, categories, products, templates, units and
  reorder rules are looked up by natural key (code, path, SKU, name) and only
  what is missing is created; the history (receipts, transfers, adjustments,
  scraps, counts, issues, reservations) has no natural key, so it is written
  once, when no demo receipt exists yet. Running it twice gives the same data.
* Everything goes through the inventory services, so levels match the ledger.
* Dated (``erp.clock.effective``): the catalog appears 96 days ago, the opening stock arrives 95
  days ago, transfers, putaway, found stock and the applied cycle count follow within days, before
  any sale; issues, losses, scraps and shipped reservations are spread over the last 90 days.
  ``days`` (its own step, "ledger-days", order 28, after every seeder that writes dated moves)
  then closes the past ledger days as the nightly task would have.

``catalog`` holds the catalogue (as data, the plan drawn from it, and writing it), ``stock`` the
warehouses and the stock history, ``seeder`` the entry point that registers itself, ``days`` the
closing of the past days.
"""

from inventory.demo import days as _days  # noqa: F401  (registers the "ledger-days" step)
from inventory.demo.catalog import ProductSpec, TemplateSpec, build_catalog
from inventory.demo.seeder import SEED, seed_inventory
from inventory.demo.stock import DEMAND, WAREHOUSES

__all__ = ["DEMAND", "SEED", "WAREHOUSES", "ProductSpec", "TemplateSpec", "build_catalog", "seed_inventory"]
