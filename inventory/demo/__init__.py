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
* Every move is dated now: the stock services take no time of their own.

``catalog`` holds the catalogue (as data, the plan drawn from it, and writing it), ``stock`` the
warehouses and the stock history, ``seeder`` the entry point that registers itself.
"""

from inventory.demo.catalog import ProductSpec, TemplateSpec, build_catalog
from inventory.demo.seeder import SEED, seed_inventory
from inventory.demo.stock import DEMAND, WAREHOUSES

__all__ = ["DEMAND", "SEED", "WAREHOUSES", "ProductSpec", "TemplateSpec", "build_catalog", "seed_inventory"]
