"""The `make run` demo: a demo BigCommerce store beside the demo Shopify, seeded idempotently, its fake
served at /integrations/fake-bigcommerce/ (the generic route of connector fakes) with the fakes on."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from erp import demo as erp_demo
from integrations import demo as shopify_demo
from integrations import health
from integrations.bigcommerce import demo
from integrations.bigcommerce.fake import ACCESS_TOKEN, STORE_HASH, shared_fake
from integrations.http import mounted
from integrations.models import Connection, ExternalRef
from tests.inventory.factories import unit, warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fakes_on(settings):
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    with mounted(demo.demo_base_url(), httpx.WSGITransport(app=shared_fake())):
        yield shared_fake()


@pytest.fixture
def seeded(db) -> Connection:
    unit("pcs")
    warehouse("MAIN")
    ChannelFactory(code="shopify", name="Shopify web store")
    shopify_demo.seed_integrations()  # the demo Shopify first: its products are ours
    demo.seed_bigcommerce()
    return Connection.objects.get(name=demo.DEMO_NAME)


def test_it_seeds_after_the_demo_shopify():
    seeders = [name for _, name, _ in sorted(erp_demo._seeders, key=lambda s: s[0])]

    assert seeders.index("integrations") < seeders.index("integrations-bigcommerce")


def test_the_seeder_is_idempotent_and_links_by_sku(seeded: Connection) -> None:
    refs = ExternalRef.objects.filter(connection=seeded).count()

    report = demo.seed_bigcommerce()

    assert Connection.objects.filter(name=demo.DEMO_NAME).count() == 1
    assert ExternalRef.objects.filter(connection=seeded).count() == refs == 3
    assert "SLBAG-20F-REG, TENT-2P-GRN, TENT-2P-ORG" in report[0]
    linked = dict(
        ExternalRef.objects.filter(connection=seeded, object_type="variant").values_list(
            "external_id", "object_id"
        )
    )
    assert set(linked) == {"77", "78", "81"}
    assert seeded.connector == "bigcommerce"
    assert (seeded.warehouse.code, seeded.sales_channel.code) == ("MAIN", demo.CHANNEL_CODE)
    assert seeded.sales_channel.warehouse == seeded.warehouse
    assert seeded.settings["base_url"] == demo.demo_base_url()
    assert demo.is_demo(seeded)
    assert Connection.objects.get(name=shopify_demo.DEMO_NAME).sales_channel.code == "shopify-demo"


def test_the_demo_connection_talks_to_the_fake_store(seeded: Connection, fakes_on) -> None:
    run = health.connection_test(connection=seeded)

    assert run.status == "succeeded", run.errors
    assert "Trail Supply Co" in str(run.errors)
    assert fakes_on.requests_to("v2/store", "GET")


def test_the_fake_store_is_served_only_with_the_fakes_on(client: Client, settings) -> None:
    url = f"/integrations/{demo.FAKE_PATH}/stores/{STORE_HASH}/v2/store"
    settings.ERP_DEMO_FAKES = False
    assert client.get(url, headers={"X-Auth-Token": ACCESS_TOKEN}).status_code == 404

    settings.ERP_DEMO_FAKES = True
    answer = client.get(url, headers={"X-Auth-Token": ACCESS_TOKEN})
    assert answer.status_code == 200
    assert answer.json()["id"] == STORE_HASH
    assert client.get(url).status_code == 401  # the store's own token, as BigCommerce's
    assert client.get("/integrations/fake-nothing/v2/store").status_code == 404
