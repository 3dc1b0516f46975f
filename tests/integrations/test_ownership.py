"""Who owns what (Hub v2): the rule per connection, data type and location, else the connector's
default; and the service that sets a rule, refusing what makes no sense for the connector."""

from __future__ import annotations

import pytest

from erp.exceptions import ValidationFailed
from integrations.models import Connection, OwnershipRule
from integrations.ownership import (
    CUSTOMER,
    INVENTORY,
    ORDER,
    Owner,
    owner_of,
    owners_of,
    ownership_rule_set,
    rules_of,
)
from tests.erp.factories import UserFactory
from tests.integrations.fake_tool import acme_connection
from tests.integrations.ownership_support import (
    depot_connection,
    depot_fixture,  # noqa: F401  (a fixture)
    fake_fixture,  # noqa: F401  (a fixture)
    tools_fixture,  # noqa: F401  (a fixture)
)
from tests.inventory.factories import warehouse
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


# --- resolution ---------------------------------------------------------------------------------


def test_a_3pl_owns_its_warehouses_stock_by_default_and_the_hub_owns_the_rest(depot: Connection) -> None:
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    assert owner_of(depot, INVENTORY, wh1.pk) == Owner.TOOL
    assert owner_of(depot, INVENTORY, wh2.pk) == Owner.HUB
    assert owner_of(depot, CUSTOMER, None) == Owner.HUB  # not in its tool_owns


def test_a_sales_channel_owns_nothing_by_default(tools) -> None:
    acme = acme_connection()
    assert owner_of(acme, INVENTORY, warehouse("WH1").pk) == Owner.HUB
    assert owner_of(acme, ORDER, None) == Owner.HUB


def test_the_default_follows_the_sales_channels_warehouse_without_a_warehouse_of_its_own(tools) -> None:
    wh2 = warehouse("WH2")
    connection = acme_connection(warehouse=None)
    connection.connector = "acme-depot"
    connection.save()
    channel_wh = connection.sales_channel.warehouse_id
    assert owner_of(connection, INVENTORY, channel_wh) == Owner.TOOL
    assert owner_of(connection, INVENTORY, wh2.pk) == Owner.HUB


def test_a_rule_for_the_warehouse_wins_over_the_rule_for_every_location(depot: Connection) -> None:
    wh1, wh2, wh3 = warehouse("WH1"), warehouse("WH2"), warehouse("WH3")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=None, owner="tool")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh1, owner="hub")

    assert owner_of(depot, INVENTORY, wh1.pk) == Owner.HUB  # its own rule
    assert owner_of(depot, INVENTORY, wh2.pk) == Owner.TOOL  # the rule for every location
    assert owners_of(depot, INVENTORY, [wh1.pk, wh2.pk, wh3.pk]) == {
        wh1.pk: Owner.HUB,
        wh2.pk: Owner.TOOL,
        wh3.pk: Owner.TOOL,
    }


def test_a_rule_overrides_the_connectors_default(depot: Connection) -> None:
    wh1 = warehouse("WH1")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh1, owner="hub")
    assert owner_of(depot, INVENTORY, wh1.pk) == Owner.HUB


def test_many_warehouses_cost_one_query_for_the_rules(depot: Connection) -> None:
    ids = [warehouse(f"W{i}").pk for i in range(12)]
    for pk in ids[:6]:
        OwnershipRule.objects.create(connection=depot, data_type=INVENTORY, warehouse_id=pk, owner="hub")

    few = count_queries(lambda: owners_of(depot, INVENTORY, ids[:2]))
    many = count_queries(lambda: owners_of(depot, INVENTORY, ids))

    assert few == many


# --- the effective rules, for display ---------------------------------------------------------------


def test_the_effective_rules_show_the_defaults_labelled_as_such(depot: Connection) -> None:
    rules = rules_of(depot)
    assert [(r.data_type, r.location, r.owner, r.is_default) for r in rules] == [
        ("inventory", "WH1 · Warehouse WH1", "tool", True),
        ("inventory", "every other location", "hub", True),
    ]
    assert rules[0].owner_label == "Depot (Acme Depot (test 3PL))"


def test_a_rule_replaces_the_default_it_overrides(depot: Connection) -> None:
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh1, owner="hub")
    ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh2, owner="tool")

    assert [(r.location, r.owner, r.is_default) for r in rules_of(depot)] == [
        ("WH1 · Warehouse WH1", "hub", False),
        ("WH2 · Warehouse WH2", "tool", False),
        ("every other location", "hub", True),
    ]


# --- setting a rule -----------------------------------------------------------------------------------


def test_setting_a_rule_twice_keeps_one_row_with_who_changed_it(depot: Connection) -> None:
    user = UserFactory(username="ines")
    wh2 = warehouse("WH2")
    first = ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh2, owner="tool", user=user)
    again = ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=wh2, owner="hub", user=user)
    wide = ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=None, owner="hub")
    wide_again = ownership_rule_set(connection=depot, data_type=INVENTORY, warehouse=None, owner="tool")

    assert first.pk == again.pk
    assert wide.pk == wide_again.pk
    assert OwnershipRule.objects.filter(connection=depot).count() == 2
    again.refresh_from_db()
    assert (again.owner, again.created_by, again.updated_by) == ("hub", user, user)
    assert again.history.count() == 2  # created, then changed


@pytest.mark.parametrize(
    ("data_type", "owner", "field", "message"),
    [
        ("stock", "tool", "data_type", "Unknown data type 'stock'"),
        ("customer", "tool", "data_type", "Acme Depot (test 3PL) neither sends nor takes customers"),
        ("inventory", "someone", "owner", "Unknown owner 'someone': hub or tool."),
    ],
)
def test_a_rule_that_makes_no_sense_is_refused_and_nothing_changes(
    depot: Connection, data_type: str, owner: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        ownership_rule_set(connection=depot, data_type=data_type, warehouse=None, owner=owner)
    assert message in refused.value.field_errors[field][0]
    assert not OwnershipRule.objects.exists()


def test_only_stock_has_a_location(tools) -> None:
    acme = acme_connection()  # takes orders: a rule about orders is fine, but not at a warehouse
    with pytest.raises(ValidationFailed) as refused:
        ownership_rule_set(connection=acme, data_type=ORDER, warehouse=warehouse("WH1"), owner="tool")
    assert refused.value.field_errors["warehouse"] == ["Orders have no location: leave it as every location."]
    rule = ownership_rule_set(connection=acme, data_type=ORDER, warehouse=None, owner="tool")
    assert owner_of(acme, ORDER, None) == Owner.TOOL
    assert rule.warehouse_id is None


def test_a_second_3pl_is_ruled_on_its_own(tools) -> None:
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    east, west = depot_connection("East", wh1), depot_connection("West", wh2)
    ownership_rule_set(connection=east, data_type=INVENTORY, warehouse=wh1, owner="hub")
    assert owner_of(east, INVENTORY, wh1.pk) == Owner.HUB
    assert owner_of(west, INVENTORY, wh2.pk) == Owner.TOOL
