from __future__ import annotations

import pytest
from django.test import Client

from erp.models import ApiKey
from erp.services import api_key_revoke
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"


def test_valid_key_authenticates_and_records_last_use(api_client: Client):
    # given
    user = UserFactory(roles=["Integration admin"])
    raw = api_key_for(user)

    # when
    response = api_client.get(EVENTS, **bearer(raw))

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert ApiKey.objects.get(user=user).last_used_at is not None


def test_me_reports_the_key_and_its_scopes(api_client: Client):
    user = UserFactory(roles=["Sales"])
    raw = api_key_for(user, scopes=["sales:read"])

    body = api_client.get("/api/v1/me", **bearer(raw)).json()

    assert body["username"] == user.username
    assert body["authenticated_by"] == "api_key"
    assert body["scopes"] == ["sales:read"]


def test_revoked_key_is_401(api_client: Client):
    user = UserFactory(roles=["Integration admin"])
    raw = api_key_for(user)
    api_key_revoke(api_key=ApiKey.objects.get(user=user))

    response = api_client.get(EVENTS, **bearer(raw))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer erp_nothing_real"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="},
        {"HTTP_AUTHORIZATION": "Bearer not-even-our-format"},
    ],
    ids=["missing", "empty", "unknown", "basic", "foreign"],
)
def test_missing_or_bad_credentials_are_401(api_client: Client, headers: dict[str, str]):
    response = api_client.get(EVENTS, **headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_key_of_a_deactivated_user_is_401(api_client: Client):
    user = UserFactory(roles=["Integration admin"])
    raw = api_key_for(user)
    user.is_active = False
    user.save()

    assert api_client.get(EVENTS, **bearer(raw)).status_code == 401


def test_key_without_the_scope_is_403(api_client: Client):
    # given: a user who could, holding a key that may only read sales
    user = UserFactory(roles=["Integration admin", "Sales"])
    raw = api_key_for(user, scopes=["sales:read"])

    # when
    response = api_client.get(EVENTS, **bearer(raw))

    # then
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == 403
    assert "integrations:read" in body["detail"]


def test_read_scope_does_not_allow_writes(api_client: Client):
    user = UserFactory(roles=["Integration admin"])
    raw = api_key_for(user, scopes=["integrations:read"])

    response = api_client.post(f"{EVENTS}/1/dispatch", **bearer(raw))

    assert response.status_code == 403
    assert "integrations:write" in response.json()["detail"]


def test_key_cannot_exceed_its_owner_when_the_owner_loses_a_role(api_client: Client):
    # given: a key issued while the owner was an integration admin
    user = UserFactory(roles=["Integration admin"])
    raw = api_key_for(user)
    # when the role is taken away
    user.groups.clear()

    # then the key loses the right with it
    assert api_client.get(EVENTS, **bearer(raw)).status_code == 403


def test_session_auth_reads_and_writes_need_csrf():
    user = UserFactory(roles=["Integration admin"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get(EVENTS).status_code == 200
    response = client.post(f"{EVENTS}/999/dispatch")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_session_auth_with_csrf_token_may_write():
    user = UserFactory(roles=["Integration admin"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # any page that renders a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.post(f"{EVENTS}/999/dispatch", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 404  # authenticated and allowed; the event does not exist


def test_role_enforced_on_an_endpoint_for_sessions():
    client = Client()
    client.force_login(UserFactory(roles=["Sales"]))

    response = client.get(EVENTS)

    assert response.status_code == 403


def test_event_feed_filters_and_costs_the_same_queries_at_any_length(api_client: Client):
    from django.db import transaction

    from erp import events
    from tests.queries import assert_constant_queries

    raw = api_key_for(UserFactory(roles=["Integration admin"]))

    def grow(n: int) -> None:
        with transaction.atomic():
            for i in range(n):
                events.emit("test.feed" if i % 2 else "other.feed", aggregate=("thing", i))

    grow(5)
    assert_constant_queries(lambda: api_client.get(EVENTS, **bearer(raw)), lambda: grow(50))

    body = api_client.get(f"{EVENTS}?topic=test.&status=pending", **bearer(raw)).json()
    assert body["count"] == 27
    assert {item["topic"] for item in body["items"]} == {"test.feed"}
    assert api_client.get(f"{EVENTS}?topic=Test.F", **bearer(raw)).json()["count"] == 27  # any case
    bad = api_client.get(f"{EVENTS}?status=sideways", **bearer(raw))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "status"
