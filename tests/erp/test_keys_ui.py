"""The API keys pages: own keys for everyone, every key for API key admins, the secret shown once."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.test.utils import override_settings

from erp.models import ApiKey
from erp.services import api_key_create, hash_key
from tests.erp.factories import UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sales_user():
    return UserFactory(username="sam", roles=["Sales"])


@pytest.fixture
def key_admin():
    return UserFactory(username="ida", roles=["Integration admin"])


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_my_keys_and_not_those_of_others(sales_user):
    # given
    mine = api_key_create(user=sales_user, name="ShipStation", scopes=["sales:read"]).api_key
    api_key_create(user=UserFactory(roles=["Sales"]), name="Not mine")

    # when
    page = client_for(sales_user).get("/keys/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "ShipStation" in html
    assert mine.prefix in html
    assert "sales:read" in html
    assert "600/min" in html
    assert "never" in html  # not used yet
    assert "Not mine" not in html
    assert "Everyone's keys" not in html


def test_the_list_costs_the_same_queries_at_any_length(sales_user, key_admin):
    # given: a key on each list (an empty page skips its query)
    client = client_for(key_admin)
    api_key_create(user=sales_user, name="first")
    api_key_create(user=key_admin, name="mine")
    counter = iter(range(1000))

    def grow():
        for _ in range(5):
            api_key_create(user=UserFactory(roles=["Sales"]), name=f"k{next(counter)}")
            api_key_create(user=key_admin, name=f"mine{next(counter)}")

    def both_views():
        assert client.get("/keys/").status_code == 200
        assert client.get("/keys/?owner=all").status_code == 200

    assert_constant_queries(both_views, grow)


def test_a_key_admin_sees_everyones_keys_with_their_owner(sales_user, key_admin):
    api_key_create(user=sales_user, name="Sam's tool")
    client = client_for(key_admin)

    mine = client.get("/keys/").content.decode()
    everyone = client.get("/keys/?owner=all").content.decode()

    assert "Sam's tool" not in mine
    assert "Everyone's keys" in mine
    assert "Sam&#x27;s tool" in everyone
    assert ">sam<" in everyone


def test_others_cannot_list_everyone(sales_user):
    api_key_create(user=UserFactory(roles=["Sales"]), name="Hidden")

    html = client_for(sales_user).get("/keys/?owner=all").content.decode()

    assert "Hidden" not in html


def test_the_status_filter_and_the_htmx_fragment(sales_user):
    active = api_key_create(user=sales_user, name="Active one").api_key
    revoked = api_key_create(user=sales_user, name="Old one").api_key
    revoked.revoked_at = active.created_at
    revoked.save()
    client = client_for(sales_user)

    fragment = client.get("/keys/?status=revoked", **HTMX).content.decode()

    assert "Old one" in fragment
    assert "Active one" not in fragment
    assert "<html" not in fragment
    assert "revoked" in fragment


def test_anonymous_users_are_sent_to_log_in():
    response = Client().get("/keys/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_user_menu_links_to_the_keys(sales_user):
    html = client_for(sales_user).get("/").content.decode()

    assert 'href="/keys/"' in html


# --- creating a key -----------------------------------------------------------------------------


def test_the_form_offers_only_the_scopes_my_rights_allow(sales_user):
    html = client_for(sales_user).get("/keys/new/").content.decode()

    assert 'value="sales:write"' in html
    assert 'value="inventory:read"' in html
    assert 'value="inventory:write"' not in html
    assert 'value="integrations:read"' not in html


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(sales_user):
    # given
    client = client_for(sales_user)

    # when
    created = client.post(
        "/keys/new/", {"name": "ShipStation", "scopes": ["sales:read"], "rate_limit_per_minute": "60"}
    )

    # then: the answer shows the key, with a copy button, and is not cached
    key = ApiKey.objects.get(user=sales_user)
    html = created.content.decode()
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    raw = html.split('id="new-key" class="mono" value="')[1].split('"')[0]
    assert raw.startswith(key.prefix + "_")
    assert html.count(raw) == 1
    assert 'data-copy="#new-key"' in html
    assert (key.name, key.scopes, key.rate_limit_per_minute) == ("ShipStation", ["sales:read"], 60)
    assert key.hashed_key == hash_key(raw)
    assert raw not in str(ApiKey.objects.values().get())

    # and: it is never shown again
    assert raw not in client.get("/keys/").content.decode()
    assert raw not in client.get("/keys/new/").content.decode()
    assert raw not in client.get(f"/keys/{key.pk}/revoke/").content.decode()

    # and: it works
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.json()["scopes"] == ["sales:read"]


def test_creating_with_htmx_answers_the_panel_only(sales_user):
    response = client_for(sales_user).post(
        "/keys/new/", {"name": "n", "scopes": ["sales:write"], "rate_limit_per_minute": "10"}, **HTMX
    )

    html = response.content.decode()
    assert '<div id="key-panel">' in html
    assert "<html" not in html
    assert "Copy the key now" in html


def test_a_scope_beyond_my_rights_is_refused(sales_user):
    response = client_for(sales_user).post(
        "/keys/new/", {"name": "sneaky", "scopes": ["inventory:write"], "rate_limit_per_minute": "10"}
    )

    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not ApiKey.objects.exists()


@override_settings(API_RATE_LIMIT_PER_MINUTE=100)
def test_a_user_may_not_raise_the_limit_but_a_key_admin_may(sales_user, key_admin):
    refused = client_for(sales_user).post(
        "/keys/new/", {"name": "fast", "scopes": ["sales:read"], "rate_limit_per_minute": "0"}
    )
    allowed = client_for(key_admin).post(
        "/keys/new/", {"name": "fast", "scopes": ["sales:read"], "rate_limit_per_minute": "0"}
    )

    assert "Ensure this value is greater than or equal to 1." in refused.content.decode()
    assert 'max="100"' in client_for(sales_user).get("/keys/new/").content.decode()
    assert ApiKey.objects.get().user == key_admin
    assert ApiKey.objects.get().rate_limit_per_minute == 0
    assert "unlimited" in allowed.content.decode()


def test_a_duplicate_name_is_a_field_error(sales_user):
    api_key_create(user=sales_user, name="dup")

    response = client_for(sales_user).post(
        "/keys/new/", {"name": "dup", "scopes": ["sales:read"], "rate_limit_per_minute": "10"}
    )

    assert "You already have a key named" in response.content.decode()
    assert ApiKey.objects.count() == 1


def test_a_user_without_rights_is_told_so():
    html = client_for(UserFactory()).get("/keys/new/").content.decode()

    assert "You have no rights to give a key" in html
    assert "<form method" not in html.split('id="key-panel"')[1]


# --- revoking -----------------------------------------------------------------------------------


def test_revoke_asks_first_then_revokes(sales_user):
    # given
    key = api_key_create(user=sales_user, name="Old tool").api_key
    client = client_for(sales_user)

    # when: the link without JavaScript leads to a confirmation
    confirm = client.get(f"/keys/{key.pk}/revoke/")
    assert confirm.status_code == 200
    assert "stops working at once" in confirm.content.decode()
    assert ApiKey.objects.get().revoked_at is None

    # when: confirmed
    done = client.post(f"/keys/{key.pk}/revoke/", follow=True)

    # then
    assert ApiKey.objects.get().revoked_at is not None
    assert done.redirect_chain == [("/keys/", 302)]
    assert "revoked: it no longer works" in done.content.decode()


def test_revoke_with_htmx_answers_the_row_and_a_toast(sales_user):
    key = api_key_create(user=sales_user, name="Old tool").api_key

    response = client_for(sales_user).post(f"/keys/{key.pk}/revoke/", **HTMX)

    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="key-{key.pk}" class="revoked">')
    assert "hx-post" not in html  # nothing left to revoke
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "success"
    assert ApiKey.objects.get().revoked_at is not None


def test_the_list_offers_revoke_with_a_confirmation_and_a_real_link(sales_user):
    key = api_key_create(user=sales_user, name="Old tool").api_key

    html = client_for(sales_user).get("/keys/").content.decode()

    assert f'href="/keys/{key.pk}/revoke/"' in html
    assert f'hx-post="/keys/{key.pk}/revoke/"' in html
    assert "hx-confirm=" in html


def test_nobody_else_may_revoke_my_key(sales_user):
    key = api_key_create(user=sales_user, name="Mine").api_key
    other = client_for(UserFactory(roles=["Sales"]))

    assert other.get(f"/keys/{key.pk}/revoke/").status_code == 404
    assert other.post(f"/keys/{key.pk}/revoke/").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize("admin", ["Integration admin", "superuser"])
def test_a_key_admin_may_revoke_any_key(sales_user, admin: str):
    key = api_key_create(user=sales_user, name="Sam's").api_key
    user = (
        UserFactory(is_superuser=True, is_staff=True) if admin == "superuser" else UserFactory(roles=[admin])
    )

    response = client_for(user).post(f"/keys/{key.pk}/revoke/?owner=all")

    assert response.status_code == 302
    assert response["Location"] == "/keys/?owner=all"
    assert ApiKey.objects.get().revoked_at is not None
    history = list(key.history.order_by("history_id").values_list("history_type", flat=True))
    assert history == ["+", "~"]
