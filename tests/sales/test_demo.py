"""Sales' demo seeder on its own (the whole demo is looked at in tests/test_demo.py)."""

from __future__ import annotations

import pytest

import sales.demo
from inventory.integrity import find_drift
from inventory.models import Warehouse
from sales.models import OrderStatus, SalesChannel, SalesOrder

pytestmark = pytest.mark.django_db


def test_without_inventory_demo_it_makes_a_warehouse_and_products_and_stays_consistent(monkeypatch):
    # given: an empty database and a shorter history
    monkeypatch.setattr(sales.demo, "ORDERS", 40)
    assert not Warehouse.objects.exists()

    # when
    sales.demo.seed_sales()

    # then
    assert Warehouse.objects.count() == 1
    assert SalesChannel.objects.filter(warehouse__code="MAIN").count() == 5
    assert SalesOrder.objects.count() == 40
    assert SalesOrder.objects.filter(status=OrderStatus.CLOSED).exists()
    assert find_drift()[1] == []
