"""Who owns what: per connection, data type and location, the hub or the tool.

A 3PL's on-hand at its warehouse is the tool's truth; the hub's stock everywhere else is the hub's.
What the owner says wins, in both directions:

* inbound, a record of data the tool owns is applied (a 3PL's count becomes on-hand here through
  the ledger, ``appliers.levels``); a record of data the hub owns is compared, never applied;
* outbound, data the tool owns is never pushed to it (``outbound_items.resolve_inventory``): an
  adjustment made here from the tool's count must not echo back to the tool;
* reconciliation heals toward the owner: pushed when the hub owns it, adjusted here when the tool
  does (``reconcile``).

Resolution (``owner_of``): the connection's rule for that warehouse, else its rule for every
location (warehouse null), else the connector's default: ``Connector.tool_owns`` names the data
types the tool owns at the connection's warehouse (or everywhere, for a connection without one);
everything else is the hub's. Rules change through ``ownership_rule_set`` only (the page, the API);
their history (who, when, through which API key) is kept by ``OwnershipRule.history``.

A CRM's customers are owned per field (``integrations.field_owners``): ``field_owners_of`` reads a
connection's rules from its connector, ``customer_fields`` lists them for the page and the API,
``field_owners_set`` changes them (in the connection's settings), and ``kept_values`` shows what
the tool alone keeps of its customers (lifecycle stage, owner, marketing).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from erp.exceptions import ValidationFailed
from integrations import field_owners, registry
from integrations.connections import connection_update, connector_class
from integrations.contract import Capability, Connector
from integrations.field_owners import Owner as FieldOwner
from integrations.locations import home_warehouse, locations_of
from integrations.models import Connection, ExternalRef, OwnershipRule
from inventory.models import Warehouse
from sales.models import Customer

Owner = OwnershipRule.Owner
DataType = OwnershipRule.DataType
INVENTORY, CUSTOMER, ORDER, PRODUCT = (
    DataType.INVENTORY,
    DataType.CUSTOMER,
    DataType.ORDER,
    DataType.PRODUCT,
)

# The capabilities that touch each data type, in or out: what a rule of a connection may be about.
TOUCHES: Mapping[str, frozenset[Capability]] = {
    INVENTORY: frozenset({Capability.INVENTORY_IN, Capability.INVENTORY_OUT}),
    CUSTOMER: frozenset({Capability.CUSTOMERS_IN, Capability.CUSTOMERS_OUT}),
    ORDER: frozenset({Capability.ORDERS_IN, Capability.ORDERS_OUT}),
    PRODUCT: frozenset({Capability.PRODUCTS_IN, Capability.PRODUCTS_OUT, Capability.ITEMS_OUT}),
}
# Only stock is kept per location; the other data types have one owner per connection.
LOCATED = frozenset({INVENTORY})


def data_types_of(connector: type[Connector]) -> list[str]:
    """The data types the connector touches (by its capabilities or its ``tool_owns``), in order."""
    return [t for t in DataType.values if connector.capabilities & TOUCHES[t] or t in connector.tool_owns]


def _connector(connection: Connection) -> type[Connector] | None:
    try:
        return registry.get(connection.connector)
    except registry.UnknownConnector:
        return None


def _default(
    connection: Connection, connector: type[Connector] | None, data_type: str, warehouse_id: int | None
) -> Owner:
    if connector is None or data_type not in connector.tool_owns:
        return Owner.HUB
    if data_type not in LOCATED or warehouse_id is None:
        return Owner.TOOL
    home = home_warehouse(connection)
    if home is None or home == warehouse_id:
        return Owner.TOOL
    # a tool that keeps stock at several locations owns it at every warehouse mapped to one of them
    return Owner.TOOL if warehouse_id in locations_of(connection) else Owner.HUB


# --- reads ----------------------------------------------------------------------------------------


def owners_of(
    connection: Connection, data_type: str, warehouse_ids: Iterable[int | None]
) -> dict[int | None, Owner]:
    """The owner of ``data_type`` at each warehouse (None: the connection as a whole), in one query
    for the rules whatever the number of warehouses."""
    rules: dict[int | None, str] = dict(
        OwnershipRule.objects.filter(connection=connection, data_type=data_type).values_list(
            "warehouse_id", "owner"
        )
    )
    connector = _connector(connection)
    owners: dict[int | None, Owner] = {}
    for warehouse_id in warehouse_ids:
        owner = rules.get(warehouse_id) if warehouse_id is not None else None
        owner = owner or rules.get(None)
        owners[warehouse_id] = (
            Owner(owner) if owner else _default(connection, connector, data_type, warehouse_id)
        )
    return owners


def owner_of(connection: Connection, data_type: str, warehouse_id: int | None) -> Owner:
    """Who owns ``data_type`` of the connection at the warehouse (None: the connection as a whole)."""
    return owners_of(connection, data_type, [warehouse_id])[warehouse_id]


@dataclass(frozen=True)
class EffectiveRule:
    """One line of "who owns what" as the page and the API show it: a rule, or a default."""

    data_type: str
    data_type_label: str
    warehouse_id: int | None  # None: every location (or every other one, below rules per warehouse)
    location: str
    owner: str
    owner_label: str
    is_default: bool  # the connector's default, not a rule someone set
    rule_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_type": self.data_type,
            "warehouse": self.warehouse_id,
            "location": self.location,
            "owner": self.owner,
            "owner_label": self.owner_label,
            "default": self.is_default,
        }


def _warehouse_label(warehouse: Warehouse) -> str:
    return f"{warehouse.code} · {warehouse.name}"


def rules_of(connection: Connection) -> list[EffectiveRule]:
    """Every rule of the connection and the defaults they leave in force, per data type the
    connector touches: the rules per warehouse first, then the one for every (other) location.
    A constant number of queries."""
    connector = _connector(connection)
    rules = list(
        OwnershipRule.objects.filter(connection=connection)
        .select_related("warehouse")
        .order_by("data_type", "warehouse__code", "pk")
    )
    types = data_types_of(connector) if connector is not None else []
    types += [t for t in dict.fromkeys(r.data_type for r in rules) if t not in types]
    tool = connector.name if connector is not None else connection.connector
    labels = {Owner.HUB: "the hub", Owner.TOOL: f"{connection.name} ({tool})"}
    home_id = home_warehouse(connection)
    home = Warehouse.objects.filter(pk=home_id).first() if home_id is not None else None

    def line(
        data_type: str, warehouse: Warehouse | None, owner: str, *, default: bool, rule: Any, other: bool
    ) -> EffectiveRule:
        location = (
            _warehouse_label(warehouse)
            if warehouse is not None
            else ("every other location" if other else "every location")
        )
        return EffectiveRule(
            data_type=data_type,
            data_type_label=DataType(data_type).label,
            warehouse_id=warehouse.pk if warehouse is not None else None,
            location=location if data_type in LOCATED else "—",
            owner=owner,
            owner_label=labels[Owner(owner)],
            is_default=default,
            rule_id=rule.pk if rule is not None else None,
        )

    lines: list[EffectiveRule] = []
    for data_type in types:
        mine = [r for r in rules if r.data_type == data_type]
        located = [r for r in mine if r.warehouse_id is not None]
        wide = next((r for r in mine if r.warehouse_id is None), None)
        at = {r.warehouse_id for r in located}
        tool_default = connector is not None and data_type in connector.tool_owns
        for rule in located:
            lines.append(line(data_type, rule.warehouse, rule.owner, default=False, rule=rule, other=False))
        if wide is not None:
            lines.append(line(data_type, None, wide.owner, default=False, rule=wide, other=bool(located)))
            continue
        if tool_default and data_type in LOCATED and home is not None:
            if home.pk not in at:
                lines.append(line(data_type, home, Owner.TOOL, default=True, rule=None, other=False))
            lines.append(line(data_type, None, Owner.HUB, default=True, rule=None, other=True))
        elif tool_default:
            lines.append(line(data_type, None, Owner.TOOL, default=True, rule=None, other=bool(located)))
        else:
            lines.append(line(data_type, None, Owner.HUB, default=True, rule=None, other=bool(located)))
    return lines


# --- writes ---------------------------------------------------------------------------------------


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def ownership_rule_set(
    *,
    connection: Connection,
    data_type: str,
    warehouse: Warehouse | None,
    owner: str,
    user: Any = None,
) -> OwnershipRule:
    """Say who owns ``data_type`` of the connection at ``warehouse`` (None: every location).

    Refused (ValidationFailed, per field) for a data type the connector neither sends nor takes,
    an owner that is not "hub" or "tool", and a location for data that has none (only stock is
    kept per location). Setting what is already set changes nothing. Serialised per connection
    (its row is locked), so two people setting the same rule end with one row.
    """
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    connector = connector_class(connection.connector)
    errors: dict[str, list[str]] = {}
    if data_type not in DataType.values:
        errors["data_type"] = [f"Unknown data type {data_type!r}; known: {', '.join(DataType.values)}."]
    elif data_type not in data_types_of(connector):
        touched = ", ".join(data_types_of(connector)) or "none"
        errors["data_type"] = [
            f"{connector.name} neither sends nor takes {DataType(data_type).label.lower()}; "
            f"it touches: {touched}."
        ]
    elif warehouse is not None and data_type not in LOCATED:
        errors["warehouse"] = [f"{DataType(data_type).label} have no location: leave it as every location."]
    if owner not in Owner.values:
        errors["owner"] = [f"Unknown owner {owner!r}: hub or tool."]
    if errors:
        summary = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        raise ValidationFailed(f"Invalid ownership rule: {summary}", field_errors=errors)
    rule = OwnershipRule.objects.filter(
        connection=connection, data_type=data_type, warehouse=warehouse
    ).first()
    actor = _actor(user)
    if rule is None:
        return OwnershipRule.objects.create(
            connection=connection,
            data_type=data_type,
            warehouse=warehouse,
            owner=owner,
            created_by=actor,
            updated_by=actor,
        )
    if rule.owner != owner:
        rule.owner = owner
        rule.updated_by = actor
        rule.save(update_fields=["owner", "updated_by", "updated_at"])
    return rule


# --- customer fields a CRM keeps too (integrations.field_owners) --------------------------------


def field_owners_of(connection: Connection) -> dict[str, FieldOwner]:
    """The connection's customer field rules, as its connector reads them from its settings ({}:
    none, the hub sends every field and takes what the tool gives as it always did). No query."""
    try:
        return dict(registry.connector_for(connection).field_owners())
    except registry.UnknownConnector:
        return {}


def customer_fields(connection: Connection) -> list[field_owners.FieldRule]:
    """The customer fields the connection's tool keeps, each with its owner; [] for a connection
    without field rules. No query."""
    owners = field_owners_of(connection)
    return [
        field_owners.FieldRule(
            f,
            field_owners.LABELS[f],
            owners[f],
            owners[f] == field_owners.DEFAULTS[f],
            field_owners.choices(f),
        )
        for f in field_owners.FIELDS
        if f in owners
    ]


@transaction.atomic
def field_owners_set(*, connection: Connection, owners: Mapping[str, str], user: Any = None) -> Connection:
    """Set who owns some customer fields of a connection (the others keep theirs), saved into its
    settings (``field_owners``) through the connections service. Refused, changing nothing
    (ValidationFailed, per field ``field_owners.<field>``), for a connection whose tool keeps no
    field rules, a field it does not keep, an unknown owner, or an owner the field cannot have."""
    keeps = field_owners_of(connection)
    if not keeps:
        raise ValidationFailed(
            f"{connection.name} keeps no customer fields of its own: there is no owner to set.",
            field_errors={field_owners.SETTING: ["This connection's tool has no field rules."]},
        )
    stored = connection.settings.get(field_owners.SETTING) or {}
    merged = {**(stored if isinstance(stored, Mapping) else {}), **dict(owners)}
    errors: dict[str, list[str]] = {}
    for name, owner in owners.items():
        if name in field_owners.DEFAULTS and name not in keeps:
            label = field_owners.LABELS[name].lower()
            errors[f"{field_owners.SETTING}.{name}"] = [f"{connection.name} does not keep {label}."]
            continue
        try:
            field_owners.rules({name: owner})
        except ValueError as exc:
            errors[f"{field_owners.SETTING}.{name}"] = [str(exc)]
    if errors:
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise ValidationFailed(f"Invalid field owners: {summary}", field_errors=errors)
    return connection_update(connection=connection, settings={field_owners.SETTING: merged}, user=user)


@dataclass(frozen=True)
class KeptValues:
    """What the tool alone keeps of one customer (lifecycle stage, owner, marketing), as its link
    holds it (``ExternalRef.extra["crm"]``: field -> {"value", "changed_at"})."""

    customer_id: int
    customer: str
    external_id: str
    values: dict[str, str]  # our field name -> the tool's value
    changed_at: str  # the newest of their times, as the tool gave it (ISO 8601; "" if none)

    @property
    def changed(self) -> datetime.datetime | None:
        """``changed_at`` as a moment, for the page to show as people read times."""
        try:
            return datetime.datetime.fromisoformat(self.changed_at) if self.changed_at else None
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "customer": self.customer,
            "external_id": self.external_id,
            "values": self.values,
            "changed_at": self.changed_at,
        }


def kept_values(connection: Connection, *, limit: int = 20) -> list[KeptValues]:
    """The customers whose link keeps values only the tool has, the most recently synced first:
    two queries whatever ``limit``."""
    links = list(
        ExternalRef.objects.filter(
            connection=connection,
            object_type="customer",
            content_type__model="customer",
            extra__has_key="crm",
        ).order_by("-synced_at", "-pk")[:limit]
    )
    names = Customer.objects.in_bulk([link.object_id for link in links])
    found = []
    for link in links:
        kept = link.extra.get("crm") or {}
        customer = names.get(link.object_id)
        found.append(
            KeptValues(
                customer_id=link.object_id,
                customer=f"{customer.name} ({customer.code})" if customer is not None else "(deleted)",
                external_id=link.external_id,
                values={
                    field_owners.LABELS[f]: str(v.get("value", ""))
                    for f, v in sorted(kept.items())
                    if f in field_owners.LABELS
                },
                changed_at=max((str(v.get("changed_at") or "") for v in kept.values()), default=""),
            )
        )
    return found
