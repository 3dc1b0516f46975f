"""What the fake HubSpot accepts as a property value, and how it stores it: every value a string.

HubSpot takes a JSON string, number or boolean for any property and keeps a string. A write is
checked against the portal's property definitions (``fake_data.PROPERTIES``) before anything is
stored; each refused value is one problem in HubSpot's words, and the request's answer lists
them all in one "Property values were not valid" message (error_400_validation.json; the invalid
email of contacts_batch_upsert_response_207_with_errors.json). The texts of PROPERTY_DOESNT_EXIST
and INVALID_EMAIL are the samples'; the others are [inferred] in the same shape.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.hubspot.fake_data import PIPELINES, PROPERTIES, problem, stamp

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_string(value: Any) -> str | None:
    """The string HubSpot keeps for a JSON value (None stays None: the value is cleared)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_moment(value: str) -> datetime.datetime | None:
    """A datetime property's value (ISO 8601, or milliseconds since the epoch), or None."""
    if value.isdigit():
        return datetime.datetime.fromtimestamp(int(value) / 1000, datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def normalized(object_type: str, name: str, value: str | None) -> str | None:
    """The value as HubSpot stores it: a datetime given in milliseconds as ISO, a date at midnight
    UTC in milliseconds as ``YYYY-MM-DD``, an email in lower case; the rest as given."""
    if value is None or value == "":
        return value
    kind = PROPERTIES[object_type][name].type
    if kind == "datetime" and value.isdigit():
        moment = parse_moment(value)
        return stamp(moment) if moment else value
    if kind == "date" and value.isdigit():
        return datetime.datetime.fromtimestamp(int(value) / 1000, datetime.UTC).date().isoformat()
    if name == "email":
        return value.strip().lower()
    return value


def _value_problem(object_type: str, name: str, value: str) -> dict[str, Any] | None:
    definition = PROPERTIES[object_type][name]
    if value == "":
        return None  # clearing a value is always allowed
    if name == "email" and not EMAIL.match(value):
        return problem(name, "INVALID_EMAIL", f"Email address {value} is invalid")
    if definition.type == "number":
        try:
            Decimal(value)
        except InvalidOperation:
            return problem(name, "INVALID_FLOAT", f"{value} was not a valid number.")
    if definition.type == "datetime" and parse_moment(value) is None:
        return problem(name, "INVALID_DATETIME", f"{value} was not a valid datetime.")
    if definition.type == "date":
        midnight = value.isdigit() and int(value) % 86_400_000 == 0
        if not (midnight or DATE.match(value)):
            return problem(
                name, "INVALID_DATE", f"{value} is not a valid date: use YYYY-MM-DD or midnight UTC in ms."
            )
    if definition.options and value not in definition.options:
        allowed = ", ".join(definition.options)
        return problem(name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{allowed}]")
    return None


def problems(
    object_type: str,
    values: Mapping[str, str | None],
    *,
    current: Mapping[str, str | None] | None = None,
    allow_read_only: bool = False,
) -> list[dict[str, Any]]:
    """Every reason HubSpot refuses ``values`` for an object of ``object_type`` (``current``: its
    values now, for a deal's stage checked against the pipeline it stays in)."""
    found: list[dict[str, Any]] = []
    defined = PROPERTIES[object_type]
    for name, value in values.items():
        if name not in defined:
            found.append(problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif defined[name].read_only and not allow_read_only:
            found.append(
                problem(name, "READ_ONLY_VALUE", f"{name} is a read only property; its value cannot be set.")
            )
        elif value is not None and (trouble := _value_problem(object_type, name, value)):
            found.append(trouble)
    if object_type == "deals" and not found:
        trouble = _stage_problem(values, current or {})
        if trouble:
            found.append(trouble)
    return found


def _stage_problem(
    values: Mapping[str, str | None], current: Mapping[str, str | None]
) -> dict[str, Any] | None:
    """A deal's stage must be one of its pipeline's (the pipeline it is given, or the one it is in)."""
    if "pipeline" not in values and "dealstage" not in values:
        return None
    pipeline = values.get("pipeline") or current.get("pipeline") or "default"
    if pipeline not in PIPELINES:
        return problem(
            "pipeline",
            "INVALID_OPTION",
            f"{pipeline} was not one of the allowed options: [{', '.join(PIPELINES)}]",
        )
    stage = values.get("dealstage") or current.get("dealstage")
    stages = [s[0] for s in PIPELINES[pipeline][1]]
    if stage and stage not in stages:
        return problem(
            "dealstage",
            "INVALID_OPTION",
            f"{stage} was not one of the allowed options: [{', '.join(stages)}] of pipeline {pipeline}",
        )
    return None
