"""How an answer's schema reads an object's fields (``erp.api_helpers._Getter``): a dotted alias
is followed step by step, not through a Django template variable for every field of every row;
what comes out is what ninja's own reader gave."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from erp.api_helpers import ApiSchema, Shown
from erp.models import User
from inventory.models import Location, Product, StockMove, UnitOfMeasure
from inventory.schemas.moves import MoveOut


class Box:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class ThingOut(ApiSchema):
    name: str
    owner: str | None = Field(None, alias="owner.name")
    city: str | None = Field(None, alias="address.city")
    label: str

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return f"#{obj['name'] if isinstance(obj, dict) else obj.name}"


class NinjaThingOut(Schema):
    """The same, read by ninja's own getter."""

    name: str
    owner: str | None = Field(None, alias="owner.name")
    city: str | None = Field(None, alias="address.city")
    label: str

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return f"#{obj['name'] if isinstance(obj, dict) else obj.name}"


def both(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return ThingOut.model_validate(obj).model_dump(), NinjaThingOut.model_validate(obj).model_dump()


def test_a_dotted_alias_reads_through_attributes_and_a_dicts_keys():
    ours, ninjas = both(Box(name="tent", owner=Box(name="ada"), address={"city": "Lyon"}))
    assert ours == ninjas == {"name": "tent", "owner": "ada", "city": "Lyon", "label": "#tent"}


def test_an_empty_step_or_a_missing_key_leaves_the_fields_default():
    ours, ninjas = both(Box(name="tent", owner=None, address={}))
    assert ours == ninjas == {"name": "tent", "owner": None, "city": None, "label": "#tent"}


def test_a_dict_is_read_by_its_keys_as_ninja_reads_it():
    row = {"name": "tent", "owner.name": "ada", "address.city": "Lyon"}
    ours, ninjas = both(row)
    assert ours == ninjas == {"name": "tent", "owner": "ada", "city": "Lyon", "label": "#tent"}


def test_a_shown_answer_is_read_through_to_its_instance():
    @dataclass(frozen=True)
    class Wrapped(Shown[Any]):
        extra: int

    ours, ninjas = both(Wrapped(obj=Box(name="tent", owner=Box(name="ada"), address=None), extra=1))
    assert ours == ninjas == {"name": "tent", "owner": "ada", "city": None, "label": "#tent"}


def test_a_move_reads_the_same_as_with_ninjas_getter():
    unit = UnitOfMeasure(id=1, code="pcs", name="Pieces")
    move = StockMove(
        id=301,
        product=Product(id=7, sku="MUG-BLUE", name="Mug", stock_unit=unit),
        quantity=Decimal("2.0000"),
        from_location=Location(id=12, name="A-01", path="WH1/A/A-01"),
        to_location=Location(id=2, name="Adjustment", path="Virtual/Adjustment"),
        lot=None,
        unit_cost=Decimal("4.25"),
        kind="count",
        reference="CYCLE",
        document_type="inventory.stockcount",
        document_id="3f",
        reason="stock count",
        operation=uuid.uuid4(),
        user=User(id=1, username="ada"),
        created_at=timezone.now(),
    )

    class NinjaMoveOut(Schema):
        sku: str = Field(alias="product.sku")
        stock_unit: str = Field(alias="product.stock_unit.code")
        from_location_path: str = Field(alias="from_location.path")
        lot_code: str | None = Field(None, alias="lot.code")
        user: str | None = Field(None, alias="user.username")

    answer = MoveOut.model_validate(move).model_dump()
    assert {k: answer[k] for k in NinjaMoveOut.model_fields} == NinjaMoveOut.model_validate(move).model_dump()
    assert (answer["sku"], answer["lot_code"], answer["user"]) == ("MUG-BLUE", None, "ada")
    assert answer["operation"] == str(move.operation)
