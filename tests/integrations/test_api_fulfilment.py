"""The JSON API of who ships each warehouse's orders: /api/v1/integrations/fulfilment-rules."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.connections import connection_create
from integrations.models import FulfilmentRule
from integrations.shipstation.fake import API_KEY, API_SECRET, STORE_ID
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import warehouse
from tests.queries import assert_constant_queries
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/fulfilment-rules"


def client_for(role: str) -> tuple[Client, dict[str, str]]:
    return Client(), bearer(api_key_for(UserFactory(username=role.split()[0].lower(), roles=[role])))


@pytest.fixture
def shipping(db):
    return connection_create(
        connector="shipstation",
        name="Shipping",
        settings={"store_id": STORE_ID},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": "t"},
    )


def test_a_rule_is_set_listed_and_removed_through_the_api(shipping):
    client, headers = client_for("Integration admin")
    wh1 = warehouse("WH1")
    web = ChannelFactory(warehouse=wh1, code="web")

    answer = client.put(URL, {"warehouse": wh1.pk, "connection": shipping.pk}, "application/json", **headers)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["moved_orders"] == 0
    assert (body["rule"]["warehouse_code"], body["rule"]["connection"], body["rule"]["shipped_by"]) == (
        "WH1",
        shipping.pk,
        "Shipping",
    )
    client.put(URL, {"warehouse": wh1.pk, "channel": web.pk}, "application/json", **headers)
    listed = client.get(URL, **headers).json()
    assert [(r["channel"], r["connection"]) for r in listed] == [(None, shipping.pk), (web.pk, None)]

    gone = client.put(URL, {"warehouse": wh1.pk, "connection": None}, "application/json", **headers)
    assert gone.json() == {"rule": None, "moved_orders": 0}
    assert FulfilmentRule.objects.count() == 1


def test_bad_input_is_refused_per_field_and_changes_nothing(shipping):
    client, headers = client_for("Integration admin")
    wh1 = warehouse("WH1")
    elsewhere = ChannelFactory(warehouse=warehouse("WH2"), code="eu")

    for body, field in (
        ({"warehouse": 999999, "connection": shipping.pk}, "warehouse"),
        ({"warehouse": wh1.pk, "channel": elsewhere.pk, "connection": shipping.pk}, "channel"),
        ({"warehouse": wh1.pk, "connection": 999999}, "connection"),
    ):
        answer = client.put(URL, body, "application/json", **headers)
        assert answer.status_code == 422, answer.content
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert not FulfilmentRule.objects.exists()


def test_reading_needs_integrations_read_and_setting_write(shipping):
    reader, headers = client_for("Operations manager")
    wh1 = warehouse("WH1")
    assert reader.get(URL, **headers).status_code == 200
    refused = reader.put(URL, {"warehouse": wh1.pk, "connection": shipping.pk}, "application/json", **headers)
    assert refused.status_code == 403
    outsider, their_headers = client_for("Sales")
    assert outsider.get(URL, **their_headers).status_code == 403


def test_the_list_costs_the_same_queries_at_any_length(shipping):
    client, headers = client_for("Integration admin")
    made = iter(range(100))

    def grow() -> None:
        for _ in range(3):
            FulfilmentRule.objects.create(warehouse=warehouse(f"W{next(made)}"), connection=shipping)

    grow()
    assert_constant_queries(lambda: client.get(URL, **headers), grow)
