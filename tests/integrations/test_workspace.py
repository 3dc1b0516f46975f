"""The hub's figures on the role homes: each tool's health, the books' status, sync volume per day."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from integrations import workspace
from integrations.models import InboundEvent
from tests.integrations.factories import ConnectionFactory, DeliveryFactory, InboundEventFactory

pytestmark = pytest.mark.django_db


def test_tool_health_says_failing_for_a_dead_letter() -> None:
    sick = ConnectionFactory(name="Sick shop")
    ConnectionFactory(name="Healthy shop")
    DeliveryFactory(connection=sick, dead=True)

    rows = {c.name: h for c, h in workspace.tool_health()}

    assert rows["Sick shop"].level == "error"
    assert rows["Sick shop"].dead_deliveries == 1
    assert rows["Healthy shop"].level != "error"
    assert rows["Healthy shop"].dead_deliveries == 0


def test_the_books_are_the_connections_of_accounting_tools() -> None:
    ConnectionFactory(name="Shop")
    ConnectionFactory(name="Books", connector="quickbooks", settings={}, secrets={})

    assert "quickbooks" in workspace.accounting_connectors()
    assert [c.name for c, _ in workspace.tool_health(workspace.accounting_connectors())] == ["Books"]


def test_sync_volume_counts_events_in_and_out_per_day_with_errors_apart() -> None:
    shop = ConnectionFactory(name="Shop")
    InboundEventFactory(connection=shop)
    InboundEventFactory(connection=shop, status="failed")
    old = InboundEventFactory(connection=shop)
    InboundEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - datetime.timedelta(days=3))
    DeliveryFactory(connection=shop)
    DeliveryFactory(connection=shop, dead=True)
    DeliveryFactory(connection=shop, dead=True)

    [chart] = workspace.sync_volume()

    inbound, outbound, errors = (s.values for s in chart.series)
    assert (inbound[-1], outbound[-1], errors[-1]) == (1, 1, 3)
    assert inbound[-4] == 1
    assert sum(inbound) + sum(outbound) + sum(errors) == 6
    assert chart.series[2].highlight
    assert "Shop" in chart.title
