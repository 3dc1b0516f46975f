"""The fake HubSpot's CRM search: ``POST /crm/v3/objects/{type}/search`` (contacts_search_request.json).

``{"filterGroups": [{"filters": [{"propertyName", "operator", "value" | "values" | "highValue"}]}],
"sorts": [{"propertyName", "direction"}], "properties", "limit", "after"}``: the groups are ORed, the
filters of a group ANDed (at most 5 groups, 6 filters in a group, 18 in all). Values compare by
the property's type: numbers as numbers, datetimes as instants (ISO or milliseconds), the rest as
case-insensitive strings. ``after`` is an offset; a page holds at most 200; nothing past the
10,000th result is served (a search that asks for it is refused: narrow the filter instead).
The answer (contacts_search_response.json): ``{"total", "results", "paging"?: {"next": {"after"}}}``.
Limits as HubSpot documents them; the refusal texts are [inferred].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.hubspot.fake_data import PROPERTIES, SEARCH_MAX_RESULTS, SEARCH_PAGE_LIMIT
from integrations.hubspot.fake_objects import Record
from integrations.hubspot.fake_values import parse_moment

MAX_GROUPS, MAX_FILTERS, MAX_FILTERS_TOTAL = 5, 6, 18
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)


class SearchRefused(ValueError):
    """A search HubSpot answers 400 (VALIDATION_ERROR) for."""


def _key(object_type: str, name: str, value: Any) -> Any:
    """A value as it compares for its property's type (None: no comparable value)."""
    if value is None or value == "":
        return None
    text = str(value)
    definition = PROPERTIES[object_type].get(name)
    kind = definition.type if definition else "string"
    if kind == "number":
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    if kind == "datetime":
        return parse_moment(text)
    return text.lower()


def _matches(record: Record, object_type: str, flt: Mapping[str, Any]) -> bool:
    name, operator = str(flt.get("propertyName", "")), str(flt.get("operator", "EQ"))
    have = _key(object_type, name, record.get(name))
    if operator == "HAS_PROPERTY":
        return have is not None
    if operator == "NOT_HAS_PROPERTY":
        return have is None
    if operator in ("IN", "NOT_IN"):
        values = {_key(object_type, name, v) for v in flt.get("values") or ()}
        return (have in values) == (operator == "IN") and (have is not None or operator == "NOT_IN")
    want = _key(object_type, name, flt.get("value"))
    if operator == "NEQ":
        return have != want
    if have is None or want is None:
        return False
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(want).strip("*")
        return (token in str(have)) == (operator == "CONTAINS_TOKEN")
    try:
        if operator == "BETWEEN":
            high = _key(object_type, name, flt.get("highValue"))
            return high is not None and want <= have <= high
        comparisons: dict[str, Callable[[Any, Any], bool]] = {
            "EQ": lambda a, b: a == b,
            "LT": lambda a, b: a < b,
            "LTE": lambda a, b: a <= b,
            "GT": lambda a, b: a > b,
            "GTE": lambda a, b: a >= b,
        }
        return comparisons[operator](have, want)
    except TypeError:  # a value of another type than the property's
        return False


def _check(groups: Sequence[Mapping[str, Any]], object_type: str) -> None:
    if len(groups) > MAX_GROUPS:
        raise SearchRefused(f"Too many filter groups ({len(groups)}); the limit is {MAX_GROUPS}.")
    total = 0
    for group in groups:
        filters = group.get("filters") or []
        total += len(filters)
        if len(filters) > MAX_FILTERS:
            raise SearchRefused(f"Too many filters in a group ({len(filters)}); the limit is {MAX_FILTERS}.")
        for flt in filters:
            if flt.get("operator", "EQ") not in OPERATORS:
                raise SearchRefused(f"Unknown operator {flt.get('operator')!r}.")
            if flt.get("propertyName") not in PROPERTIES[object_type]:
                raise SearchRefused(f"Property {flt.get('propertyName')!r} does not exist.")
    if total > MAX_FILTERS_TOTAL:
        raise SearchRefused(f"Too many filters ({total}); the limit is {MAX_FILTERS_TOTAL}.")


def search(
    records: Sequence[Record], object_type: str, body: Mapping[str, Any]
) -> tuple[list[Record], int, str | None]:
    """The page a search asks for: (its records, the total found, the next ``after`` or None).
    Raises ``SearchRefused`` for a search HubSpot refuses."""
    groups = body.get("filterGroups") or []
    _check(groups, object_type)
    try:
        limit = int(body.get("limit") or 10)
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise SearchRefused("limit and after must be numbers.") from None
    if not 0 < limit <= SEARCH_PAGE_LIMIT:
        raise SearchRefused(f"limit must be between 1 and {SEARCH_PAGE_LIMIT}.")
    if offset < 0 or offset >= SEARCH_MAX_RESULTS:
        raise SearchRefused(
            f"There was a problem with the request: a search returns at most {SEARCH_MAX_RESULTS} results."
        )
    found = [
        r
        for r in records
        if not groups or any(all(_matches(r, object_type, f) for f in g.get("filters") or []) for g in groups)
    ]
    for sort in reversed(body.get("sorts") or []):
        name = sort.get("propertyName", "hs_object_id") if isinstance(sort, Mapping) else str(sort)
        descending = isinstance(sort, Mapping) and str(sort.get("direction", "")).upper() == "DESCENDING"
        present = [r for r in found if _key(object_type, name, r.get(name)) is not None]
        absent = [r for r in found if _key(object_type, name, r.get(name)) is None]
        present.sort(key=lambda r: _key(object_type, name, r.get(name)), reverse=descending)
        found = present + absent
    total = len(found)
    following = min(offset + limit, SEARCH_MAX_RESULTS)
    page = found[offset:following]
    after = str(following) if following < min(total, SEARCH_MAX_RESULTS) else None
    return page, total, after
