"""The business clock (erp/clock.py): the wall clock, or the effective time while history is written."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone

from erp import clock
from erp.models import OutboxEvent
from inventory.services import stock_issue, stock_receive
from tests.inventory.factories import ProductFactory, bin_of, warehouse

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def test_without_an_effective_time_it_answers_the_wall_clock():
    before = timezone.now()

    now = clock.now()

    assert before <= now <= timezone.now()
    assert clock.today() == timezone.localdate()
    assert not clock.is_effective()


def test_an_effective_datetime_is_answered_inside_the_block_and_forgotten_after_it():
    when = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)

    with clock.effective(when) as moment:
        assert moment == when
        assert clock.now() == when
        assert clock.today() == datetime.date(2026, 3, 1)
        assert clock.is_effective()

    assert clock.now() != when
    assert not clock.is_effective()


@override_settings(TIME_ZONE="Europe/Amsterdam")
def test_a_date_means_that_day_at_noon_local_time_and_today_is_the_local_day():
    with clock.effective(datetime.date(2026, 7, 14)):
        assert clock.now() == datetime.datetime(2026, 7, 14, 12, 0, tzinfo=AMSTERDAM)

    # 23:30 UTC is already the next day in Amsterdam
    with clock.effective(datetime.datetime(2026, 7, 14, 23, 30, tzinfo=datetime.UTC)):
        assert clock.today() == datetime.date(2026, 7, 15)

    # a naive datetime is local time
    with clock.effective(datetime.datetime(2026, 7, 14, 8, 0)):  # noqa: DTZ001
        assert clock.now() == datetime.datetime(2026, 7, 14, 8, 0, tzinfo=AMSTERDAM)


def test_effective_blocks_nest_and_an_error_restores_the_outer_time():
    outer = datetime.datetime(2026, 1, 10, 8, 0, tzinfo=datetime.UTC)
    inner = datetime.datetime(2026, 1, 12, 8, 0, tzinfo=datetime.UTC)

    with clock.effective(outer):
        with clock.effective(inner):
            assert clock.now() == inner
        assert clock.now() == outer
        with pytest.raises(RuntimeError), clock.effective(inner):
            raise RuntimeError("boom")
        assert clock.now() == outer
    assert not clock.is_effective()


def test_the_effective_time_holds_for_its_own_thread_only():
    seen: list[bool] = []
    with clock.effective(datetime.date(2026, 2, 2)):
        thread = threading.Thread(target=lambda: seen.append(clock.is_effective()))
        thread.start()
        thread.join()
        assert clock.is_effective()

    assert seen == [False]


@pytest.mark.django_db
def test_stock_moves_and_events_are_dated_by_the_business_clock():
    # given
    product = ProductFactory()
    shelf = bin_of(warehouse("WH1"))
    when = timezone.now() - datetime.timedelta(days=40)

    # when
    with clock.effective(when):
        move = stock_receive(product=product, location=shelf, quantity=5, unit_cost="2.00")
    later = stock_issue(product=product, location=shelf, quantity=1)

    # then: the move and the events it recorded carry the effective time; outside it, the wall clock
    assert move.created_at == when
    received = OutboxEvent.objects.filter(topic="inventory.level_changed").order_by("pk")
    assert received.first().created_at == when
    assert later.created_at > when + datetime.timedelta(days=39)
    assert received.last().created_at > when + datetime.timedelta(days=39)
