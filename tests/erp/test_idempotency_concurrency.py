"""Concurrent replays on PostgreSQL with real threads: the unique constraint decides who acts."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from erp.models import IdempotencyRecord
from sales.models import SalesOrder
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.sales.factories import ChannelFactory, CustomerFactory, stocked_product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = "/api/v1/sales/orders"


def test_five_concurrent_identical_posts_create_one_order():
    # given
    raw = api_key_for(UserFactory(roles=["Sales"]))
    product = stocked_product(10, price="10.00")
    body = json.dumps(
        {
            "channel": ChannelFactory().pk,
            "customer": CustomerFactory().pk,
            "lines": [{"product": product.pk, "quantity": 1}],
            "confirm": True,
        }
    )
    start = threading.Barrier(5)

    def post(_: int):
        try:
            start.wait()
            response = Client().post(
                ORDERS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-1", **bearer(raw)
            )
            return response.status_code, response.get("Idempotent-Replayed"), response.content
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(post, range(5)))

    # then: one acted; the others got its answer, or were told to retry while it was running
    assert SalesOrder.objects.count() == 1
    acted = [a for a in answers if a[0] == 201 and a[1] is None]
    assert len(acted) == 1
    for status, replayed, content in answers:
        if (status, replayed) == (201, "true"):
            assert content == acted[0][2]
        else:
            assert status == 409 or (status, replayed) == (201, None)
    assert IdempotencyRecord.objects.get().state == "completed"

    # and: a later retry gets the stored answer
    later = Client().post(
        ORDERS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-1", **bearer(raw)
    )
    assert (later.status_code, later["Idempotent-Replayed"], later.content) == (201, "true", acted[0][2])
    assert SalesOrder.objects.count() == 1
