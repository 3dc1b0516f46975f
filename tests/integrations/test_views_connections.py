"""A connection's pages: adding one from the form its connector's schema draws, editing it with
write-only secrets, deleting it, and the actions of its header (test, poll, reconcile, pause…)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from erp.models import Job
from integrations.contract import Capability
from integrations.models import Connection, ConnectionStatus, DeliveryStatus, InboundStatus, SyncJob, SyncRun
from integrations.shopify.connector import ShopifyConnector
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, SHOP_DOMAIN, FakeShopify
from inventory.models import Product
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    delivery,
    fake_fixture,  # noqa: F401  (a fixture)
    inbound_event,
    mapped_variant,
    reader_fixture,  # noqa: F401  (a fixture)
    shop_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def new_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "EU store",
        "setting__shop_domain": "eu-store.myshopify.com",
        "setting__api_version": "2025-10",
        "setting__location_id": "42",
        "setting__base_url": "",
        "setting__inventory_api": "graphql",
        "secret__access_token": "shpat_eu_token_1234",
        "secret__client_secret": "shpss_eu_secret_5678",
        "warehouse": "",
        "sales_channel": "",
    }
    data.update(overrides)
    return data


# --- adding a connection ---------------------------------------------------------------------------


def test_the_form_is_drawn_from_the_connectors_schemas(admin: Client) -> None:
    # when
    content = admin.get(reverse("integrations:connection-new", args=["shopify"])).content.decode()
    # then: a field per setting, of the right kind, and the secrets as password inputs
    assert 'name="setting__shop_domain"' in content
    assert 'type="number" name="setting__location_id"' in content
    assert '<select name="setting__inventory_api"' in content
    assert '<option value="graphql"' in content
    assert 'type="password" name="secret__access_token"' in content
    assert 'type="password" name="secret__client_secret"' in content
    assert 'value="2025-07"' in content  # the schema's default


def test_adding_a_connection_validates_and_encrypts_its_secrets(admin: Client) -> None:
    # given
    wh = warehouse("WH1")
    channel = ChannelFactory(code="eu", warehouse=wh)
    # when
    response = admin.post(
        reverse("integrations:connection-new", args=["shopify"]),
        new_form(warehouse=str(wh.pk), sales_channel=str(channel.pk)),
    )
    # then
    connection = Connection.objects.get(name="EU store")
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connection", args=[connection.pk])
    assert connection.settings["location_id"] == 42
    assert connection.settings["inventory_api"] == "graphql"
    assert connection.api_version == "2025-10"
    assert (connection.warehouse, connection.sales_channel) == (wh, channel)
    assert connection.get_secrets() == {
        "access_token": "shpat_eu_token_1234",
        "client_secret": "shpss_eu_secret_5678",
    }
    assert "shpat_eu_token_1234" not in connection.secrets_encrypted
    assert connection.created_by is not None


def test_a_refused_connection_shows_each_error_next_to_its_field(admin: Client) -> None:
    # when: a bad domain, and no access token
    response = admin.post(
        reverse("integrations:connection-new", args=["shopify"]),
        new_form(setting__shop_domain="not a domain!", secret__access_token=""),
    )
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "Enter the shop&#x27;s domain" in content
    assert content.count('class="field has-error"') == 2  # the domain, and the missing token: both at once
    assert not Connection.objects.exists()


def test_a_second_connection_cannot_take_a_name_in_use(admin: Client, connection: Connection) -> None:
    response = admin.post(
        reverse("integrations:connection-new", args=["shopify"]), new_form(name="acme outdoors")
    )
    assert "There is already a connection named" in response.content.decode()
    assert Connection.objects.count() == 1


# --- editing -------------------------------------------------------------------------------------


def test_blank_secrets_keep_what_is_stored_and_a_typed_one_replaces_only_itself(
    admin: Client, connection: Connection
) -> None:
    url = reverse("integrations:connection-edit", args=[connection.pk])
    data = new_form(name="Acme Outdoors US", secret__access_token="", secret__client_secret="")
    data["setting__shop_domain"] = SHOP_DOMAIN
    # when: saved with both secrets blank
    response = admin.post(url, data)
    # then
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Acme Outdoors US"
    assert connection.get_secrets() == {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET}
    # when: a new access token only
    admin.post(url, {**data, "secret__access_token": "shpat_rotated_9999"})
    # then
    connection.refresh_from_db()
    assert connection.get_secrets() == {"access_token": "shpat_rotated_9999", "client_secret": CLIENT_SECRET}


def test_new_secrets_make_a_connection_that_needed_reauthorisation_active(
    admin: Client, connection: Connection
) -> None:
    # given
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.NEEDS_REAUTH)
    data = new_form(name=connection.name, setting__shop_domain=SHOP_DOMAIN, secret__client_secret="")
    # when
    admin.post(reverse("integrations:connection-edit", args=[connection.pk]), data)
    # then
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


# --- deleting ------------------------------------------------------------------------------------


def test_deleting_is_refused_while_work_is_in_flight_unless_forced(
    admin: Client, connection: Connection
) -> None:
    # given: a delivery waiting to be pushed
    delivery(connection=connection, status=DeliveryStatus.PENDING)
    url = reverse("integrations:connection-delete", args=[connection.pk])
    # when
    response = admin.post(url)
    # then
    assert response.status_code == 302
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert "still has 1 delivery(ies) pending" in " ".join(messages_of(response))
    edit = admin.get(reverse("integrations:connection-edit", args=[connection.pk])).content.decode()
    assert "Delete anyway" in edit
    # when: forced
    response = admin.post(url, {"force": "on"})
    # then
    assert response["Location"] == reverse("integrations:index")
    assert not Connection.objects.filter(pk=connection.pk).exists()


# --- actions ---------------------------------------------------------------------------------------


def test_pause_and_resume(admin: Client, connection: Connection) -> None:
    url = reverse("integrations:connection", args=[connection.pk])
    # when
    response = admin.post(
        reverse("integrations:connection-action", args=[connection.pk, "pause"]), {"next": url}
    )
    # then
    assert response["Location"] == url
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PAUSED
    assert b"Resume" in admin.get(url).content
    # when
    admin.post(reverse("integrations:connection-action", args=[connection.pk, "resume"]))
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def test_a_foreign_next_is_not_followed(admin: Client, connection: Connection) -> None:
    response = admin.post(
        reverse("integrations:connection-action", args=[connection.pk, "pause"]),
        {"next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("integrations:connection", args=[connection.pk])


def test_testing_the_connection_says_what_the_shop_answered(
    admin: Client, connection: Connection, shop
) -> None:
    # when
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "test"]))
    # then
    assert any(m.startswith("Connection works") for m in messages_of(response)), messages_of(response)
    run = SyncRun.objects.get(connection=connection, job=SyncJob.TEST)
    assert run.status == "succeeded"
    assert run.requests.count() == 1


def test_a_failing_test_says_why(admin: Client, connection: Connection, shop: FakeShopify) -> None:
    # given: the app was uninstalled
    shop.revoke_token()
    # when
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "test"]))
    # then
    assert any(m.startswith("Connection test failed") for m in messages_of(response)), messages_of(response)
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Test connection" in page


def test_poll_now_brings_the_shops_orders_in(
    admin: Client, connection: Connection, shop: FakeShopify
) -> None:
    # given: the shop has an order of a product mapped here
    mapped_variant(connection, shop, "TENT-2P-GRN", 10)
    shop.create_order([("TENT-2P-GRN", 1)])
    # when
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "poll"]))
    # then
    text = " ".join(messages_of(response))
    assert text.startswith("Poll done"), text
    events = connection.inbound_events.filter(source="poll")
    assert events.exists()
    page = admin.get(reverse("integrations:connection-events", args=[connection.pk])).content.decode()
    assert "orders" in page or "order" in page


def test_import_products_creates_or_links_every_variant_and_says_how_it_went(
    admin: Client, connection: Connection, shop: FakeShopify
) -> None:
    # given: the shop's catalogue, none of it here yet
    skus = sorted(variant["sku"] for _, variant in shop.variants())
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Import products" in page
    # when: a background job, whose page says how it went
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "import-products"]))
    # then
    job = Job.objects.get(kind="product_import")
    assert response["Location"] == f"/jobs/{job.pk}/"
    text = admin.get(response["Location"]).content.decode()
    assert (
        f"Product import from {connection.name} done: {len(shop.products)} created." in text
    )  # one per product
    assert job.done == len(shop.products)  # counted product by product
    assert sorted(Product.objects.filter(sku__in=skus).values_list("sku", flat=True)) == skus
    assert connection.refs.filter(object_type="variant").count() == len(skus)


def test_import_products_answers_in_a_process_that_once_ran_a_worker(
    admin: Client, connection: Connection, shop: FakeShopify
) -> None:
    """A process where a Celery worker ran (the real-worker tests, then a browser test in the same
    process) marks joining a result as blocking: the import is a job, no result is joined."""
    from celery._state import _set_task_join_will_block, task_join_will_block

    before = task_join_will_block()
    _set_task_join_will_block(True)
    try:
        response = admin.post(
            reverse("integrations:connection-action", args=[connection.pk, "import-products"])
        )
    finally:
        _set_task_join_will_block(before)

    job = Job.objects.get(kind="product_import")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.state == "done"


def test_import_products_is_refused_for_a_connector_without_products(
    admin: Client, connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ShopifyConnector, "capabilities", frozenset({Capability.ORDERS_IN}))
    products = Product.objects.count()
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Import products" not in page
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "import-products"]))
    assert messages_of(response) == ["Shopify does not bring products in."]
    assert Product.objects.count() == products
    assert not Job.objects.exists()  # refused before a job is started


def test_reconcile_now_reports_and_heals_stock_drift(
    admin: Client, connection: Connection, shop: FakeShopify
) -> None:
    # given: 10 tents here, the shop says 3
    mapped_variant(connection, shop, "TENT-2P-GRN", 10)
    shop.set_available("TENT-2P-GRN", 3)
    # when
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "reconcile"]))
    # then: a job found and healed it (the hub owns stock), and the shop shows ours again
    job = Job.objects.get(kind="reconcile")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.done, job.total) == ("done", 2, 2)  # inventory, then orders
    assert job.result_url == reverse("integrations:connection-drifts", args=[connection.pk])
    assert shop.available("TENT-2P-GRN") == 10
    drifts = admin.get(reverse("integrations:connection-drifts", args=[connection.pk]) + "?status=healed")
    assert "TENT-2P-GRN" in drifts.content.decode()


def test_health_check_registers_the_missing_webhooks(
    admin: Client, connection: Connection, shop: FakeShopify
) -> None:
    # when
    response = admin.post(reverse("integrations:connection-action", args=[connection.pk, "health-check"]))
    # then
    assert " ".join(messages_of(response)).startswith("Health check done (4 created)")
    assert {w["topic"] for w in shop.webhooks.values()} >= {"orders/create", "orders/updated"}
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "all present" in page


def test_the_overview_shows_health_and_problems(admin: Client, connection: Connection) -> None:
    # given
    delivery(connection=connection)
    inbound_event(connection, status=InboundStatus.FAILED)
    # when
    content = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    # then
    assert "1 dead deliveries." in content
    assert "1 events failed." in content
    assert reverse("integrations:hook", args=[connection.pk]) in content
    assert 'class="count alert">1<' in content  # the deliveries tab shows its dead letter


def test_an_unknown_action_is_a_404(admin: Client, connection: Connection) -> None:
    url = f"/integrations/connections/{connection.pk}/explode/"
    assert admin.post(url).status_code == 404
