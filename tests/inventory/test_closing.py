"""Closing the ledger's days for the books: the value that came into and left our stock on a day
(``valuation.flows``), per kind of outside place, announced once as ``inventory.day_closed``."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from erp.celery import app
from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from inventory.models import LedgerDay, LocationKind
from inventory.services import (
    ledger_day_close,
    ledger_days_close,
    stock_issue,
    stock_receive,
    stock_scrap,
    stock_transfer,
)
from inventory.services.closing import day_bounds
from inventory.services.stock import Line
from inventory.valuation import ValueFlow, flows
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db


def _a_day_of_moves() -> None:
    """In 10 at 5.00; 4 shipped, 1 back from the customer, 1 scrapped, 3 moved to another
    warehouse (no value moves: still ours)."""
    product = ProductFactory(sku="JNL-1")
    shelf, other = bin_of(warehouse("WH1")), bin_of(warehouse("WH2"))
    stock_receive(product=product, location=shelf, quantity=10, unit_cost="5.00")
    stock_issue(product=product, location=shelf, quantity=4)
    stock_receive(product=product, location=shelf, quantity=1, source=LocationKind.CUSTOMER)
    stock_scrap(product=product, location=shelf, quantity=1, reason="dropped")
    stock_transfer(from_location=shelf, to_location=other, lines=[Line(product=product, quantity=Decimal(3))])


def _today() -> tuple[datetime.datetime, datetime.datetime]:
    return day_bounds(timezone.localdate())


def test_flows_net_the_value_per_kind_of_place_and_leave_transfers_out() -> None:
    _a_day_of_moves()
    assert flows(*_today()) == [
        ValueFlow("customer", Decimal("-15.00")),
        ValueFlow("scrap", Decimal("-5.00")),
        ValueFlow("supplier", Decimal("50.00")),
    ]
    start, _ = _today()
    assert flows(start - datetime.timedelta(days=1), start) == []


def _as_if_tomorrow() -> mock._patch:  # type: ignore[type-arg]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return mock.patch("inventory.services.closing.timezone.localdate", return_value=tomorrow)


def test_a_day_is_closed_once_and_announced_once(django_capture_on_commit_callbacks) -> None:
    _a_day_of_moves()
    today = timezone.localdate()
    with pytest.raises(ValidationFailed, match="not over yet"):
        ledger_day_close(day=today)
    assert not LedgerDay.objects.exists()
    with _as_if_tomorrow():
        day = ledger_day_close(day=today)
        assert ledger_day_close(day=today) is None
    assert day is not None
    assert day.currency == "USD"
    assert {f["counterpart"]: f["value"] for f in day.flows} == {
        "customer": "-15.00",
        "scrap": "-5.00",
        "supplier": "50.00",
    }
    event = OutboxEvent.objects.get(topic="inventory.day_closed")
    assert event.payload == {
        "ledger_day_id": day.pk,
        "date": today.isoformat(),
        "currency": "USD",
        "flows": day.flows,
    }


def test_the_nightly_task_catches_up_from_the_last_day_closed() -> None:
    today = timezone.localdate()
    assert [d.date for d in ledger_days_close()] == [today - datetime.timedelta(days=1)]  # a new database
    LedgerDay.objects.filter(date=today - datetime.timedelta(days=1)).update(
        date=today - datetime.timedelta(days=4)
    )
    closed = ledger_days_close()
    assert [d.date for d in closed] == [today - datetime.timedelta(days=n) for n in (3, 2, 1)]
    assert ledger_days_close() == []
    assert OutboxEvent.objects.filter(topic="inventory.day_closed").count() == 4
    entry = next(e for e in app.conf.beat_schedule.values() if e["task"].endswith("close_ledger_days_task"))
    assert entry["schedule"].hour == {0}
