from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client

from erp.access import ALL_SCOPES
from erp.exceptions import NotFound, ValidationFailed
from erp.models import ApiKey
from erp.services import api_key_admin, api_key_authenticate, api_key_create, api_key_revoke, hash_key
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


def test_command_prints_the_key_once_and_stores_only_its_hash():
    # given
    UserFactory(username="ops", roles=["Warehouse"])
    out, err = StringIO(), StringIO()

    # when
    call_command("create_api_key", "--user", "ops", "--name", "ShipStation", stdout=out, stderr=err)

    # then
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="ShipStation")
    assert raw.startswith(key.prefix + "_")
    assert key.hashed_key == hash_key(raw)
    assert raw not in str(ApiKey.objects.values().get())
    assert "shown only now" in err.getvalue()


def test_without_scope_the_key_gets_every_scope_the_user_is_allowed():
    UserFactory(username="ops", roles=["Warehouse"])
    call_command("create_api_key", "--user", "ops", "--name", "all", stdout=StringIO(), stderr=StringIO())

    assert ApiKey.objects.get(name="all").scopes == [
        "inventory:read",
        "inventory:write",
        "sales:read",
        "procurement:read",
        "manufacturing:read",
    ]


def test_superuser_key_gets_every_scope():
    user = UserFactory(is_superuser=True)
    assert api_key_create(user=user, name="root").api_key.scopes == list(ALL_SCOPES)


def test_command_with_scopes():
    UserFactory(username="ops", roles=["Warehouse"])
    call_command(
        "create_api_key",
        "--user",
        "ops",
        "--name",
        "ro",
        "--scope",
        "inventory:read",
        "--scope",
        "sales:read",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert ApiKey.objects.get(name="ro").scopes == ["inventory:read", "sales:read"]


def test_scope_beyond_the_user_is_refused_and_nothing_is_stored():
    UserFactory(username="ops", roles=["Sales"])
    with pytest.raises(CommandError, match="may not grant: inventory:write"):
        call_command(
            "create_api_key", "--user", "ops", "--name", "x", "--scope", "inventory:write", stdout=StringIO()
        )
    assert ApiKey.objects.count() == 0


def test_unknown_scope_and_unknown_user_are_refused():
    UserFactory(username="ops", roles=["Sales"])
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "--user", "ops", "--name", "x", "--scope", "sales:delete")
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_key", "--user", "ghost", "--name", "x")


def test_user_without_role_cannot_issue_a_key():
    user = UserFactory()
    with pytest.raises(ValidationFailed, match="no rights"):
        api_key_create(user=user, name="k")


def test_duplicate_name_is_refused():
    user = UserFactory(roles=["Sales"])
    api_key_create(user=user, name="k")
    with pytest.raises(ValidationFailed, match="already have a key"):
        api_key_create(user=user, name="k")


def test_revocation_is_kept_in_the_change_history():
    user = UserFactory(roles=["Sales"])
    issued = api_key_create(user=user, name="k")

    api_key_revoke(api_key=issued.api_key)

    assert api_key_authenticate(issued.raw_key) is None
    history = list(issued.api_key.history.order_by("history_id").values_list("history_type", "revoked_at"))
    assert [h[0] for h in history] == ["+", "~"]
    assert history[0][1] is None
    assert history[1][1] is not None


# --- the keys API: /api/v1/keys ---------------------------------------------------------------

KEYS = "/api/v1/keys"


def post_json(client: Client, path: str, body: dict | None = None, **headers: str):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_create_a_key_through_the_api_shows_its_secret_once_and_it_works():
    # given
    user = UserFactory(roles=["Sales"])
    client = Client()
    client.force_login(user)
    client.get("/")
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}

    # when
    created = post_json(
        client,
        KEYS,
        {"name": "Nightly export", "scopes": ["sales:read"], "rate_limit_per_minute": 30},
        **csrf,
    )

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["scopes"], body["rate_limit_per_minute"], body["owner"], body["active"]) == (
        "Nightly export",
        ["sales:read"],
        30,
        user.username,
        True,
    )
    assert body["secret"].startswith(body["prefix"] + "_")
    me = Client().get("/api/v1/me", **bearer(body["secret"])).json()
    assert me["scopes"] == ["sales:read"]
    listed = client.get(KEYS).json()
    assert listed["count"] == 1
    assert "secret" not in listed["items"][0]
    assert body["secret"] not in client.get(f"{KEYS}/{body['id']}").content.decode()


def test_a_key_cannot_issue_a_key_with_more_than_its_own_scopes():
    user = UserFactory(roles=["Sales"])
    narrow = api_key_for(user, name="narrow", scopes=["sales:read", "keys:write"])

    broader = post_json(Client(), KEYS, {"name": "broader", "scopes": ["sales:write"]}, **bearer(narrow))
    default = post_json(Client(), KEYS, {"name": "default"}, **bearer(narrow))
    delegating = post_json(
        Client(), KEYS, {"name": "deleg", "scopes": ["sales:read", "keys:write"]}, **bearer(narrow)
    )

    assert broader.status_code == 422
    assert broader.json()["errors"][0]["field"] == "scopes"
    assert default.status_code == 201
    assert default.json()["scopes"] == ["sales:read"]  # keys:write only when asked for
    assert delegating.status_code == 201
    assert delegating.json()["scopes"] == ["sales:read", "keys:write"]


def test_a_read_only_key_can_neither_create_nor_revoke_keys():
    # given
    user = UserFactory(roles=["Warehouse"])
    read_only = api_key_for(user, name="ro", scopes=["inventory:read"])
    other = api_key_create(user=user, name="other").api_key

    # when
    created = post_json(Client(), KEYS, {"name": "child"}, **bearer(read_only))
    revoked = post_json(Client(), f"{KEYS}/{other.pk}/revoke", **bearer(read_only))

    # then
    assert created.status_code == 403
    assert "keys:write" in created.json()["detail"]
    assert revoked.status_code == 403
    assert set(ApiKey.objects.values_list("name", flat=True)) == {"ro", "other"}
    assert ApiKey.objects.get(pk=other.pk).revoked_at is None


def test_a_key_created_with_a_key_dies_with_it_and_so_do_its_own_children():
    # given: parent -> child -> grandchild, each created through the API with the one before
    user = UserFactory(roles=["Sales"])
    parent = api_key_for(user, name="parent", scopes=["sales:write", "keys:write"])
    child = post_json(
        Client(), KEYS, {"name": "child", "scopes": ["sales:read", "keys:write"]}, **bearer(parent)
    )
    grandchild = post_json(Client(), KEYS, {"name": "grandchild"}, **bearer(child.json()["secret"]))
    sibling_by_session = api_key_create(user=user, name="made in the UI").api_key
    assert grandchild.status_code == 201, grandchild.content
    assert Client().get("/api/v1/me", **bearer(grandchild.json()["secret"])).status_code == 200

    # when: the parent is revoked
    parent_key = ApiKey.objects.get(name="parent")
    api_key_revoke(api_key=parent_key)

    # then: neither its child nor its grandchild works any more; a key made otherwise does
    for raw in (child.json()["secret"], grandchild.json()["secret"]):
        assert Client().get("/api/v1/me", **bearer(raw)).status_code == 401
    assert ApiKey.objects.get(name="child").parent == parent_key
    assert ApiKey.objects.get(pk=sibling_by_session.pk).revoked_at is None


def test_a_revoked_key_cannot_create_a_key():
    user = UserFactory(roles=["Sales"])
    parent = api_key_create(user=user, name="parent", scopes=["sales:read", "keys:write"]).api_key
    api_key_revoke(api_key=parent)

    with pytest.raises(PermissionDenied):
        api_key_create(user=user, name="late child", parent=parent)
    assert not ApiKey.objects.filter(name="late child").exists()


def test_the_list_is_mine_unless_an_admin_asks_for_everyone():
    # given
    sam, ida = UserFactory(roles=["Sales"]), UserFactory(roles=["Integration admin"])
    sam_key, ida_key = api_key_for(sam, name="sam"), api_key_for(ida, name="ida")
    revoked = api_key_create(user=sam, name="old").api_key
    api_key_revoke(api_key=revoked)

    # when
    sams = Client().get(KEYS, **bearer(sam_key)).json()
    sams_active = Client().get(KEYS, {"active": "true"}, **bearer(sam_key)).json()
    everyone = Client().get(KEYS, {"everyone": "true"}, **bearer(ida_key)).json()
    refused = Client().get(KEYS, {"everyone": "true"}, **bearer(sam_key))

    # then
    assert sorted(k["name"] for k in sams["items"]) == ["old", "sam"]
    assert [k["name"] for k in sams_active["items"]] == ["sam"]
    assert sorted((k["owner"], k["name"]) for k in everyone["items"]) == sorted(
        [(sam.username, "sam"), (sam.username, "old"), (ida.username, "ida")]
    )
    assert refused.status_code == 403


def test_the_list_costs_the_same_queries_at_any_length():
    ida = UserFactory(roles=["Integration admin"])
    raw = api_key_for(ida, name="ida")
    ApiKey.objects.update(rate_limit_per_minute=0)

    def grow():
        for i in range(5):
            api_key_create(user=UserFactory(roles=["Sales"]), name=f"k{i}")

    assert_constant_queries(lambda: Client().get(KEYS, {"everyone": "true"}, **bearer(raw)), grow)


def test_revoke_my_key_but_not_someone_elses():
    # given
    sam = UserFactory(roles=["Sales"])
    raw = api_key_for(sam, name="sam", scopes=["sales:write", "keys:write"])
    mine = api_key_create(user=sam, name="old").api_key
    theirs = api_key_create(user=UserFactory(roles=["Sales"]), name="theirs").api_key

    # when
    revoked = post_json(Client(), f"{KEYS}/{mine.pk}/revoke", **bearer(raw))
    again = post_json(Client(), f"{KEYS}/{mine.pk}/revoke", **bearer(raw))
    refused = post_json(Client(), f"{KEYS}/{theirs.pk}/revoke", **bearer(raw))

    # then
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/problem+json"
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None


def test_an_admin_revokes_any_key_but_only_with_the_integrations_admin_scope():
    # given
    ida = UserFactory(roles=["Integration admin"])
    admin_key = api_key_for(ida, name="admin", scopes=["integrations:write", "keys:write"])
    read_only = api_key_for(ida, name="ro", scopes=["sales:read", "keys:write"])
    target = api_key_create(user=UserFactory(roles=["Sales"]), name="target").api_key

    # when
    with_read_only = post_json(Client(), f"{KEYS}/{target.pk}/revoke", **bearer(read_only))
    with_admin = post_json(Client(), f"{KEYS}/{target.pk}/revoke", **bearer(admin_key))

    # then
    assert with_read_only.status_code == 404
    assert with_admin.status_code == 200
    assert ApiKey.objects.get(pk=target.pk).revoked_at is not None


def test_the_service_refuses_a_revoke_by_someone_else():
    key = api_key_create(user=UserFactory(roles=["Sales"]), name="k").api_key

    with pytest.raises(NotFound):
        api_key_revoke(api_key=key, by=UserFactory(roles=["Sales"]))

    assert ApiKey.objects.get().revoked_at is None


def test_the_integration_admin_role_holds_the_key_admin_right():
    assert api_key_admin(UserFactory(roles=["Integration admin"]))
    assert api_key_admin(UserFactory(is_superuser=True))
    assert not api_key_admin(UserFactory(roles=["Operations manager"], is_staff=True))
