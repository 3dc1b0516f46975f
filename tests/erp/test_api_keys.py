from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from erp.access import ALL_SCOPES
from erp.exceptions import ValidationFailed
from erp.models import ApiKey
from erp.services import api_key_authenticate, api_key_create, api_key_revoke, hash_key
from tests.erp.factories import UserFactory

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
