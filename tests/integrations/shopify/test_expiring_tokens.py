"""Shopify's expiring offline access tokens: the sign-in asks for them (``expiring=1``) and stores
the access token's hour and the refresh token; the hub refreshes once, before the hour is up or on
a 401, and keeps the rotated refresh token; a refresh whose answer was lost is asked again with
the previous refresh token (Shopify keeps it until the new access token is used); a refused
refresh leaves the connection needing sign-in again; a static token is never refreshed."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import registry
from integrations.connections import connection_create
from integrations.contract import PushContext
from integrations.errors import AuthFailed, TransientError
from integrations.http import mounted
from integrations.models import Connection, ConnectionStatus, RequestLog
from integrations.records import InventoryOut
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, FakeShopify, shared_fake
from integrations.shopify.fake_oauth import ACCESS_TTL, REFRESH_TTL
from tests.integrations.shopify.conftest import SHOP_URL, shopify_settings
from tests.integrations.shopify.test_oauth_shopify import APP, back, connect, install, query
from tests.integrations.shopify.test_oauth_shopify import demo_shop as demo_shop  # a fixture
from tests.integrations.ui_support import admin_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

TOKEN_URL = f"{SHOP_URL}/admin/oauth/access_token"
PUSH = "inventory_levels/set.json"
TENT = InventoryOut(
    sku="TENT-2P-GRN", external_id="44012345678901", extra={"inventory_item_id": 46012345678901}, available=30
)


def signed_in(fake: FakeShopify) -> Connection:
    """A connection holding an expiring offline token and its refresh token, as the sign-in stores them."""
    issued = fake.issue_token(expiring=True)
    connection = connection_create(
        connector="shopify",
        name="Acme Outdoors",
        settings=shopify_settings(),
        secrets={**APP, "access_token": issued.access_token, "refresh_token": str(issued.refresh_token)},
    )
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=issued.expires_at, refresh_expires_at=issued.refresh_expires_at
    )
    return Connection.objects.get(pk=connection.pk)


def push(connection: Connection, available: int = 30, key: str = "delivery-1") -> str:
    """One worker's inventory push, with its own copy of the connection (as a worker loads it)."""
    own = Connection.objects.get(pk=connection.pk)
    return push_with(own, available, key)


def push_with(own: Connection, available: int = 30, key: str = "delivery-1") -> str:
    item = InventoryOut(**{**TENT.__dict__, "available": available})
    return registry.connector_for(own).push(item, PushContext(idempotency_key=key)).detail


def stored(connection: Connection) -> dict[str, Any]:
    return Connection.objects.get(pk=connection.pk).get_secrets()


def refresh_at_shop(fake: FakeShopify, refresh_token: str) -> httpx.Response:
    """The app's refresh request, straight to the shop's token endpoint."""
    form = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return fake.handle(httpx.Request("POST", TOKEN_URL, data=form))


def refreshes_asked(fake: FakeShopify) -> list[int]:
    """The statuses of the refresh calls the token endpoint answered."""
    return [call.status for call in fake.token_calls if call.grant_type == "refresh_token"]


def close_to(moment: datetime.datetime | None, seconds: float) -> bool:
    assert moment is not None
    return abs((moment - timezone.now()).total_seconds() - seconds) < 60


# --- the sign-in -----------------------------------------------------------------------------------


def test_the_sign_in_asks_for_expiring_tokens_and_stores_the_expiry_and_the_refresh_token(
    admin: Client, shop: FakeShopify
) -> None:
    store = connection_create(
        connector="shopify", name="Acme Outdoors", settings=shopify_settings(), secrets=APP
    )

    back(admin, query(install(shop, connect(admin, store))))

    row = Connection.objects.get(pk=store.pk)
    secrets = row.get_secrets()
    assert secrets["access_token"].startswith("shpat_")
    assert secrets["refresh_token"].startswith("shprt_")
    assert close_to(row.token_expires_at, ACCESS_TTL)  # Shopify's hour
    assert close_to(row.refresh_expires_at, REFRESH_TTL)
    [call] = shop.token_calls
    assert (call.grant_type, call.status) == ("authorization_code", 200)
    # asked for with expiring=1, the app's credentials in the body (redacted in the log)
    log = RequestLog.objects.get(url=TOKEN_URL)
    sent = dict(parse_qsl(log.request_body))
    assert sent["expiring"] == "1"
    assert set(sent) == {"client_id", "client_secret", "code", "expiring"}  # Shopify's own form
    assert CLIENT_SECRET not in log.request_body
    for secret in (secrets["access_token"], secrets["refresh_token"]):
        assert secret not in log.response_body
    assert registry.connector_for(row).test() == "Acme Outdoors"
    assert shop.refreshes == 0


def test_the_token_endpoint_answers_an_expiring_token_and_its_refresh_in_shopifys_shape(
    fake: FakeShopify,
) -> None:
    issued = fake.issue_token(expiring=True)

    answer = refresh_at_shop(fake, str(issued.refresh_token))

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "scope"}
    assert body["expires_in"] == ACCESS_TTL
    assert body["refresh_token_expires_in"] == REFRESH_TTL
    assert body["refresh_token"] != issued.refresh_token  # it rotates
    # an unknown refresh token, or another app's credentials: refused
    refused = refresh_at_shop(fake, "shprt_not_one_of_ours")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid, expired or revoked",
    }
    form = {"client_id": CLIENT_ID, "client_secret": "nope", "grant_type": "refresh_token"}
    wrong = fake.handle(
        httpx.Request("POST", TOKEN_URL, data={**form, "refresh_token": body["refresh_token"]})
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_client")
    assert refreshes_asked(fake) == [200, 400, 400]


# --- refreshing ------------------------------------------------------------------------------------


def test_a_push_after_the_hour_is_up_refreshes_once_before_sending(shop: FakeShopify) -> None:
    connection = signed_in(shop)
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    shop.expire_tokens()

    assert push(connection).startswith("TENT-2P-GRN: available 30 at location")

    assert refreshes_asked(shop) == [200]
    assert [r.status for r in shop.requests if r.resource == PUSH] == [200]  # no 401 first
    row = Connection.objects.get(pk=connection.pk)
    assert close_to(row.token_expires_at, ACCESS_TTL)
    assert (row.status, row.refreshing_until) == (ConnectionStatus.ACTIVE, None)
    # the next push uses the stored token: no second refresh
    push(connection, 31, "delivery-2")
    assert shop.refreshes == 1
    assert shop.available("TENT-2P-GRN") == 31


def test_a_401_refreshes_once_and_the_request_is_sent_again(shop: FakeShopify) -> None:
    # the hub still believes the token good (an outage, a clock gone wrong): the shop refuses it
    connection = signed_in(shop)
    shop.expire_tokens()

    push(connection)

    assert refreshes_asked(shop) == [200]
    assert [r.status for r in shop.requests if r.resource == PUSH] == [401, 200]
    assert shop.available("TENT-2P-GRN") == 30


def test_a_worker_with_the_old_token_adopts_the_one_another_worker_refreshed(shop: FakeShopify) -> None:
    # given: two workers loaded the connection while its token was still the old one
    connection = signed_in(shop)
    first, second = (Connection.objects.get(pk=connection.pk) for _ in range(2))
    shop.expire_tokens()

    # when: both push; the first refreshes, the second meets the 401 with the old token
    push_with(first, 30, "delivery-1")
    push_with(second, 31, "delivery-2")

    # then: one refresh for both; the second retried with the token the first stored
    assert shop.refreshes == 1
    assert second.get_secrets()["access_token"] == stored(connection)["access_token"]
    assert [r.status for r in shop.requests if r.resource == PUSH] == [401, 200, 401, 200]
    assert shop.available("TENT-2P-GRN") == 31


def test_the_refresh_token_rotates_and_the_new_one_is_stored(shop: FakeShopify) -> None:
    connection = signed_in(shop)
    before = stored(connection)
    shop.expire_tokens()

    push(connection)

    after = stored(connection)
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    assert after["refresh_token"].startswith("shprt_")
    assert after["client_secret"] == CLIENT_SECRET  # the rest of the secrets stay
    assert close_to(Connection.objects.get(pk=connection.pk).refresh_expires_at, REFRESH_TTL)
    # the new access token is in use: Shopify retires the previous refresh token
    assert refresh_at_shop(shop, before["refresh_token"]).json()["error"] == "invalid_grant"
    # the token endpoint's log keeps no token
    log = RequestLog.objects.filter(url=TOKEN_URL).get()
    for secret in (after["access_token"], after["refresh_token"], before["refresh_token"], CLIENT_SECRET):
        assert secret not in f"{log.request_body} {log.response_body}"
    # and the stored refresh token is good for the next refresh
    shop.expire_tokens()
    push(connection, 31, "delivery-2")
    assert shop.refreshes == 2


@pytest.fixture
def losing(fake: FakeShopify) -> Iterator[list[int]]:
    """The shop mounted, losing the answer to its next refresh (``lose.append(1)``): Shopify
    refreshes, the answer never arrives (a timeout)."""
    lose: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if lose and request.url.path.endswith("/oauth/access_token"):
            lose.pop()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    with mounted(SHOP_URL, httpx.MockTransport(handle)):
        yield lose


def test_a_lost_refresh_answer_is_asked_again_with_the_previous_refresh_token(
    fake: FakeShopify, losing: list[int]
) -> None:
    # given: Shopify rotates the refresh token, but its answer is lost on the way
    connection = signed_in(fake)
    before = stored(connection)
    fake.expire_tokens()
    losing.append(1)

    with pytest.raises(TransientError):
        push(connection)

    # then: nothing stored, the lease ended, the connection fine; the delivery is retried later
    row = Connection.objects.get(pk=connection.pk)
    assert row.get_secrets() == before
    assert (row.status, row.refreshing_until) == (ConnectionStatus.ACTIVE, None)
    assert fake.refreshes == 1  # granted at the shop, never received

    # when: the retry refreshes with the stored (previous) refresh token: Shopify still takes it
    push(connection)

    assert fake.refreshes == 2
    assert refreshes_asked(fake) == [200, 200]
    assert stored(connection)["refresh_token"] not in (before["refresh_token"], "")
    assert fake.available("TENT-2P-GRN") == 30


def test_a_refused_refresh_needs_sign_in_again_with_a_clear_message(admin: Client, shop: FakeShopify) -> None:
    # given: the refresh token the connection holds is no longer good at Shopify
    connection = signed_in(shop)
    secrets = connection.get_secrets()
    connection.set_secrets({**secrets, "refresh_token": "shprt_revoked_long_ago"})
    connection.save(update_fields=["secrets_encrypted"])
    shop.expire_tokens()

    with pytest.raises(AuthFailed, match="Shopify refused the refresh token") as caught:
        push(connection)

    # then: asked once, the lease ended, the connection waits for a person to sign in again
    assert refreshes_asked(shop) == [400]
    row = Connection.objects.get(pk=connection.pk)
    assert row.status == ConnectionStatus.NEEDS_REAUTH
    assert row.refreshing_until is None
    assert row.last_error == (
        "The token refresh was refused: Shopify refused the refresh token (invalid_grant: The refresh "
        "token is invalid, expired or revoked): it has expired or was revoked, or the app was "
        'uninstalled. Sign in again with "Re-authorise" on the connection\'s page.'
    )
    assert caught.value.request_log is not None
    assert caught.value.request_log.url == TOKEN_URL
    assert [r.status for r in shop.requests if r.resource == PUSH] == [401]
    page = admin.get(reverse("integrations:connection", args=[connection.pk])).content.decode()
    assert "Needs re-authorisation." in page
    assert "Re-authorise</button>" in page
    # Re-authorise: a new sign-in, expiring tokens again, and the push goes through
    back(admin, query(install(shop, connect(admin, row))))
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.ACTIVE
    push(connection)
    assert shop.available("TENT-2P-GRN") == 30


def test_a_refresh_token_past_its_end_is_refused(db) -> None:
    now = [datetime.datetime.now(datetime.UTC)]
    fake = FakeShopify(clock=lambda: now[0])
    with mounted(SHOP_URL, httpx.MockTransport(fake.handle)):
        connection = signed_in(fake)
        now[0] += datetime.timedelta(seconds=REFRESH_TTL + 1)  # the shop's clock: months later

        with pytest.raises(AuthFailed, match="invalid_grant"):
            push(connection)

    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.NEEDS_REAUTH


# --- a static token ---------------------------------------------------------------------------------


def test_a_static_token_is_never_refreshed(connection: Connection, shop: FakeShopify) -> None:
    # a custom app's token (the tests', the demo's): no expiry, no refresh token
    assert connection.token_expires_at is None
    assert "refresh_token" not in connection.get_secrets()
    shop.expire_tokens()  # the hour of expiring tokens means nothing to it

    push(connection)
    assert shop.available("TENT-2P-GRN") == 30

    # uninstalled: a 401, and no refresh is tried: the connection needs re-authorisation
    shop.revoke_token()
    with pytest.raises(AuthFailed, match="cannot be refreshed"):
        push(connection, 31, "delivery-2")
    assert shop.token_calls == []
    assert stored(connection)["access_token"] == ACCESS_TOKEN
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.NEEDS_REAUTH


# --- the demo -----------------------------------------------------------------------------------------


def test_the_demo_sign_in_gets_expiring_tokens_that_are_refreshed(admin: Client, demo_shop) -> None:
    from integrations import demo

    demo.seed_integrations()
    seeded = Connection.objects.get(name=demo.DEMO_NAME)
    authorize = connect(admin, seeded)
    installed = admin.get(httpx.URL(authorize).copy_merge_params({"decision": "install"}).raw_path.decode())
    back(admin, query(installed["Location"]))

    row = Connection.objects.get(pk=seeded.pk)
    assert close_to(row.token_expires_at, ACCESS_TTL)
    assert row.get_secrets()["refresh_token"].startswith("shprt_")
    # an hour later, through the fake this app serves: refreshed once, and it works
    shared_fake().expire_tokens()
    assert registry.connector_for(Connection.objects.get(pk=seeded.pk)).test() == "Acme Outdoors"
    assert shared_fake().refreshes == 1
    assert shared_fake().accepts_token(ACCESS_TOKEN)  # the static token still works for the demo
