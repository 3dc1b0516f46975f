"""Issue #21, defect 8: a new sales order started in the Amazon channel (first by name), and the same
SKU added twice made two lines. It starts in the channel the user used last, else the manual
("direct") channel, else the first by name, never a channel whose orders come from the tool; the
same SKU added again joins its line: "SKU added to its line (now 3)"."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from sales.models import SalesOrder
from sales.services import LineSpec, order_create
from tests.erp.factories import UserFactory
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def seller():
    return UserFactory(username="sam", roles=["Sales"])


@pytest.fixture
def channels():
    return {
        "amazon": ChannelFactory(code="amazon", name="Amazon", kind="marketplace"),
        "direct": ChannelFactory(code="direct", name="Direct", kind="manual"),
        "wholesale": ChannelFactory(code="wholesale", name="Wholesale", kind="wholesale"),
        "shop": ChannelFactory(code="shop", name="A web shop", kind="web_store"),
    }


def selected_channel(html: str) -> str:
    select = re.search(r'<select name="channel".*?</select>', html, re.S)
    assert select, "no channel select"
    chosen = re.search(r'<option value="(\d+)"[^>]*selected', select.group(0))
    assert chosen, "no channel selected"
    return chosen.group(1)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_new_order_starts_in_the_direct_channel_not_the_marketplace(seller, channels):
    html = client_for(seller).get("/sales/orders/new/").content.decode()

    assert selected_channel(html) == str(channels["direct"].pk)


def test_a_new_order_starts_in_the_channel_the_user_used_last(seller, channels):
    product = stocked_product(5)
    order_create(
        channel=channels["wholesale"],
        customer=CustomerFactory(),
        lines=[LineSpec(product=product, quantity=1)],
        user=seller,
    )
    # someone else's last order does not count
    order_create(
        channel=channels["direct"],
        customer=CustomerFactory(),
        lines=[LineSpec(product=product, quantity=1)],
        user=UserFactory(username="other", roles=["Sales"]),
    )

    html = client_for(seller).get("/sales/orders/new/").content.decode()

    assert selected_channel(html) == str(channels["wholesale"].pk)


def test_without_a_manual_channel_the_first_by_name_that_is_not_a_tool(seller):
    ChannelFactory(code="amazon", name="Amazon", kind="marketplace")
    zeta = ChannelFactory(code="zeta", name="Zeta wholesale", kind="wholesale")
    beta = ChannelFactory(code="beta", name="Beta shop counter", kind="pos")

    html = client_for(seller).get("/sales/orders/new/").content.decode()

    assert selected_channel(html) == str(beta.pk)
    assert zeta.pk != beta.pk


def test_the_same_sku_added_twice_joins_its_line(seller, channels):
    tee = stocked_product(10, sku="SKU-1", price="20.00")
    posted = {
        "channel": str(channels["direct"].pk),
        "customer": str(CustomerFactory().pk),
        "lines-0-product": str(tee.pk),
        "lines-0-quantity": "1",
        "lines-0-unit_price": "",
        "lines-0-discount": "",
        "lines-0-tax": "",
        "op": "add",
        "entry-query": "SKU-1",
        "entry-quantity": "2",
    }

    response = client_for(seller).post("/sales/orders/new/", posted, **HTMX)

    body = response.content.decode()
    assert 'name="lines-0-quantity" value="3"' in body
    assert "lines-1-product" not in body
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "SKU-1 added to its line (now 3)."


def test_saving_two_lines_of_the_same_sku_makes_one(seller, channels):
    tee = stocked_product(10, sku="SKU-1", price="20.00")
    posted = {
        "channel": str(channels["direct"].pk),
        "customer": str(CustomerFactory().pk),
        "op": "save",
    }
    for i, quantity in enumerate(("1", "2")):
        posted |= {
            f"lines-{i}-product": str(tee.pk),
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": "",
            f"lines-{i}-discount": "",
            f"lines-{i}-tax": "",
        }

    response = client_for(seller).post("/sales/orders/new/", posted)

    assert response.status_code == 302
    order = SalesOrder.objects.get()
    assert [(ln.product.sku, int(ln.quantity)) for ln in order.lines.all()] == [("SKU-1", 3)]
