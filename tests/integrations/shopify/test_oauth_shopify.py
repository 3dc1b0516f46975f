"""Shopify's sign-in: "Connect to Shopify" to the shop's consent page (the fake's: the app, the
shop and the scopes, Install / Cancel), back with a code and Shopify's hmac, and the code traded
for an offline token that is stored and works. A callback whose hmac does not match, that names
another shop or is stale is refused before the code goes anywhere; a code is good once. The
demo's connection signs in through the fake this app serves, at the app's own address."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from erp.exceptions import ValidationFailed
from integrations import demo, registry
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import Connection, ConnectionStatus, RequestLog
from integrations.shopify.connector import SCOPES
from integrations.shopify.fake import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    SHOP_DOMAIN,
    FakeShopify,
    callback_hmac,
    shared_fake,
)
from tests.integrations.shopify.conftest import SHOP_URL, shopify_settings
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/integrations/oauth/callback/"
APP = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def messages_of(response) -> list[str]:
    """The messages of the request (and of the ones before it whose redirect was not followed)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def store(shop: FakeShopify) -> Connection:
    """A Shopify connection with the app's client id and secret, not signed in yet."""
    return connection_create(
        connector="shopify", name="Acme Outdoors", settings=shopify_settings(), secrets=APP
    )


def connect(admin: Client, connection: Connection) -> str:
    """ "Connect to Shopify": the consent page's address at the shop."""
    response = admin.post(reverse("integrations:oauth-connect", args=[connection.pk]))
    assert response.status_code == 302, messages_of(response)
    return str(response["Location"])


def install(fake: FakeShopify, authorize_url: str, decision: str = "install") -> str:
    """The merchant on the consent page clicks Install (or Cancel): where Shopify sends the browser."""
    page = fake.handle(httpx.Request("GET", authorize_url))
    assert page.status_code == 200, page.text
    assert "ERP integration hub" in page.text
    assert "Acme Outdoors" in page.text
    answer = fake.handle(
        httpx.Request("GET", httpx.URL(authorize_url).copy_merge_params({"decision": decision}))
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(httpx.URL(url).query.decode()))


def resigned(callback: str, **changes: str) -> dict[str, str]:
    """The callback's query with ``changes``, signed again with the app's secret (as Shopify would
    sign a callback of another install of the same app)."""
    params = {**query(callback), **changes}
    params["hmac"] = callback_hmac(CLIENT_SECRET, params)
    return params


def back(admin: Client, params: dict[str, str]):
    return admin.get(reverse("integrations:oauth-callback"), params)


def test_connecting_to_shopify_stores_an_offline_token_that_works(
    admin: Client, store: Connection, shop: FakeShopify
) -> None:
    # the consent page at the shop: the app's client id, our callback, the scopes, a state
    authorize = connect(admin, store)
    assert authorize.startswith(f"{SHOP_URL}/admin/oauth/authorize?")
    params = query(authorize)
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == ",".join(SCOPES)
    assert params["state"]
    page = shop.handle(httpx.Request("GET", authorize)).text
    for scope in SCOPES:
        assert scope in page
    assert ">Install</button>" in page
    assert ">Cancel</button>" in page

    # Install: back with a code, the shop, a timestamp and Shopify's hmac
    callback = install(shop, authorize)
    assert callback.startswith(CALLBACK)
    answer = query(callback)
    assert {"code", "hmac", "host", "shop", "state", "timestamp"} <= set(answer)
    assert answer["shop"] == SHOP_DOMAIN
    assert answer["hmac"] == callback_hmac(CLIENT_SECRET, answer)

    response = back(admin, answer)
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:connection", args=[store.pk])
    assert messages_of(response) == [
        "Connected to Shopify: the new tokens are stored (re-authorise within 89 days)."
    ]

    row = Connection.objects.get(pk=store.pk)
    token = row.get_secrets()["access_token"]
    assert token in shop.issued_tokens
    assert token != ACCESS_TOKEN
    assert shop.issued_tokens[token] == ",".join(SCOPES)
    assert row.get_secrets()["client_id"] == CLIENT_ID  # the app's client is kept
    assert row.status == ConnectionStatus.ACTIVE
    assert row.token_expires_at is not None  # an expiring offline token (expiring=1): an hour
    assert row.refresh_expires_at is not None
    assert row.get_secrets()["refresh_token"]
    assert [call.status for call in shop.token_calls] == [200]
    # the token works, and the sign-in's secrets are not in the request log
    assert registry.connector_for(row).test() == "Acme Outdoors"
    logged = " ".join(f"{log.url} {log.request_body} {log.response_body}" for log in RequestLog.objects.all())
    assert "oauth/access_token" in logged
    for secret in (token, row.get_secrets()["refresh_token"], answer["code"], CLIENT_SECRET):
        assert secret not in logged
    page = admin.get(reverse("integrations:connection", args=[store.pk])).content.decode()
    assert "signed in" in page
    assert "Re-authorise" in page


def test_a_callback_whose_hmac_does_not_match_is_refused_and_the_code_never_sent(
    admin: Client, store: Connection, shop: FakeShopify
) -> None:
    answer = query(install(shop, connect(admin, store)))
    for forged in ("0" * 64, callback_hmac("another-apps-secret", answer), ""):
        authorize = connect(admin, store)
        answer = query(install(shop, authorize))
        response = back(admin, {**answer, "hmac": forged})
        assert messages_of(response)[-1] == (
            "Shopify refused to give tokens for the sign-in: the callback's signature (hmac) does not "
            "match the app's client secret, so it may not be Shopify's. Nothing changed."
        )
    # a parameter changed after Shopify signed it: refused too
    answer = query(install(shop, connect(admin, store)))
    response = back(admin, {**answer, "timestamp": str(int(answer["timestamp"]) + 1)})
    assert "does not match the app's client secret" in messages_of(response)[-1]
    assert shop.token_calls == []
    assert "access_token" not in Connection.objects.get(pk=store.pk).get_secrets()


def test_a_callback_for_another_shop_is_refused(admin: Client, store: Connection, shop: FakeShopify) -> None:
    # one app's secret signs the callbacks of every shop that installs it: a valid hmac is not enough
    callback = install(shop, connect(admin, store))
    response = back(admin, resigned(callback, shop="someone-else.myshopify.com"))
    assert messages_of(response) == [
        "Shopify refused to give tokens for the sign-in: the callback is for the shop "
        "someone-else.myshopify.com, not this connection's acme-outdoors.myshopify.com. Nothing changed."
    ]
    assert shop.token_calls == []
    assert "access_token" not in Connection.objects.get(pk=store.pk).get_secrets()


def test_a_stale_callback_is_refused(admin: Client, store: Connection, shop: FakeShopify) -> None:
    callback = install(shop, connect(admin, store))
    response = back(admin, resigned(callback, timestamp=str(int(time.time()) - 3600)))
    assert "the callback's timestamp is missing or more than 10 minutes off" in messages_of(response)[0]
    assert shop.token_calls == []


def test_a_code_is_good_once(admin: Client, store: Connection, shop: FakeShopify) -> None:
    # given: signed in with a code
    first = query(install(shop, connect(admin, store)))
    back(admin, first)
    token = Connection.objects.get(pk=store.pk).get_secrets()["access_token"]
    # when: the same code comes back on a new sign-in (its own state, Shopify's hmac)
    state = query(connect(admin, store))["state"]
    params = {k: v for k, v in first.items() if k != "hmac"} | {"state": state}
    params["hmac"] = callback_hmac(CLIENT_SECRET, params)
    response = back(admin, params)
    # then: the shop refuses it, and nothing changed
    message = messages_of(response)[-1]
    assert message.startswith("Shopify refused to give tokens for the sign-in:")
    assert "The authorization code was not found or was already used" in message
    assert [call.status for call in shop.token_calls] == [200, 400]
    assert Connection.objects.get(pk=store.pk).get_secrets()["access_token"] == token
    # and at the token endpoint itself
    again = shop.handle(
        httpx.Request(
            "POST",
            f"{SHOP_URL}/admin/oauth/access_token",
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": first["code"]},
        )
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_the_token_endpoint_takes_the_apps_credentials_only(shop: FakeShopify) -> None:
    page = shop.handle(
        httpx.Request(
            "GET",
            httpx.URL(f"{SHOP_URL}/admin/oauth/authorize").copy_merge_params(
                {"client_id": CLIENT_ID, "scope": "read_orders", "redirect_uri": CALLBACK, "state": "s"}
            ),
        )
    )
    assert page.status_code == 200
    code = query(install(shop, str(page.request.url)))["code"]
    wrong = shop.handle(
        httpx.Request(
            "POST",
            f"{SHOP_URL}/admin/oauth/access_token",
            json={"client_id": CLIENT_ID, "client_secret": "not-the-secret", "code": code},
        )
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client"
    right = shop.handle(
        httpx.Request(
            "POST",
            f"{SHOP_URL}/admin/oauth/access_token",
            json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code},
        )
    )
    assert right.status_code == 200
    assert right.json() == {"access_token": right.json()["access_token"], "scope": "read_orders"}
    # an unknown app gets no consent page
    other = shop.handle(
        httpx.Request(
            "GET", httpx.URL(f"{SHOP_URL}/admin/oauth/authorize").copy_merge_params({"client_id": "x"})
        )
    )
    assert other.status_code == 400


def test_cancel_changes_nothing(admin: Client, store: Connection, shop: FakeShopify) -> None:
    response = back(admin, query(install(shop, connect(admin, store), decision="cancel")))
    assert messages_of(response) == [
        "Shopify did not grant access (The merchant cancelled the install). Nothing changed."
    ]
    assert shop.token_calls == []


def test_an_uninstalled_app_is_installed_again(admin: Client, store: Connection, shop: FakeShopify) -> None:
    back(admin, query(install(shop, connect(admin, store))))
    connection = Connection.objects.get(pk=store.pk)
    assert registry.connector_for(connection).test() == "Acme Outdoors"
    # the merchant uninstalls the app: its token and its refresh token are refused, the connection
    # needs a person
    shop.revoke_token()
    with pytest.raises(Exception, match="Shopify refused the refresh token"):
        registry.connector_for(connection).test()
    assert Connection.objects.get(pk=store.pk).status == ConnectionStatus.NEEDS_REAUTH
    # Re-authorise: installed again, a new token, active again
    back(admin, query(install(shop, connect(admin, store))))
    connection = Connection.objects.get(pk=store.pk)
    assert connection.status == ConnectionStatus.ACTIVE
    assert registry.connector_for(connection).test() == "Acme Outdoors"


def test_a_connection_takes_a_token_or_the_apps_client_id(db) -> None:
    with pytest.raises(ValidationFailed) as refused:
        connection_create(
            connector="shopify",
            name="No way in",
            settings=shopify_settings(),
            secrets={"client_secret": CLIENT_SECRET},
        )
    assert "secrets.access_token" in refused.value.field_errors
    assert "client id" in refused.value.field_errors["secrets.access_token"][0]


# --- the demo ----------------------------------------------------------------------------------------


@pytest.fixture
def demo_shop(settings) -> Any:
    """The demo's fake, served by this app and mounted for the hub (as ``make run`` does)."""
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    with mounted(demo.demo_base_url(), httpx.WSGITransport(app=shared_fake())):
        yield shared_fake()


def test_the_demo_connection_signs_in_through_the_fake_this_app_serves(admin: Client, demo_shop) -> None:
    demo.seed_integrations()
    seeded = Connection.objects.get(name=demo.DEMO_NAME)
    assert seeded.get_secrets()["access_token"] == ACCESS_TOKEN  # the static token: the demo works at once
    # the consent page is at the app's own address (under the fake's path)
    authorize = connect(admin, seeded)
    assert authorize.startswith(f"{demo.demo_base_url()}/admin/oauth/authorize?")
    page = admin.get(httpx.URL(authorize).raw_path.decode())
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "Install app" in page.content.decode()
    installed = admin.get(httpx.URL(authorize).copy_merge_params({"decision": "install"}).raw_path.decode())
    assert installed.status_code == 302
    assert installed["Location"].startswith(CALLBACK)
    # back here: the token endpoint answered through the hub's client, the new token stored and good
    response = back(admin, query(installed["Location"]))
    assert messages_of(response)[0].startswith("Connected to Shopify: the new tokens are stored")
    token = Connection.objects.get(pk=seeded.pk).get_secrets()["access_token"]
    assert token in demo_shop.issued_tokens
    assert registry.connector_for(Connection.objects.get(pk=seeded.pk)).test() == "Acme Outdoors"
    assert demo_shop.accepts_token(ACCESS_TOKEN)  # the static token still works for the rest of the demo


def test_a_demo_seeded_before_the_sign_in_gets_the_apps_client_id(admin: Client, demo_shop) -> None:
    demo.seed_integrations()
    seeded = Connection.objects.get(name=demo.DEMO_NAME)
    secrets = seeded.get_secrets()
    del secrets["client_id"]
    seeded.set_secrets(secrets)
    seeded.save(update_fields=["secrets_encrypted"])
    demo.seed_integrations()
    assert Connection.objects.get(pk=seeded.pk).get_secrets() == {
        "access_token": ACCESS_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
