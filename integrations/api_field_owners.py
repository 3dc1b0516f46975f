"""The JSON API of who owns each customer field of a CRM connection (``integrations.field_owners``),
under ``/api/v1/integrations/connections/{id}``: the fields with their owners, setting some, and
what the tool alone keeps of each customer (lifecycle stage, owner, marketing)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from erp.api_helpers import get_or_404, user_of
from erp.apiauth import ErpAuth
from integrations import ownership, selectors
from integrations.models import Connection

router = Router(tags=["Integrations"], auth=ErpAuth("integrations"))


class FieldOwnerOut(Schema):
    field: str = Field(examples=["email"])
    label: str = Field(examples=["Email"])
    owner: str = Field(description="hub, tool or latest (the last writer wins)", examples=["latest"])
    default: bool = Field(description="the default owner, not one set on the connection")
    choices: list[str] = Field(
        description="the owners the field may have", examples=[["hub", "tool", "latest"]]
    )


class FieldOwnersIn(Schema):
    owners: dict[str, str] = Field(
        description="field -> hub, tool or latest; the fields left out keep their owner",
        examples=[{"email": "tool", "phone": "hub"}],
    )


class KeptValuesOut(Schema):
    customer_id: int
    customer: str = Field(examples=["Ada Lovelace (C-0001)"])
    external_id: str = Field(description="the tool's id of the customer's record")
    values: dict[str, str] = Field(examples=[{"Lifecycle stage": "customer", "Owner (sales rep)": "Sam"}])
    changed_at: str = Field(description="when the tool last changed one of them, as it said")


def _connection(pk: int) -> Connection:
    connection: Connection = get_or_404(selectors.connection_list(), pk, "connection")
    return connection


@router.get("/connections/{connection_id}/field-owners", response=list[FieldOwnerOut])
def field_owners_list(request: HttpRequest, connection_id: int) -> list[dict[str, Any]]:
    """Who owns each customer field the connection's tool keeps ([] for a tool without field
    rules): the tool's are applied here and never sent; the hub's sent and never taken; the last
    writer's go to the side that changed them last."""
    return [rule.as_dict() for rule in ownership.customer_fields(_connection(connection_id))]


@router.put("/connections/{connection_id}/field-owners", response=list[FieldOwnerOut])
def field_owners_put(
    request: HttpRequest, connection_id: int, payload: FieldOwnersIn
) -> list[dict[str, Any]]:
    """Set who owns some customer fields (saved in the connection's settings, ``field_owners``);
    answers every field. 422 per field (``field_owners.<field>``), changing nothing, for a tool
    without field rules, a field it does not keep, or an owner the field cannot have."""
    connection = _connection(connection_id)
    saved = ownership.field_owners_set(connection=connection, owners=payload.owners, user=user_of(request))
    return [rule.as_dict() for rule in ownership.customer_fields(saved)]


@router.get("/connections/{connection_id}/kept-values", response=list[KeptValuesOut])
def kept_values_list(request: HttpRequest, connection_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """What the tool alone keeps of its customers (lifecycle stage, owner, marketing), the most
    recently synced first (at most ``limit``, up to 200)."""
    connection = _connection(connection_id)
    return [kept.as_dict() for kept in ownership.kept_values(connection, limit=max(1, min(limit, 200)))]
