"""Work centres: where BOM operations are done, at a cost per hour."""

from __future__ import annotations

from decimal import Decimal

from ninja import Field

from erp.api_helpers import ApiSchema, BaseMoney, MoneyIn, examples, ordering_param

# The sort keys of each list: public name -> field. Old short names stay as aliases.
WORK_CENTRE_ORDERING = {"code": "code", "name": "name", "cost_per_hour": "cost_per_hour", "id": "pk"}


class WorkCentreIn(ApiSchema):
    model_config = examples({"code": "ASM", "name": "Assembly", "cost_per_hour": "30.00"})

    code: str = Field(min_length=1, max_length=32)
    name: str = Field("", max_length=100, description="the code when left empty")
    cost_per_hour: MoneyIn = Field(Decimal(0), description="the default of its operations")


class WorkCentreFilterIn(ApiSchema):
    """Work centres keep no updated_at: no updated_since here."""

    model_config = examples({"q": "AS"})

    q: str | None = Field(None, description="code prefix or part of the name")
    ordering: str | None = ordering_param(WORK_CENTRE_ORDERING, default="code")


class WorkCentreOut(ApiSchema):
    model_config = examples({"id": 1, "code": "ASM", "name": "Assembly", "cost_per_hour": "30.00"})

    id: int
    code: str
    name: str
    cost_per_hour: BaseMoney
