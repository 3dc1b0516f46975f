"""A new connection works at once: made as the README shows (`create_connection shopify --name ...
--settings ... --secrets ...`, no channel named), it gets a sales channel of its own and imports
its first order, in the currency the shop sells in."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.models import Connection, InboundEvent, InboundStatus
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, sample_webhook
from inventory.models import Warehouse
from sales.models import OrderStatus, SalesChannel, SalesOrder
from tests.integrations.shopify.conftest import shopify_settings
from tests.integrations.shopify.scenario import deliver, stocked_store

pytestmark = pytest.mark.django_db


def create_connection(name: str = "Acme Outdoors") -> Connection:
    out = StringIO()
    call_command(  # as the README shows it: no warehouse, no channel
        "create_connection",
        "shopify",
        name=name,
        connection_settings=json.dumps(shopify_settings()),
        secrets=json.dumps({"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET}),
        stdout=out,
    )
    return Connection.objects.get(pk=int(out.getvalue()))


def test_a_connection_made_with_only_its_credentials_imports_its_first_order(
    client, shop, settings, django_capture_on_commit_callbacks
):
    # given: the hub's books are in EUR, the shop sells in USD; a warehouse and the sample's products
    settings.ERP_BASE_CURRENCY = "EUR"
    store = stocked_store()
    connection = create_connection()

    # then: a channel of its own, named after it, selling from the warehouse
    channel = connection.sales_channel
    assert channel is not None
    assert (channel.code, channel.name, channel.warehouse, channel.kind) == (
        "acme-outdoors",
        "Acme Outdoors",
        store["warehouse"],
        "web_store",
    )

    # when: the first order arrives
    deliver(client, connection, sample_webhook(), django_capture_on_commit_callbacks)

    # then: imported and confirmed, the channel now in the shop's currency
    order = SalesOrder.objects.get()
    assert (order.status, order.channel, order.currency) == (OrderStatus.CONFIRMED, channel, "USD")
    channel.refresh_from_db()
    assert channel.currency == "USD"


def test_two_connections_of_the_same_name_stem_get_channels_of_their_own():
    stocked_store()
    first = create_connection("Acme Outdoors")
    second = create_connection("Acme  Outdoors!")

    assert first.sales_channel is not None
    assert second.sales_channel is not None
    assert (first.sales_channel.code, second.sales_channel.code) == ("acme-outdoors", "acme-outdoors-2")


def test_without_a_warehouse_the_first_order_says_how_to_fix_it(
    client, shop, django_capture_on_commit_callbacks
):
    assert not Warehouse.objects.exists()
    connection = create_connection()
    assert connection.sales_channel is None
    assert not SalesChannel.objects.exists()

    deliver(client, connection, sample_webhook(), django_capture_on_commit_callbacks)

    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.QUARANTINED  # for a person: retrying alone would not help
    assert event.missing == {"kind": "setting", "value": "sales channel"}
    assert "choose one to import orders into on the connection's page (Edit)" in event.last_error
