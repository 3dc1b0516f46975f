"""Issue #21, defect 5: the MRP table showed one row per demand (the same item in five rows). It
shows one row per item (product in a warehouse): on hand, incoming, demand total, net requirement,
the suggestion summed; its demands in a disclosure. The layout check at 1,440 px is in
tests/browser/test_layout.py."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from manufacturing.models import MrpSuggestion
from manufacturing.mrp import mrp_run
from sales.services import order_confirm
from tests.erp.factories import UserFactory
from tests.manufacturing.factories import BomFactory, bike_world
from tests.queries import count_queries
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner() -> Client:
    client = Client()
    client.force_login(UserFactory(username="pia", roles=["Production"]))
    return client


def five_bike_orders(world, first_day: int = 5) -> None:
    for n in range(5):  # far apart: each falls short on its own day, each would be a suggestion
        order_confirm(
            order=order_for(
                (world["bike"], 4), order_date=timezone.now() + datetime.timedelta(days=first_day + 7 * n)
            )
        )


def test_an_item_with_five_demands_is_one_row_with_its_demands_inside(planner):
    world = bike_world()
    five_bike_orders(world)
    mrp_run()
    assert MrpSuggestion.objects.filter(product=world["bike"]).count() == 5  # five planned orders

    response = planner.get("/manufacturing/mrp/")

    html = response.content.decode()
    assert len(re.findall(r'<tr[^>]*data-sku="BIKE"', html)) == 1
    [bike] = [item for item in response.context["items"] if item.product.sku == "BIKE"]
    assert bike.demand == 20
    assert bike.quantity == 20
    assert len(bike.covers) == 5
    assert "5 demands" in html
    assert len(bike.open_ids.split(",")) == 5


def test_ticking_an_item_converts_all_its_suggestions(planner):
    world = bike_world()
    five_bike_orders(world)
    mrp_run()
    [bike] = [i for i in planner.get("/manufacturing/mrp/").context["items"] if i.product.sku == "BIKE"]

    planner.post("/manufacturing/mrp/convert/", {"suggestion": bike.open_ids})

    assert not MrpSuggestion.objects.filter(product=world["bike"], converted_to="").exists()


def test_the_page_costs_the_same_queries_with_more_items(planner):
    world = bike_world()
    five_bike_orders(world)
    mrp_run()
    planner.get("/manufacturing/mrp/")
    before = count_queries(lambda: planner.get("/manufacturing/mrp/"))
    items_before = len(planner.get("/manufacturing/mrp/").context["items"])
    for _ in range(3):  # three more made products, each with a new bought component: six more items
        product = BomFactory().product
        order_confirm(order=order_for((product, 2), order_date=timezone.now() + datetime.timedelta(days=4)))
    mrp_run()
    after = count_queries(lambda: planner.get("/manufacturing/mrp/"))
    assert len(planner.get("/manufacturing/mrp/").context["items"]) == items_before + 6
    assert after == before
