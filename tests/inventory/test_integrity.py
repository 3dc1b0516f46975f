from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from inventory.models import StockCheckRun, StockLevel
from inventory.services import Demand, stock_receive, stock_reserve
from inventory.tasks import check_stock_task
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def stocked():
    product = ProductFactory(sku="DRIFTY")
    wh = warehouse()
    stock_receive(product=product, location=bin_of(wh), quantity=10, unit_cost=1)
    stock_reserve(product=product, warehouse=wh, quantity=3, demand=Demand("x", 1))
    return StockLevel.objects.get(product=product, location=bin_of(wh))


def test_a_clean_ledger_has_no_drift_and_exits_zero():
    stocked()
    out = StringIO()

    call_command("check_stock", stdout=out)

    assert "0 drift(s)" in out.getvalue()
    assert StockCheckRun.objects.get().drift_count == 0


def test_injected_drift_is_listed_and_exits_one_then_repaired():
    # given: a level that no longer matches its moves and reservations
    level = stocked()
    StockLevel.objects.filter(pk=level.pk).update(on_hand=12, reserved=1)

    # when / then: listed, exit status 1
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_stock", stdout=out)
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert "2 drift(s)" in text
    assert "on_hand is 12.0000, the ledger says 10" in text
    assert "reserved is 1.0000, the ledger says 3" in text

    # and --repair sets the level back to what the ledger says
    call_command("check_stock", "--repair", stdout=StringIO())
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (10, 3)
    call_command("check_stock", stdout=StringIO())
    assert StockCheckRun.objects.order_by("-pk").first().drift_count == 0


def test_a_missing_level_row_is_drift_too():
    level = stocked()
    StockLevel.objects.filter(pk=level.pk).delete()

    with pytest.raises(SystemExit):
        call_command("check_stock", stdout=StringIO())
    call_command("check_stock", "--repair", stdout=StringIO())
    assert StockLevel.objects.get(pk__gt=0, product=level.product, location=level.location).on_hand == 10


def test_nightly_task_keeps_the_result():
    level = stocked()
    StockLevel.objects.filter(pk=level.pk).update(on_hand=11)

    # Celery's "never join inside a task" guard is one flag per process: an eager task running in
    # another thread of this test process (the live server of the browser tests) sets it. This
    # test is no task, so it says so rather than depend on what other threads do.
    assert check_stock_task.delay().get(disable_sync_subtasks=False) == 1
    run = StockCheckRun.objects.get()
    assert run.drift_count == 1
    assert run.drifts[0]["field"] == "on_hand"
