"""The order page and the API offer the same actions and figures, in every state of an order.

Both read ``sales.selectors.order_figures``; before, the page hid "invoice" when nothing was left
to invoice while the API offered it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from django.test import Client

from sales.models import InvoicePolicy, SalesOrder
from sales.services import (
    invoice_create,
    order_cancel,
    order_close,
    order_confirm,
    order_hold,
    shipment_create,
)
from sales.services.fulfilment import ShipLine
from sales.views.orders import detail_context
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db

ACTIONS_DIV = re.compile(r'<div class="actions">(.*?)</div>', re.S)


def _draft(policy: str) -> SalesOrder:
    channel = ChannelFactory(code=f"c-{policy}", invoice_policy=policy)
    return order_for(
        (stocked_product(5, sku=f"MUG-{policy}"), 2), channel=channel, customer=CustomerFactory()
    )


def draft(policy: str) -> SalesOrder:
    return _draft(policy)


def confirmed(policy: str) -> SalesOrder:
    return order_confirm(order=_draft(policy))


def backordered(policy: str) -> SalesOrder:
    channel = ChannelFactory(code=f"b-{policy}", invoice_policy=policy)
    order = order_for((stocked_product(1, sku=f"TENT-{policy}"), 3), channel=channel)
    return order_confirm(order=order)


def partially_shipped(policy: str) -> SalesOrder:
    order = confirmed(policy)
    shipment_create(order=order, lines=[ShipLine(line=order.lines.get(), quantity=D(1))])
    return SalesOrder.objects.get(pk=order.pk)


def shipped(policy: str) -> SalesOrder:
    order = confirmed(policy)
    shipment_create(order=order)
    return SalesOrder.objects.get(pk=order.pk)


def shipped_and_invoiced(policy: str) -> SalesOrder:
    order = shipped(policy)
    invoice_create(order=order)
    return SalesOrder.objects.get(pk=order.pk)


def on_hold(policy: str) -> SalesOrder:
    return order_hold(order=confirmed(policy), reason="fraud check")


def closed(policy: str) -> SalesOrder:
    return order_close(order=shipped_and_invoiced(policy))


def cancelled(policy: str) -> SalesOrder:
    return order_cancel(order=confirmed(policy))


STATES: list[Callable[[str], SalesOrder]] = [
    draft,
    confirmed,
    backordered,
    partially_shipped,
    shipped,
    shipped_and_invoiced,
    on_hold,
    closed,
    cancelled,
]


def page_actions(client: Client, order: SalesOrder) -> list[str]:
    html = client.get(f"/sales/orders/{order.pk}/").content.decode()
    [div] = ACTIONS_DIV.findall(html)
    # each action is a form with a data-action button, except ship: a link to its dialog
    return [a or b for a, b in re.findall(r'data-action="(\w+)"|href="/sales/orders/\d+/(ship)/"', div)]


@pytest.mark.parametrize("policy", [InvoicePolicy.ORDERED, InvoicePolicy.SHIPPED])
@pytest.mark.parametrize("make", STATES, ids=lambda f: f.__name__)
def test_the_page_and_the_api_offer_the_same_actions_and_figures(make, policy):
    # given
    user = UserFactory(roles=["Sales"])
    browser = Client()
    browser.force_login(user)
    api = Client()
    headers = bearer(api_key_for(user))
    order = make(policy)

    # when
    page = page_actions(browser, order)
    answer = api.get(f"/api/v1/sales/orders/{order.pk}", **headers).json()

    # then: the same buttons, in the same order
    assert page == answer["allowed_actions"], (order.status, policy)
    invoiceable = "invoice" in page
    lines = order.lines.all()
    by_shipped = policy == InvoicePolicy.SHIPPED
    waiting = any((ln.quantity_shipped if by_shipped else ln.quantity) > ln.quantity_invoiced for ln in lines)
    assert invoiceable == (waiting and order.status not in ("draft", "on_hold", "cancelled"))
    backorder = [D(line["backordered"]) for line in answer["lines"]]
    assert backorder == ([D(2)] if make is backordered else [D(0)])
    shown = detail_context(order.pk)
    assert (shown["invoiced"], shown["paid"], shown["balance"]) == (
        D(answer["invoiced"]),
        D(answer["paid"]),
        D(answer["balance"]),
    )
