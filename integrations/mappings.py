"""Value mappings: our values of a kind -> the tool's, per connection.

A connector declares the kinds it needs (``Connector.mapping_kinds``: our warehouses to its
locations, our taxes to its tax codes, account roles to its accounts, payment methods, carriers
and services, stores and channels, pipeline stages, custom properties) and may list the tool's
side (``Connector.mapping_choices``: QuickBooks' tax codes or chart of accounts). A person maps
them on the connection's Mappings tab or with ``PUT /connections/{id}/mappings/{kind}``.

A connector reads a mapping with ``value_for(connection, kind, our_value)``. Where there is none
it raises ``NeedsMapping`` (a ``NeedsAPerson`` whose kind is "map <kind label>" and whose value is
ours): an inbound event waits in the quarantine, an outbound delivery is dead at once with
``Delivery.missing`` saying what it waits for. Saving the mapping (``mapping_set``) replays both:
the events quarantined for it and the deliveries waiting for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Model
from django.db.models.fields.json import KeyTextTransform

from erp.exceptions import NotFound, ValidationFailed
from integrations import inbound, outbound, registry
from integrations.contract import MappingKind
from integrations.errors import NeedsAPerson
from integrations.models import Connection, Delivery, DeliveryStatus, ValueMapping
from integrations.outbound_accounting import SHIPPING_TAX, tax_name
from integrations.outbound_crm import STAGES
from inventory.models import Warehouse
from sales.models import OrderLineTax, Payment, PaymentTerms, SalesChannel, SalesOrder, Shipment

# Our value of a line that charges no tax (a tool wants a code for it too: "exempt", "zero-rated").
NO_TAX = "No tax"
SEPARATOR = ","  # between the tool's values of a kind that takes several

ACCOUNT_ROLES: tuple[tuple[str, str], ...] = (
    ("income", "Income (sales)"),
    ("cogs", "Cost of goods sold"),
    ("inventory", "Inventory asset"),
    ("goods_received", "Goods received not billed"),
    ("inventory_adjustment", "Inventory adjustments"),
    ("receivables", "Accounts receivable"),
    ("payables", "Accounts payable"),
    ("bank", "Bank"),
    ("undeposited_funds", "Undeposited funds"),
    ("credit_card", "Credit card"),
    ("discount", "Discounts given"),
)
CUSTOMER_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("code", "Customer code"),
    ("kind", "Company or person"),
    ("tax_id", "Tax id"),
    ("tax_exempt", "Tax exempt"),
    ("payment_terms", "Payment terms"),
    ("notes", "Notes"),
)
# What we offer on our side, where it is a fixed list: anything else is refused.
FIXED: dict[str, tuple[tuple[str, str], ...]] = {
    "account": ACCOUNT_ROLES,
    "payment_terms": tuple((str(v), str(label)) for v, label in PaymentTerms.choices),
}


class NeedsMapping(NeedsAPerson):
    """A record needs the tool's value for one of ours and the connection maps none: it waits for a
    person to map it ("map tax code" ``VAT 20%``), and is replayed once that is done."""

    title = "A value to map"

    def __init__(self, message: str, *, kind: MappingKind, value: str) -> None:
        super().__init__(message, value=value)
        self.kind = waiting_kind(kind)
        self.mapping_kind = kind.key


def waiting_kind(kind: MappingKind) -> str:
    """What a record waiting for a mapping of ``kind`` says it waits for: "map tax code"."""
    return f"map {kind.label}"


# --- reading ---------------------------------------------------------------------------------------


def kinds_of(connection: Connection) -> tuple[MappingKind, ...]:
    """The mapping kinds the connection's connector declares (none for an unknown connector)."""
    try:
        return registry.get(connection.connector).mapping_kinds
    except registry.UnknownConnector:
        return ()


def kind_of(connection: Connection, key: str) -> MappingKind:
    """The connector's mapping kind ``key``; a ValidationFailed naming the kinds it has otherwise."""
    kinds = kinds_of(connection)
    for kind in kinds:
        if kind.key == key:
            return kind
    known = ", ".join(k.key for k in kinds) or "none"
    message = f"{connection.name} maps no {key!r}; it maps: {known}."
    raise ValidationFailed(message, field_errors={"kind": [message]})


def mapped(connection: Connection, kind: str, our_value: str) -> str | None:
    """The tool's value mapped from ``our_value`` (as stored: several comma-separated), or None."""
    return (
        ValueMapping.objects.filter(connection=connection, kind=kind, our_value=our_value)
        .values_list("tool_value", flat=True)
        .first()
    )


def value_for(connection: Connection, kind: str, our_value: str) -> str:
    """The tool's value for ``our_value`` of ``kind`` (a key the connector declares). Raises
    NeedsMapping when the connection maps none: the record waits for a person to map it."""
    found = mapped(connection, kind, our_value)
    if found is None:
        declared = kind_of(connection, kind)
        raise NeedsMapping(
            f"{connection.name} maps no {declared.label} for {our_value!r}: map it on the connection's "
            "Mappings tab, and what waits for it is replayed.",
            kind=declared,
            value=our_value,
        )
    return found


def values_for(connection: Connection, kind: str, our_value: str) -> list[str]:
    """The tool's values for ``our_value`` of a kind that takes several (one for any other kind);
    NeedsMapping when there is none."""
    return [v.strip() for v in value_for(connection, kind, our_value).split(SEPARATOR) if v.strip()]


def mappings_of(connection: Connection) -> dict[str, list[ValueMapping]]:
    """The connection's mappings per kind, ours in order (one query)."""
    found: dict[str, list[ValueMapping]] = {}
    for mapping in ValueMapping.objects.filter(connection=connection).order_by("kind", "our_value"):
        found.setdefault(mapping.kind, []).append(mapping)
    return found


def our_choices(kind: MappingKind) -> list[tuple[str, str]]:
    """Our values of a kind, (value, label), for a person to pick from: the fixed roles of accounts,
    our warehouses and channels by code, the taxes, payment methods, carriers and services in use.
    One query at most."""
    ours = kind.ours
    if ours in FIXED:
        return list(FIXED[ours])
    if ours == "warehouse":
        warehouses = Warehouse.objects.filter(is_active=True).order_by("code").values_list("code", "name")
        return [(code, f"{code} · {name}") for code, name in warehouses]
    if ours == "channel":
        channels = SalesChannel.objects.order_by("code").values_list("code", "name")
        return [(code, f"{code} · {name}") for code, name in channels]
    if ours == "tax":  # the lines' taxes, and the shipping taxes orders charged
        taxes = OrderLineTax.objects.order_by("name", "rate").values_list("name", "rate").distinct()
        shipping = (
            SalesOrder.objects.filter(shipping_tax_rate__gt=0)
            .order_by("shipping_tax_rate")
            .values_list("shipping_tax_rate", flat=True)
            .distinct()
        )
        names = [tax_name(n, r) for n, r in taxes] + [tax_name(SHIPPING_TAX, r) for r in shipping]
        return [(NO_TAX, NO_TAX)] + [(name, name) for name in names]
    if ours == "payment_method":
        return _in_use(Payment, "method")
    if ours == "carrier":
        return _in_use(Shipment, "carrier")
    if ours == "service":
        return _in_use(Shipment, "service")
    if ours == "pipeline_stage":
        return [(stage, stage.capitalize()) for stage in STAGES]
    if ours == "property":
        return list(CUSTOMER_PROPERTIES)
    return []


def _in_use(model: type[Model], field: str) -> list[tuple[str, str]]:
    """The values of ``field`` our records use (a payment's method, a shipment's carrier)."""
    found = model._default_manager.exclude(**{field: ""}).order_by(field).values_list(field, flat=True)
    return [(v, v) for v in found.distinct()]


@dataclass(frozen=True)
class ToolChoices:
    """The tool's values of a kind as it lists them, or why they could not be read."""

    choices: list[tuple[str, str]]
    error: str = ""


def tool_choices(connection: Connection, kind: MappingKind) -> ToolChoices:
    """The tool's values of ``kind`` (``Connector.mapping_choices``, one call to the tool); none and
    the reason when the tool cannot be read now (a person may then type its value)."""
    try:
        connector = registry.connector_for(connection)
        return ToolChoices(list(connector.mapping_choices(kind.key)))
    except Exception as exc:  # the page still shows, with free text and the reason
        return ToolChoices([], f"Could not read the {kind.label}s of {connection.name}: {exc}")


# --- what waits for a mapping ------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingDeliveries:
    """Dead deliveries of a connection waiting for the same thing ("map tax code" ``VAT 20%``)."""

    kind: str
    value: str
    deliveries: int
    first_created_at: datetime
    last_created_at: datetime


def waiting_deliveries(connection: Connection) -> list[WaitingDeliveries]:
    """What the connection's dead deliveries wait for, grouped (one query), the most waiting first."""
    rows = (
        Delivery.objects.filter(connection=connection, status=DeliveryStatus.DEAD)
        .exclude(missing={})
        .annotate(kind=KeyTextTransform("kind", "missing"), value=KeyTextTransform("value", "missing"))
        .order_by()
        .values("kind", "value")
        .annotate(n=Count("pk"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-n", "kind", "value")
    )
    return [
        WaitingDeliveries(row["kind"] or "", row["value"] or "", row["n"], row["first"], row["last"])
        for row in rows
    ]


def kinds_waited_for(connection: Connection) -> dict[str, MappingKind]:
    """The connection's mapping kinds by what a record waiting for one says ("map tax code")."""
    return {waiting_kind(kind): kind for kind in kinds_of(connection)}


# --- changing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingSaved:
    mapping: ValueMapping
    created: bool
    events: int  # inbound events replayed
    deliveries: int  # deliveries retried


def _our_value(kind: MappingKind, value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed("Say which of our values.", field_errors={"our_value": ["Required."]})
    fixed = FIXED.get(kind.ours)
    if fixed is not None and value not in dict(fixed):
        message = f"{value!r} is not one of our {kind.label}s: {', '.join(v for v, _ in fixed)}."
        raise ValidationFailed(message, field_errors={"our_value": [message]})
    if kind.ours == "warehouse" and not Warehouse.objects.filter(code=value).exists():
        message = f"No warehouse {value!r}."
        raise ValidationFailed(message, field_errors={"our_value": [message]})
    if kind.ours == "channel" and not SalesChannel.objects.filter(code=value).exists():
        message = f"No sales channel {value!r}."
        raise ValidationFailed(message, field_errors={"our_value": [message]})
    return value


def _tool_values(kind: MappingKind, value: str, offered: ToolChoices) -> tuple[str, str]:
    """(the tool's value as stored, its label): checked against what the tool offers, if anything."""
    values = [v.strip() for v in value.split(SEPARATOR)] if kind.several else [value.strip()]
    values = [v for v in values if v]
    if not values:
        raise ValidationFailed(
            f"Say which {kind.label} of the tool.", field_errors={"tool_value": ["Required."]}
        )
    if len(SEPARATOR.join(values)) > 255:
        raise ValidationFailed("Too long.", field_errors={"tool_value": ["At most 255 characters."]})
    labels = dict(offered.choices)
    if offered.choices:
        unknown = [v for v in values if v not in labels]
        if unknown:
            message = f"The tool has no such {kind.label}: {', '.join(unknown)}."
            raise ValidationFailed(message, field_errors={"tool_value": [message]})
    label = ", ".join(labels.get(v, "") for v in values if labels.get(v))
    return SEPARATOR.join(values), label[:255]


@transaction.atomic
def mapping_set(
    *,
    connection: Connection,
    kind: str,
    our_value: str,
    tool_value: str,
    tool_label: str = "",
    choices: ToolChoices | None = None,
    user: Any = None,
) -> MappingSaved:
    """Map ``our_value`` of ``kind`` to the tool's ``tool_value`` (created or changed), then replay
    what waited for it: the events quarantined and the deliveries dead for want of it.

    The kind must be one the connector declares; where the tool lists its values
    (``mapping_choices``, read now unless ``choices`` are given), the tool's value must be one of
    them, and its label is the tool's. ``tool_label`` names a value typed where the tool lists none.
    """
    declared = kind_of(connection, kind)
    ours = _our_value(declared, our_value)
    offered = choices if choices is not None else tool_choices(connection, declared)
    theirs, label = _tool_values(declared, tool_value, offered)
    label = label or tool_label.strip()[:255]
    actor = user if getattr(user, "is_authenticated", False) else None
    mapping = (
        ValueMapping.objects.select_for_update()
        .filter(connection=connection, kind=declared.key, our_value=ours)
        .first()
    )
    created = mapping is None
    if mapping is None:
        mapping = ValueMapping.objects.create(
            connection=connection,
            kind=declared.key,
            our_value=ours,
            tool_value=theirs,
            tool_label=label,
            created_by=actor,
            updated_by=actor,
        )
    elif (mapping.tool_value, mapping.tool_label) != (theirs, label):
        mapping.tool_value, mapping.tool_label, mapping.updated_by = theirs, label, actor
        mapping.save(update_fields=["tool_value", "tool_label", "updated_by", "updated_at"])
    waiting = waiting_kind(declared)
    events = inbound.quarantine_replay(connection=connection, kind=waiting, value=ours, user=user)
    deliveries = outbound.deliveries_waiting_replay(
        connection=connection, kind=waiting, value=ours, user=user
    )
    return MappingSaved(mapping, created, events, deliveries)


@transaction.atomic
def mapping_delete(*, connection: Connection, kind: str, our_value: str, user: Any = None) -> None:
    """Remove the mapping of ``our_value`` (what needs it from now on waits for a person again)."""
    declared = kind_of(connection, kind)
    deleted, _ = ValueMapping.objects.filter(
        connection=connection, kind=declared.key, our_value=our_value
    ).delete()
    if not deleted:
        raise NotFound(f"{connection.name} maps no {declared.label} {our_value!r}.")


def describe(kinds: Sequence[MappingKind]) -> list[dict[str, Any]]:
    """The kinds as the API lists them."""
    return [
        {"key": k.key, "label": k.label, "ours": k.ours, "several": k.several, "help": k.help} for k in kinds
    ]
