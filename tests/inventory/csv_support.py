"""What the CSV import and export tests share: CSV text, the opening stock header, a level, a site."""

from __future__ import annotations

import pytest

from inventory.models import StockLevel
from inventory.services import location_create, warehouse_root
from tests.inventory.factories import bin_of, warehouse

STOCK_HEADER = "sku,warehouse,location,quantity,unit_cost,lot,expiry_date"


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def level(product, location, lot=None) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location, lot=lot)


@pytest.fixture(name="site")
def site_fixture():
    """WH1 with its Stock bin, and a zone A holding the bin A-01 (modules import it as ``site_fixture``)."""
    wh = warehouse("WH1")
    zone = location_create(parent=warehouse_root(wh), name="A", kind="view")
    a1 = location_create(parent=zone, name="A-01")
    return {"wh": wh, "stock": bin_of(wh), "a1": a1, "zone": zone}
