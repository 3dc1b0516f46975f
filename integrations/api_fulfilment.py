"""The JSON API of who ships each warehouse's orders (``integrations.routing``), under
``/api/v1/integrations/fulfilment-rules``: the rules, and setting one (which moves the warehouse's
open orders at once)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from erp.api_helpers import user_of
from erp.apiauth import ErpAuth
from erp.exceptions import ValidationFailed
from integrations import routing
from integrations.models import Connection, FulfilmentRule
from inventory.models import Warehouse
from sales.models import SalesChannel

router = Router(tags=["Integrations"], auth=ErpAuth("integrations"))


class FulfilmentRuleOut(Schema):
    id: int
    warehouse: int = Field(description="the warehouse's id")
    warehouse_code: str = Field(examples=["WH1"])
    channel: int | None = Field(description="the sales channel's id; null: every channel of the warehouse")
    connection: int | None = Field(description="the shipping tool or 3PL connection; null: shipped here")
    shipped_by: str = Field(examples=["ShipStation (Shipping)"])


class FulfilmentRuleIn(Schema):
    warehouse: int = Field(description="id of the warehouse the orders ship from")
    channel: int | None = Field(None, description="id of one channel selling from it; null: every channel")
    connection: int | None = Field(
        None, description="id of the shipping tool or 3PL connection that ships them; null: shipped here"
    )


class FulfilmentRuleSetOut(Schema):
    rule: FulfilmentRuleOut | None = Field(description="the rule as it now stands (null: shipped here)")
    moved_orders: int = Field(description="open orders moved to their new shipper", examples=[3])


def _out(rule: FulfilmentRule) -> dict[str, Any]:
    connection = rule.connection
    return {
        "id": rule.pk,
        "warehouse": rule.warehouse_id,
        "warehouse_code": rule.warehouse.code,
        "channel": rule.channel_id,
        "connection": rule.connection_id,
        "shipped_by": f"{connection.name}" if connection is not None else "shipped here",
    }


def _get(model: type[Any], pk: int | None, what: str, field: str) -> Any:
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        message = f"No {what} with id {pk}."
        raise ValidationFailed(message, field_errors={field: [message]})
    return found


@router.get("", response=list[FulfilmentRuleOut])
def fulfilment_rules(request: HttpRequest) -> list[dict[str, Any]]:
    """Every rule, by warehouse: a warehouse with none ships its orders itself."""
    rules = FulfilmentRule.objects.select_related("warehouse", "connection").order_by("warehouse__code", "pk")
    return [_out(rule) for rule in rules]


@router.put("", response=FulfilmentRuleSetOut)
def fulfilment_rule_set(request: HttpRequest, payload: FulfilmentRuleIn) -> dict[str, Any]:
    """Who ships the warehouse's orders (of one channel, or of every channel) from now on. Its open
    orders move at once: cancelled in the tool that had them, sent to the new one once it let go.
    422 per field for an unknown warehouse, channel or connection, a channel of another warehouse,
    or a connection that ships nothing: nothing is changed."""
    moved = routing.route_set(
        warehouse=_get(Warehouse, payload.warehouse, "warehouse", "warehouse"),
        channel=_get(SalesChannel, payload.channel, "sales channel", "channel"),
        connection=_get(Connection, payload.connection, "connection", "connection"),
        user=user_of(request),
    )
    rule = moved.rule
    if rule is not None:
        rule = FulfilmentRule.objects.select_related("warehouse", "connection").get(pk=rule.pk)
    return {"rule": _out(rule) if rule is not None else None, "moved_orders": moved.orders}
