"""Manufacturing's demo data: orders in every state, BOMs on three levels with two versions of one,
something for MRP to buy; deterministic, idempotent, and consistent with the stock ledger."""

from __future__ import annotations

from typing import Any

import pytest

from erp import demo
from inventory.integrity import find_drift
from inventory.models import Reservation, StockMove
from manufacturing import selectors
from manufacturing.boms import low_level_codes
from manufacturing.models import (
    BillOfMaterials,
    BomComponent,
    BomOperation,
    ManufacturingOrder,
    MOComponent,
    MOStatus,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from procurement.models import SupplierItem

pytestmark = pytest.mark.django_db


def counts() -> dict[str, Any]:
    return {
        "work centres": WorkCentre.objects.count(),
        "boms": sorted(BillOfMaterials.objects.values_list("product__sku", "version", "is_active")),
        "components": BomComponent.objects.count(),
        "operations": BomOperation.objects.count(),
        "orders": sorted(
            ManufacturingOrder.objects.values_list("product__sku", "status", "quantity_produced")
        ),
        "order lines": MOComponent.objects.count(),
        "runs": MrpRun.objects.count(),
        "suggestions": MrpSuggestion.objects.count(),
        "moves": StockMove.objects.count(),
        "reservations": Reservation.objects.count(),
        "supplier items": SupplierItem.objects.count(),
    }


def test_the_demo_has_every_state_is_idempotent_and_keeps_the_ledger_whole(monkeypatch):
    # given: the seeders it runs after (sales with a shorter history), and ours
    import inventory.demo  # noqa: F401
    import manufacturing.demo  # noqa: F401
    import procurement.demo  # noqa: F401
    import sales.demo

    monkeypatch.setattr(sales.demo, "ORDERS", 60)

    # when: seeded twice
    report = demo.seed(only=("inventory", "procurement", "sales", "manufacturing"))
    first = counts()
    again = demo.seed(only=("inventory", "procurement", "sales", "manufacturing"))

    # then: the same data, and the levels match the ledger
    assert counts() == first
    assert find_drift()[1] == []
    assert any(line.startswith("manufacturing (created): 2 work centres") for line in report), report
    assert any(line.startswith("manufacturing (kept)") for line in again)

    # every state of an order
    assert set(ManufacturingOrder.objects.values_list("status", flat=True)) == set(MOStatus.values)
    in_progress = ManufacturingOrder.objects.get(status=MOStatus.IN_PROGRESS)
    assert 0 < in_progress.quantity_produced < in_progress.quantity
    # confirmed: one with every component reserved, one short
    fully = []
    for mo in ManufacturingOrder.objects.filter(status=MOStatus.CONFIRMED):
        lines = list(mo.components.all())
        held = selectors.reserved_by_component([line.pk for line in lines])
        fully.append(all(held.get(line.pk, 0) == line.quantity_required for line in lines))
    assert sorted(fully) == [False, True]

    # BOMs: three levels under the bike, with scrap and operations; two versions of the bike, one active
    levels = low_level_codes()
    bike = BillOfMaterials.objects.filter(product__sku="BK-CITY")
    assert sorted(bike.values_list("version", "is_active")) == [(1, False), (2, True)]
    wire = BomComponent.objects.get(bom__product__sku="BK-SPOKE").product
    assert levels[wire.pk] == 3
    assert BomComponent.objects.filter(scrap_percent__gt=0).count() >= 3
    assert not BillOfMaterials.objects.filter(operations__isnull=True).exists()
    assert ManufacturingOrder.objects.filter(bom__version=1, product__sku="BK-CITY", status="done").exists()

    # MRP: one run, buying parts of the demo from their preferred suppliers, making sub-assemblies
    run = MrpRun.objects.get()
    bought = run.suggestions.filter(kind="buy", supplier_item__isnull=False)
    assert bought.filter(product__sku__startswith="CMP-").exists()
    assert run.suggestions.filter(kind="make", product__sku__startswith="BK-").exists()
