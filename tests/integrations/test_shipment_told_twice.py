"""One shipment told twice at the same moment (a webhook and a poll, taken by two workers):
PostgreSQL, real threads, real transactions.

Each worker read the order's known shipments, found none, and recorded the shipment; the second's
link to the tool's shipment was ignored as a duplicate, so the order had two shipments of the same
units and the channel was told of one (found by the simulated day with real workers in CI: ShipBob's
shipment, told by its webhook and by the poll within 0.1 s). The order is now locked before its
known shipments are read: the second worker reads the first one's link and records nothing.
"""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal as D

import pytest
from django.db import transaction

from integrations.appliers import shipments
from integrations.contract import InboundItem
from integrations.models import ExternalRef
from integrations.records import ShipmentLineRecord, ShipmentRecord
from sales.models import SalesOrder
from tests.integrations.factories import SyncRunFactory
from tests.integrations.fake_tool import T0, acme_connection, acme_environment
from tests.integrations.test_shipments_cumulative import read
from tests.inventory.test_concurrency import race
from tests.sales.factories import stocked_product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_shipment_told_twice_at_once_is_recorded_once(monkeypatch):
    with acme_environment():
        # given: an order of 3 tents from the tool, and one shipment of 1 of them in the tool
        connection = acme_connection()
        stocked_product(10, sku="TENT")
        with transaction.atomic():  # as the inbound events are applied, each in its transaction
            read(connection, SyncRunFactory(connection=connection, job="poll"), 0)
        order = SalesOrder.objects.get()
        record = ShipmentRecord(
            external_id="1-s-1",
            created_at=T0,
            lines=(ShipmentLineRecord("1-1", D(1)),),
            tracking_number="1ZTOLDTWICE",
            order_external_id="1",
        )
        # a worker that gets as far as recording the shipment waits (a second at most) for the other
        there = threading.Barrier(2, timeout=1.0)
        real = shipments.shipment_create

        def side_by_side(**kwargs):
            # the other worker may not come: it waits for the order's lock
            with contextlib.suppress(threading.BrokenBarrierError):
                there.wait()
            return real(**kwargs)

        monkeypatch.setattr(shipments, "shipment_create", side_by_side)
        runs = [SyncRunFactory(connection=connection, job=job) for job in ("webhook", "poll")]

        def apply(i: int):
            with transaction.atomic():
                return shipments.apply_shipment(
                    connection, InboundItem("shipment", record.external_id, record=record), runs[i]
                )

        # when: two workers apply it at the same moment, each in its transaction
        applied = race(apply, 2)

    # then: recorded once, linked to the tool's shipment; the other worker found it recorded
    assert [type(a) for a in applied if isinstance(a, Exception)] == []
    assert sorted(a.outcome for a in applied) == ["created", "skipped"]
    assert order.shipments.count() == 1
    link = ExternalRef.objects.get(connection=connection, object_type="fulfilment", external_id="1-s-1")
    assert link.object_id == order.shipments.get().pk
