"""Manufacturing's figures on the role homes, checked against the database and the order list."""

from __future__ import annotations

import pytest
from django.test import Client

from manufacturing import workspace
from manufacturing.models import ManufacturingOrder, MOStatus
from tests.erp.home_data import role_user
from tests.manufacturing.factories import ManufacturingOrderFactory, bike_world

pytestmark = pytest.mark.django_db


def test_orders_by_state_and_the_short_ones(client: Client) -> None:
    # given: the bike world (wheels can be made from stock, bikes need wheels none of which exist)
    world = bike_world()
    ManufacturingOrderFactory(product=world["wheel"], quantity=1, confirmed=True)  # all held
    ManufacturingOrderFactory(product=world["bike"], quantity=1, confirmed=True)  # short of wheels
    ManufacturingOrderFactory(product=world["bike"], quantity=1)  # a draft: nothing held yet, short

    counts = workspace.order_figures()

    assert counts["confirmed"] == ManufacturingOrder.objects.filter(status=MOStatus.CONFIRMED).count() == 2
    assert counts["draft"] == 1
    assert counts["in_progress"] == 0
    assert counts["short"] == 2
    client.force_login(role_user("maker", "Production"))
    listed = client.get("/manufacturing/orders/?short=true").context["page"]
    assert listed.paginator.count == 2
    assert all(mo.product == world["bike"] for mo in listed.object_list)
