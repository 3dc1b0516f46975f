"""Issue #21, defect 9: a new manufacturing order had a blank required warehouse and failed on its
first save. It starts in the only warehouse, else the user's last-used one, else the first by code;
the select has no blank choice."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner():
    return UserFactory(username="pat", roles=["Production"])


def selected_warehouse(html: str) -> str | None:
    select = re.search(r'<select name="warehouse".*?</select>', html, re.S)
    assert select, "no warehouse select"
    assert '<option value=""' not in select.group(0), "a blank choice"
    chosen = re.search(r'<option value="(\d+)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else None


def form_html(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/manufacturing/orders/new/").content.decode()


def test_the_only_warehouse_is_chosen(planner):
    only = warehouse("WH1")
    assert selected_warehouse(form_html(planner)) == str(only.pk)


def test_with_several_the_users_last_one_is_chosen(planner):
    warehouse("WH1")
    second = warehouse("WH2")
    ManufacturingOrderFactory(product=BomFactory().product, warehouse=second, user=planner)

    assert selected_warehouse(form_html(planner)) == str(second.pk)


def test_with_several_and_no_history_the_first_by_code_is_chosen(planner):
    first = warehouse("A-MAIN")
    warehouse("Z-SIDE")
    assert selected_warehouse(form_html(planner)) == str(first.pk)


def test_the_first_save_works_with_what_the_form_proposes(planner):
    warehouse("WH1")
    warehouse("WH2")
    bom = BomFactory()
    client = Client()
    client.force_login(planner)
    html = client.get("/manufacturing/orders/new/").content.decode()

    response = client.post(
        "/manufacturing/orders/new/",
        {"product": bom.product.pk, "quantity": "2", "warehouse": selected_warehouse(html)},
    )

    assert response.status_code == 302, response.content.decode()[:500]
