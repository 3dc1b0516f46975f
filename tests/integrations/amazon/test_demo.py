"""The `make run` demo: a demo Amazon US account beside the demo Shopify and BigCommerce, seeded
idempotently, its fake SP-API served at /integrations/fake-amazon/ with the fakes on."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from erp import demo as erp_demo
from integrations import demo as shopify_demo
from integrations import demo_fakes, health
from integrations.amazon import demo
from integrations.amazon.fake import SELLER_ID, shared_fake
from integrations.models import Connection, ExternalRef
from tests.inventory.factories import unit, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def connections_kept_open() -> Iterator[None]:
    """Requests served by Django's own WSGI handler in this process keep the test's connection: at a
    request's start and end Django closes a connection whose autocommit is not what its settings say
    (a test's transaction), as the test client prevents by the same means."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fakes_on(settings):
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    demo.install_fakes()
    yield shared_fake()
    from integrations import http

    http.unmount(demo_fakes.fake_url(demo.KEY))


@pytest.fixture
def seeded(db) -> Connection:
    unit("pcs")
    warehouse("MAIN")
    ChannelFactory(code="shopify", name="Shopify web store")
    shopify_demo.seed_integrations()  # the demo Shopify first: its products are ours
    demo.seed_amazon()
    return Connection.objects.get(name=demo.DEMO_NAME)


def test_it_seeds_after_the_other_demo_channels():
    seeders = [name for _, name, _ in sorted(erp_demo._seeders, key=lambda s: s[0])]

    assert seeders.index("integrations-bigcommerce") < seeders.index("integrations-amazon")


def test_the_seeder_is_idempotent_and_links_merchant_fulfilled_listings_by_sku(seeded: Connection) -> None:
    report = demo.seed_amazon()

    assert Connection.objects.filter(name=demo.DEMO_NAME).count() == 1
    linked = dict(
        ExternalRef.objects.filter(connection=seeded, object_type="variant").values_list(
            "external_id", "extra"
        )
    )
    assert set(linked) == {"SLBAG-20F-REG", "TENT-2P-GRN", "TENT-2P-ORG"}  # the stove is STOVE-TITANIUM here
    assert linked["TENT-2P-GRN"]["product_type"] == "TENT"
    assert "SLBAG-20F-REG, TENT-2P-GRN, TENT-2P-ORG" in report[0]
    assert (seeded.warehouse.code, seeded.sales_channel.code, seeded.sales_channel.kind) == (
        "MAIN",
        demo.CHANNEL_CODE,
        "marketplace",
    )
    assert seeded.settings["endpoint"] == demo_fakes.fake_url("amazon")


def test_the_demo_connection_signs_in_and_talks_to_the_fake(seeded: Connection, fakes_on) -> None:
    run = health.connection_test(connection=seeded)

    assert run.status == "succeeded", run.errors
    assert SELLER_ID in str(run.errors)
    assert fakes_on.refreshes == 1  # Login with Amazon gave the connection its first access token


def test_the_fake_is_served_only_with_the_fakes_on(client: Client, settings) -> None:
    url = f"/integrations/fake-amazon/listings/2021-08-01/items/{SELLER_ID}?marketplaceIds=ATVPDKIKX0DER"
    settings.ERP_DEMO_FAKES = False
    assert client.get(url).status_code == 404

    settings.ERP_DEMO_FAKES = True
    answer = client.get(url)
    assert answer.status_code == 403  # Amazon's own answer without an access token
    assert answer.json()["errors"][0]["code"] == "Unauthorized"
    token = shared_fake().access_token()
    assert client.get(url, headers={"x-amz-access-token": token}).status_code == 200


def test_a_token_the_served_fake_never_issued_is_refreshed_once_and_the_push_goes_through(
    seeded: Connection, fakes_on, django_capture_on_commit_callbacks
) -> None:
    """``make run``: seeding signed in against its own process's fake, whose tokens the served app's
    fake never issued. Amazon answers such a token 403 "revoked, malformed or invalid": one token
    refresh and the same request again, not a dead letter. The hub's requests reach the fake through
    the served app's own view (/integrations/fake-amazon/)."""
    from django.core.handlers.wsgi import WSGIHandler

    from integrations import http, outbound
    from integrations.models import Delivery, DeliveryStatus, RequestLog
    from inventory import availability
    from inventory.models import Product
    from inventory.services import stock_receive
    from tests.inventory.factories import bin_of

    assert health.connection_test(connection=seeded).status == "succeeded"  # the seeding process's token
    fakes_on.reset()  # the served app is another process: its fake never issued that token
    http.mount(demo_fakes.fake_url(demo.KEY), httpx.WSGITransport(app=WSGIHandler()))
    tent = Product.objects.get(sku="TENT-2P-GRN")
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(product=tent, location=bin_of(seeded.warehouse), quantity=7, unit_cost=1)
    Delivery.objects.filter(connection=seeded).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True), connections_kept_open():
        outbound.deliveries_enqueue_due()

    deliveries = list(Delivery.objects.filter(connection=seeded))
    assert [(d.status, d.last_error) for d in deliveries] == [(DeliveryStatus.SUCCEEDED, "")]
    assert fakes_on.refreshes == 1  # one refresh for the token it did not know
    assert [r.status for r in fakes_on.requests if r.status == 403] == [403]
    refused = RequestLog.objects.get(connection=seeded, status_code=403, method="PATCH")
    assert "revoked, malformed or invalid" in refused.response_body
    assert refused.url.startswith(demo_fakes.fake_url(demo.KEY))  # through the served app's view
    assert fakes_on.quantity("TENT-2P-GRN") == availability.of(tent.pk, seeded.warehouse_id).available
