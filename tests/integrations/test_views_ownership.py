"""Who owns what on the connection page and in the API (Hub v2): the effective rules with their
defaults, the htmx form that sets one, refusals that change nothing, rights, constant queries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Connection, OwnershipRule
from integrations.ownership import INVENTORY
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.fake_tool import acme_connection
from tests.integrations.ownership_support import (
    depot_fixture,  # noqa: F401  (a fixture)
    fake_fixture,  # noqa: F401  (a fixture)
    tools_fixture,  # noqa: F401  (a fixture)
)
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    htmx,
    outsider_fixture,  # noqa: F401  (a fixture)
    reader_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.queries import FEW, MANY, assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/integrations"


def page(connection: Connection) -> str:
    return reverse("integrations:connection", args=[connection.pk])


def set_url(connection: Connection) -> str:
    return reverse("integrations:connection-ownership", args=[connection.pk])


def form(data_type: str = "inventory", warehouse_id: int | str = "", owner: str = "hub") -> dict[str, Any]:
    return {
        "ownership-data_type": data_type,
        "ownership-warehouse": str(warehouse_id),
        "ownership-owner": owner,
    }


def grow_rules(connection: Connection, count: int) -> None:
    """``count`` more warehouses, each with a rule of the connection."""
    start = OwnershipRule.objects.count()
    for i in range(count):
        wh = warehouse(f"R{start + i}")
        OwnershipRule.objects.create(connection=connection, data_type=INVENTORY, warehouse=wh, owner="hub")


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_who_owns_what_with_the_defaults_marked(
    admin: Client, reader: Client, depot: Connection
) -> None:
    content = reader.get(page(depot)).content.decode()
    assert 'id="ownership"' in content
    assert "WH1 · Warehouse WH1" in content
    assert "every other location" in content
    assert "<strong>Depot (Acme Depot (test 3PL))</strong>" in content
    assert content.count(">default<") == 2
    assert 'name="ownership-owner"' not in content  # a reader sees the rules, not the form
    assert 'name="ownership-owner"' in admin.get(page(depot)).content.decode()


def test_setting_a_rule_with_htmx_answers_the_section_with_a_toast(admin: Client, depot: Connection) -> None:
    wh2 = warehouse("WH2")
    response = admin.post(set_url(depot), form(warehouse_id=wh2.pk, owner="tool"), **htmx("ownership"))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="ownership">')  # the section only
    assert "WH2 · Warehouse WH2" in content
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast == {"message": "Inventory at WH2: Depot owns it now.", "level": "success"}
    rule = OwnershipRule.objects.get()
    assert (rule.connection_id, rule.data_type, rule.warehouse_id, rule.owner) == (
        depot.pk,
        "inventory",
        wh2.pk,
        "tool",
    )


def test_without_htmx_the_form_goes_back_to_the_page_with_a_message(admin: Client, depot: Connection) -> None:
    response = admin.post(set_url(depot), form(warehouse_id=warehouse("WH1").pk, owner="hub"), follow=True)
    assert response.redirect_chain[-1][0] == page(depot) + "#ownership"
    assert "Inventory at WH1: the hub owns it now." in response.content.decode()
    assert OwnershipRule.objects.get().owner == "hub"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (form(data_type="customer"), "data_type", "Choose one of the data this connection sends or takes."),
        (form(warehouse_id=99999), "warehouse", "Choose one of the active warehouses, or every location."),
        (form(owner="nobody"), "owner", "Choose the hub or the tool."),
        (form(owner=""), "owner", "Choose who owns it."),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(
    admin: Client, depot: Connection, data: dict[str, Any], field: str, message: str
) -> None:
    response = admin.post(set_url(depot), data, **htmx("ownership"))

    assert response.status_code == 200  # swapped in by htmx, with the errors
    content = response.content.decode()
    assert message in content
    assert 'class="field has-error"' in content
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "error"
    assert not OwnershipRule.objects.exists()


def test_the_services_refusal_shows_next_to_its_field(admin: Client, tools) -> None:
    shop = acme_connection()  # takes orders: they have one owner, at no location
    response = admin.post(
        set_url(shop),
        form(data_type="order", warehouse_id=warehouse("WH1").pk, owner="tool"),
        **htmx("ownership"),
    )
    assert "Orders have no location: leave it as every location." in response.content.decode()
    assert not OwnershipRule.objects.exists()


def test_only_writers_may_set_a_rule(reader: Client, outsider: Client, depot: Connection) -> None:
    assert reader.post(set_url(depot), form(owner="tool")).status_code == 403
    assert outsider.post(set_url(depot), form(owner="tool")).status_code == 403
    assert reader.get(set_url(depot)).status_code in (403, 405)
    assert not OwnershipRule.objects.exists()


def test_the_page_costs_the_same_queries_however_many_rules(admin: Client, depot: Connection) -> None:
    grow_rules(depot, FEW)
    assert_constant_queries(lambda: admin.get(page(depot)), lambda: grow_rules(depot, MANY - FEW))
    assert_constant_queries(
        lambda: admin.post(set_url(depot), form(owner="tool"), **htmx("ownership")),
        lambda: grow_rules(depot, MANY - FEW),
    )


# --- the API ------------------------------------------------------------------------------------


class Api:
    def __init__(self, user: Any) -> None:
        self.client = Client()
        self.headers = bearer(api_key_for(user))

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, **self.headers)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.put(BASE + path, body, content_type="application/json", **self.headers)


@pytest.fixture
def api(db) -> Api:
    return Api(UserFactory(username="ines-api", roles=["Integration admin"]))


@pytest.fixture
def read_api(db) -> Api:
    return Api(UserFactory(username="otto-api", roles=["Operations manager"]))


def test_the_api_lists_the_effective_rules(read_api: Api, depot: Connection) -> None:
    response = read_api.get(f"/connections/{depot.pk}/ownership")
    assert response.status_code == 200
    assert response.json() == [
        {
            "data_type": "inventory",
            "warehouse": warehouse("WH1").pk,
            "location": "WH1 · Warehouse WH1",
            "owner": "tool",
            "owner_label": "Depot (Acme Depot (test 3PL))",
            "default": True,
        },
        {
            "data_type": "inventory",
            "warehouse": None,
            "location": "every other location",
            "owner": "hub",
            "owner_label": "the hub",
            "default": True,
        },
    ]
    assert read_api.get("/connections/99999/ownership").status_code == 404


def test_the_api_sets_one_rule_and_answers_them_all(api: Api, depot: Connection) -> None:
    wh1 = warehouse("WH1")
    response = api.put(
        f"/connections/{depot.pk}/ownership", {"data_type": "inventory", "warehouse": wh1.pk, "owner": "hub"}
    )
    assert response.status_code == 200, response.json()
    assert [(r["warehouse"], r["owner"], r["default"]) for r in response.json()] == [
        (wh1.pk, "hub", False),
        (None, "hub", True),
    ]
    assert OwnershipRule.objects.get().updated_by.username == "ines-api"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data_type": "customer", "owner": "tool"}, "data_type"),
        ({"data_type": "inventory", "owner": "everyone"}, "owner"),
        ({"data_type": "inventory", "warehouse": 99999, "owner": "tool"}, "warehouse"),
    ],
)
def test_the_api_refuses_bad_rules_per_field_and_changes_nothing(
    api: Api, depot: Connection, body: dict[str, Any], field: str
) -> None:
    response = api.put(f"/connections/{depot.pk}/ownership", body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not OwnershipRule.objects.exists()


def test_a_read_key_cannot_set_a_rule(read_api: Api, depot: Connection) -> None:
    response = read_api.put(f"/connections/{depot.pk}/ownership", {"data_type": "inventory", "owner": "hub"})
    assert response.status_code == 403
    assert not OwnershipRule.objects.exists()


def test_the_api_list_costs_the_same_queries_however_many_rules(read_api: Api, depot: Connection) -> None:
    grow_rules(depot, FEW)
    assert_constant_queries(
        lambda: read_api.get(f"/connections/{depot.pk}/ownership"), lambda: grow_rules(depot, MANY - FEW)
    )
