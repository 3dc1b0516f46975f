"""The purchase order's and the bill's timelines: names, sentences, and the bill shows only its own."""

from __future__ import annotations

import pytest
from django.test import Client

from erp import actor
from tests.erp.factories import UserFactory
from tests.procurement.test_views import bill_for, make_world, received_order, sent_order
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def max_client() -> Client:
    client = Client()
    client.force_login(
        UserFactory(username="max", first_name="Max", last_name="Manager", roles=["Purchasing"])
    )
    return client


def test_the_purchase_order_page_shows_its_timeline_with_names(max_client: Client):
    # given: a received order, billed by Bea
    world = make_world()
    bea = UserFactory(username="bea", first_name="Bea", last_name="Buyer")
    po = received_order(world)
    with actor.acting_for(bea):
        bill_for(po)

    # when
    page = max_client.get(f"/procurement/orders/{po.pk}/").content.decode()

    # then
    assert "Timeline" in page
    assert "Sent to supplier: 1 line" in page
    assert "Received RC-" in page
    assert "Bill BILL-" in page
    assert "Bea Buyer" in page
    assert "Created" in page


def test_the_bill_page_shows_the_bills_events_not_the_orders_others(max_client: Client):
    # given: a received order and its bill
    world = make_world()
    po = received_order(world)
    first = bill_for(po, reference="INV-1", cost="60.00")

    # when
    page = max_client.get(f"/procurement/bills/{first.pk}/").content.decode()

    # then: its recording; not the order's sending or receipt
    assert f"Bill {first.number} recorded" in page
    assert "Sent to supplier" not in page
    assert "supplier ref INV-1" in page


def test_the_po_page_costs_the_same_with_1_or_10_more_events(max_client: Client):
    # given
    from django.db import transaction

    from erp import events

    world = make_world()
    po = sent_order(world)
    url = f"/procurement/orders/{po.pk}/"
    max_client.get(url)

    def more(n: int) -> None:
        with transaction.atomic():
            for _ in range(n):
                events.emit("procurement.po_noted", aggregate=po, payload={})

    # when
    more(1)
    few = count_queries(lambda: max_client.get(url))
    more(10)
    many = count_queries(lambda: max_client.get(url))

    # then
    assert few == many
