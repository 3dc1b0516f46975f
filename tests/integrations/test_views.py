"""The hub's pages: every page renders, who may open and change what, secrets never shown,
and what a list costs in queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Connection, ConnectionStatus, DeliveryStatus, InboundStatus
from tests.erp.factories import UserFactory
from tests.integrations.factories import ConnectionFactory
from tests.integrations.ui_support import (
    SECRETS,
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    delivery,
    drift,
    fake_fixture,  # noqa: F401  (a fixture)
    htmx,
    inbound_event,
    outsider_fixture,  # noqa: F401  (a fixture)
    quarantined,
    reader_fixture,  # noqa: F401  (a fixture)
    shop_fixture,  # noqa: F401  (a fixture)
    sync_run,
)
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


def page_urls(conn: Connection) -> list[str]:
    run = sync_run(conn)
    event = inbound_event(conn)
    dead = delivery(connection=conn)
    pk = conn.pk
    return [
        reverse("integrations:index"),
        reverse("integrations:hub-status"),
        reverse("integrations:catalogue"),
        # The connection forms (new, settings) are writers' only: tests/erp/test_defects_forms_forbidden.py
        reverse("integrations:connection", args=[pk]),
        reverse("integrations:connection-sync", args=[pk]),
        reverse("integrations:sync-run", args=[run.pk]),
        reverse("integrations:connection-events", args=[pk]),
        reverse("integrations:event", args=[event.pk]),
        reverse("integrations:connection-deliveries", args=[pk]),
        reverse("integrations:delivery", args=[dead.pk]),
        reverse("integrations:connection-quarantine", args=[pk]),
        reverse("integrations:connection-drifts", args=[pk]),
        reverse("integrations:connection-mappings", args=[pk]),
        reverse("integrations:product-options", args=[pk]) + "?q=x",
    ]


# --- every page, and who may see it ----------------------------------------------------------------


def test_every_page_renders_for_a_reader(reader: Client, connection: Connection) -> None:
    # given: one of everything the pages list
    quarantined(connection, "STOVE-TI-01")
    drift(connection, healable=True)
    for url in page_urls(connection):
        # when
        response = reader.get(url)
        # then
        assert response.status_code == 200, url


def test_a_user_without_the_integrations_right_gets_403_everywhere(
    outsider: Client, connection: Connection
) -> None:
    for url in page_urls(connection):
        response = outsider.get(url)
        assert response.status_code == 403, url
        assert b"Integrations (read)" in response.content


def test_anonymous_users_are_sent_to_log_in(connection: Connection) -> None:
    response = Client().get(reverse("integrations:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_reader_cannot_change_anything(reader: Client, connection: Connection) -> None:
    # given
    dead = delivery(connection=connection)
    event = inbound_event(connection, status=InboundStatus.FAILED)
    pk = connection.pk
    posts = [
        reverse("integrations:connection-new", args=["shopify"]),
        reverse("integrations:connection-edit", args=[pk]),
        reverse("integrations:connection-delete", args=[pk]),
        reverse("integrations:connection-action", args=[pk, "pause"]),
        reverse("integrations:connection-action", args=[pk, "test"]),
        reverse("integrations:delivery-retry", args=[dead.pk]),
        reverse("integrations:event-replay", args=[event.pk]),
        reverse("integrations:quarantine-map", args=[pk]),
        reverse("integrations:connection-mappings", args=[pk]),
        reverse("integrations:sku-mapping-add", args=[pk]),
    ]
    for url in posts:
        # when
        response = reader.post(url, {"name": "x"})
        # then
        assert response.status_code == 403, url
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.DEAD


def test_the_write_buttons_are_shown_to_writers_only(
    admin: Client, reader: Client, connection: Connection
) -> None:
    url = reverse("integrations:connection", args=[connection.pk])
    assert b"Test connection" in admin.get(url).content
    assert b"Test connection" not in reader.get(url).content


def test_the_integrations_area_is_in_the_navigation_with_my_webhooks_in_the_user_menu(reader: Client) -> None:
    content = reader.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("integrations:index")}"' in content
    assert f'href="{reverse("integrations:webhooks")}"' in content


# --- secrets ---------------------------------------------------------------------------------------


def test_secrets_are_never_in_any_page(admin: Client, connection: Connection) -> None:
    # given: a connection whose secrets are set
    for url in page_urls(connection):
        # when
        content = admin.get(url).content.decode()
        # then
        for value in SECRETS.values():
            assert value not in content, url
    settings_page = admin.get(reverse("integrations:connection-edit", args=[connection.pk])).content.decode()
    assert "Set — leave blank to keep." in settings_page
    assert 'type="password"' in settings_page


def test_a_refused_form_does_not_echo_the_secrets_typed(admin: Client, connection: Connection) -> None:
    # when: a new connection with a bad setting and real-looking secrets
    response = admin.post(
        reverse("integrations:connection-new", args=["shopify"]),
        {
            "name": "Second store",
            "setting__shop_domain": "second.myshopify.com",
            "setting__api_version": "2025-07",
            "setting__location_id": "0",
            "setting__inventory_api": "rest",
            "secret__access_token": "shpat_typed_secret_value",
            "secret__client_secret": "shpss_typed_secret_value",
        },
    )
    # then: the error is next to the field, the secrets are not in the answer, nothing was created
    content = response.content.decode()
    assert response.status_code == 200
    assert "greater than 0" in content
    assert "shpat_typed_secret_value" not in content
    assert "shpss_typed_secret_value" not in content
    assert not Connection.objects.filter(name="Second store").exists()


# --- the hub page ------------------------------------------------------------------------------------


def test_the_hub_draws_every_connection_around_the_backend(reader: Client, connection: Connection) -> None:
    # given: a second connection, with a dead letter
    other = ConnectionFactory(name="Outlet", settings=connection.settings)
    delivery(connection=other)
    # when
    content = reader.get(reverse("integrations:index")).content.decode()
    # then
    assert "ERP backend" in content
    assert f'id="node-{connection.pk}"' in content
    assert f'id="node-{other.pk}"' in content
    assert "1 dead" in content
    assert 'hx-trigger="every 5s' in content


def test_the_hub_without_connections_invites_to_add_one(admin: Client) -> None:
    content = admin.get(reverse("integrations:index")).content.decode()
    assert "No connections yet" in content
    assert reverse("integrations:catalogue") in content


def test_the_status_fragment_swaps_each_live_part_in_by_its_id(
    reader: Client, connection: Connection
) -> None:
    # given
    quarantined(connection, "STOVE-TI-01")
    # when
    response = reader.get(reverse("integrations:hub-status"), **htmx())
    content = response.content.decode()
    # then: only the live parts, each out of band
    assert "<html" not in content
    for element in ("hub-totals", "hub-edges", f"node-{connection.pk}-status", "conn-rows"):
        assert f'id="{element}"' in content
    assert content.count('hx-swap-oob="true"') == 4
    assert "1 quarantined" in content


def test_the_hub_page_and_its_status_cost_the_same_for_many_connections(
    reader: Client, connection: Connection
) -> None:
    def grow() -> None:
        start = Connection.objects.count()
        for i in range(start, start + 5):
            other = ConnectionFactory(name=f"Store {i}", settings=connection.settings)
            delivery(connection=other)
            quarantined(other, f"SKU-{i}")
            drift(other)
            sync_run(other)

    assert_constant_queries(lambda: reader.get(reverse("integrations:index")), grow)
    assert_constant_queries(lambda: reader.get(reverse("integrations:hub-status"), **htmx()), grow)


def test_the_catalogue_lists_the_connectors_with_an_add_link(admin: Client, connection: Connection) -> None:
    content = admin.get(reverse("integrations:catalogue")).content.decode()
    assert "Shopify" in content
    assert reverse("integrations:connection-new", args=["shopify"]) in content
    assert "1 connection" in content


def test_an_unknown_connector_is_a_404(admin: Client) -> None:
    assert admin.get(reverse("integrations:connection-new", args=["nope"])).status_code == 404
    assert admin.get(reverse("integrations:connection", args=[999])).status_code == 404


def test_a_dashboard_user_without_rights_sees_no_hub_link(outsider: Client) -> None:
    content = outsider.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("integrations:index")}"' not in content


def test_users_are_only_shown_connections_by_id_they_may_read() -> None:
    # given: a user with no role at all
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    # then
    assert client.get(reverse("integrations:index")).status_code == 403
