"""An order placed in one go (``order_place``) writes its history record itself, by a statement built
once (issue #22): the same row simple-history's ``post_save`` writes, user and API key included,
one record per order, read by the order's timeline."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.db.models import Model
from django.db.models.signals import post_save
from django.test import Client
from simple_history.models import HistoricalRecords

from erp.models import ApiKey
from sales import services
from sales.models import SalesOrder
from sales.services import LineSpec
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.sales.factories import VAT, ChannelFactory, CustomerFactory, stocked_product

pytestmark = pytest.mark.django_db


def simple_history_of(model: type[Model]) -> HistoricalRecords:
    """The HistoricalRecords that writes ``model``'s history on post_save."""
    receivers, _ = post_save._live_receivers(model)  # type: ignore[attr-defined]
    for receiver in receivers:
        owner = getattr(receiver, "__self__", None)
        if isinstance(owner, HistoricalRecords):
            return owner
    raise AssertionError(f"{model.__name__} has no history")


def columns(row: Model) -> dict[str, Any]:
    skipped = {"history_id", "history_date"}
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in skipped}


@pytest.mark.parametrize("confirm", [True, False], ids=["confirmed", "draft"])
def test_the_history_record_is_the_row_simple_history_writes(confirm: bool):
    # given: a request through an API key, as simple-history's middleware leaves it
    user = UserFactory(roles=["Sales"])
    api_key_for(user)
    key = ApiKey.objects.get(user=user)
    HistoricalRecords.context.request = SimpleNamespace(user=user, api_key=key)
    try:
        # when
        placed = services.order_place(
            channel=ChannelFactory(),
            customer=CustomerFactory(),
            lines=[LineSpec(product=stocked_product(5), quantity=2, taxes=VAT)],
            confirm=confirm,
            notes="gift",
            tags=["b", "a"],
            user=user,
        )
        ours = SalesOrder.history.get(id=placed.order.pk)
        simple_history_of(SalesOrder).create_historical_record(placed.order, "+")  # what post_save wrote
    finally:
        del HistoricalRecords.context.request

    # then
    theirs = SalesOrder.history.filter(id=placed.order.pk).exclude(history_id=ours.history_id).get()
    assert columns(ours) == columns(theirs)
    assert (ours.history_type, ours.history_user, ours.history_api_key) == ("+", user, key)
    assert ours.status == ("confirmed" if confirm else "draft")
    assert abs((ours.history_date - theirs.history_date).total_seconds()) < 60


def test_an_order_placed_through_the_api_has_one_history_record_naming_the_user_and_key():
    # given
    sam = UserFactory(username="sam", is_superuser=True)
    raw = api_key_for(sam, name="Shopify")
    body = {
        "channel": ChannelFactory().pk,
        "customer": CustomerFactory().pk,
        "lines": [{"sku": stocked_product(5, sku="HIST-1").sku, "quantity": "1"}],
        "confirm": True,
    }

    # when
    response = Client().post(
        "/api/v1/sales/orders", json.dumps(body), content_type="application/json", **bearer(raw)
    )

    # then
    assert response.status_code == 201, response.content
    records = list(SalesOrder.history.filter(id=response.json()["id"]))
    assert len(records) == 1
    assert (records[0].history_type, records[0].status) == ("+", "confirmed")
    assert (records[0].history_user, records[0].history_api_key) == (sam, ApiKey.objects.get(name="Shopify"))


def test_an_order_placed_outside_a_request_records_no_user():
    # when
    placed = services.order_place(
        channel=ChannelFactory(),
        customer=CustomerFactory(),
        lines=[LineSpec(product=stocked_product(5), quantity=1)],
    )

    # then
    record = SalesOrder.history.get(id=placed.order.pk)
    assert (record.history_user, record.history_api_key, record.history_type) == (None, None, "+")
