"""manage.py create_connection: prints the id only; any error is a clear message, a non-zero exit,
and nothing written."""

from __future__ import annotations

import importlib.util
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from integrations.models import Connection
from tests.integrations.ui_support import (
    SECRETS,
    shopify_settings,
)
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **options: str) -> str:
    out = StringIO()
    call_command("create_connection", *args, stdout=out, **options)
    return out.getvalue()


def refused(*args: str, **options: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args, **options)
    assert caught.value.returncode == 1
    assert not Connection.objects.exists()
    return str(caught.value)


def test_it_prints_the_id_and_nothing_else() -> None:
    # given
    wh = warehouse("MAIN")
    ChannelFactory(code="shopify", warehouse=wh)
    # when: as the issue writes it
    out = run(
        "shopify",
        name="Store",
        connection_settings=json.dumps(shopify_settings(location_id=1, shop_domain="example.myshopify.com")),
        secrets=json.dumps({"access_token": "...", "client_secret": "..."}),
        warehouse="main",
        channel="SHOPIFY",
    )
    # then
    connection = Connection.objects.get()
    assert out == f"{connection.pk}\n"
    assert connection.settings["shop_domain"] == "example.myshopify.com"
    assert connection.get_secrets() == {"access_token": "...", "client_secret": "..."}
    assert (connection.warehouse.code, connection.sales_channel.code) == ("MAIN", "shopify")
    assert connection.api_version == "2025-07"


def test_bad_json_is_refused() -> None:
    message = refused("shopify", name="S", connection_settings="{not json", secrets=json.dumps(SECRETS))
    assert message.startswith("--settings is not valid JSON")
    assert "must be a JSON object" in refused("shopify", name="S", connection_settings="[1]")


def test_an_unknown_connector_is_refused_naming_the_known_ones() -> None:
    message = refused("nope", name="S")
    assert "No connector 'nope'" in message
    assert "shopify" in message


def test_invalid_settings_and_secrets_name_each_field() -> None:
    message = refused(
        "shopify",
        name="S",
        connection_settings=json.dumps({"shop_domain": "example.myshopify.com", "location_id": "x"}),
        secrets=json.dumps({"access_token": "t"}),
    )
    assert message.startswith("Nothing was created:")
    assert "settings.location_id:" in message
    assert "secrets.client_secret: This field is required." in message


def test_an_unknown_warehouse_or_channel_or_a_taken_name_is_refused() -> None:
    good = {"connection_settings": json.dumps(shopify_settings()), "secrets": json.dumps(SECRETS)}
    assert "no warehouse with code 'XX'" in refused("shopify", name="S", warehouse="XX", **good)
    assert "no sales channel with code 'xx'" in refused("shopify", name="S", channel="xx", **good)
    run("shopify", name="S", **good)
    with pytest.raises(CommandError, match="already a connection named"):
        run("shopify", name="s", **good)
    assert Connection.objects.count() == 1


def test_manage_py_hands_settings_to_the_command_not_to_django() -> None:
    # given: manage.py's argument rewrite (Django reads every --settings as its settings module)
    spec = importlib.util.spec_from_file_location("manage_under_test", ROOT / "manage.py")
    assert spec
    assert spec.loader
    manage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(manage)
    # then
    assert manage._argv(
        ["manage.py", "create_connection", "shopify", "--settings", "{}", "--secrets", "{}"]
    ) == [
        "manage.py",
        "create_connection",
        "shopify",
        "--connection-settings",
        "{}",
        "--secrets",
        "{}",
    ]
    assert (
        manage._argv(["manage.py", "create_connection", "x", '--settings={"a": 1}'])[-1]
        == '--connection-settings={"a": 1}'
    )
    assert manage._argv(["manage.py", "migrate", "--settings", "erp.settings"])[-2:] == [
        "--settings",
        "erp.settings",
    ]
