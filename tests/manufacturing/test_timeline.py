"""The manufacturing order's timeline: created by whom, confirmed, with names; constant cost."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from erp import actor, events
from manufacturing.services import mo_confirm
from tests.erp.factories import UserFactory
from tests.manufacturing.factories import ManufacturingOrderFactory
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def test_the_mo_page_shows_its_timeline_with_names_and_costs_the_same_with_more_events(client: Client):
    # given: an order confirmed by Pia
    pia = UserFactory(username="pia", first_name="Pia", last_name="Planner", roles=["Production"])
    mo = ManufacturingOrderFactory()
    with actor.acting_for(pia):
        mo_confirm(mo=mo, user=pia)
    client.force_login(pia)
    url = f"/manufacturing/orders/{mo.pk}/"

    # when
    page = client.get(url).content.decode()
    few = count_queries(lambda: client.get(url))
    with transaction.atomic():
        for _ in range(10):
            events.emit("manufacturing.mo_noted", aggregate=mo, payload={})
    many = count_queries(lambda: client.get(url))

    # then
    assert f"Confirmed: make 1 × {mo.product.sku}" in page
    assert "Pia Planner" in page
    assert "Created" in page
    assert few == many
