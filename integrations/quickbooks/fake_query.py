"""The fake QuickBooks' query language: the subset a connector uses, parsed honestly.

``select * | count(*) | Field, Field from Entity [where COND {and COND}] [orderby Field [asc|desc]
{, ...}] [startposition N] [maxresults N]`` (keywords case-insensitive). ``COND`` is ``Field OP
value`` with ``=``, ``<``, ``>``, ``<=``, ``>=``, ``Field in ('a', 'b')`` or ``Field like '%x%'``
(``%`` at either end). Values are ``'strings'`` (``\\'`` escapes a quote), numbers and
``true``/``false``. ``OR``, ``!=`` and anything else answer fault 4000 (QueryParserError); a
field the entity does not filter on answers 4001 (QueryValidationError) [inferred texts].

Fields are top-level (``DisplayName``, ``DocNumber``), a reference compared by its value
(``CustomerRef = '58'``) or ``MetaData.CreateTime`` / ``MetaData.LastUpdatedTime`` (compared as
times). Strings compare case-insensitively, as QuickBooks does for names. Name lists answer only
active objects unless the query says something about ``Active``.

Paging: ``STARTPOSITION`` is 1-based (default 1), ``MAXRESULTS`` defaults to 100 and is capped
at 1000. The answer: ``{"QueryResponse": {"<Entity>": [...], "startPosition", "maxResults"}}``
(``maxResults`` = how many came back), ``{"QueryResponse": {}}`` when none did, and
``{"QueryResponse": {"totalCount": N}}`` for ``count(*)``. Without ``orderby`` objects come in
``Id`` order.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.quickbooks.fake_company import ENTITIES
from integrations.quickbooks.fake_data import (
    QUERY_DEFAULT_RESULTS,
    QUERY_MAX_RESULTS,
    parse_moment,
    query_error,
)

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_META = ("MetaData.CreateTime", "MetaData.LastUpdatedTime", "Id")
_TXN = ("TxnDate", "DocNumber", "TotalAmt", "CustomerRef", "ClassRef", "DepartmentRef", "PrivateNote")
# The fields each entity filters and sorts on (Intuit's "filterable" fields, the ones a connector uses).
FILTERABLE: dict[str, tuple[str, ...]] = {
    "Customer": (
        "DisplayName",
        "GivenName",
        "FamilyName",
        "CompanyName",
        "FullyQualifiedName",
        "PrimaryEmailAddr",
        "Active",
        "Balance",
        "Job",
    ),
    "Vendor": (
        "DisplayName",
        "GivenName",
        "FamilyName",
        "CompanyName",
        "PrimaryEmailAddr",
        "Active",
        "Balance",
    ),
    "Item": ("Name", "Sku", "Type", "Active", "FullyQualifiedName", "UnitPrice", "QtyOnHand"),
    "Account": (
        "Name",
        "AccountType",
        "AccountSubType",
        "Classification",
        "Active",
        "FullyQualifiedName",
        "CurrentBalance",
    ),
    "TaxCode": ("Name", "Active", "Taxable"),
    "TaxRate": ("Name", "Active", "RateValue"),
    "PaymentMethod": ("Name", "Active", "Type"),
    "Term": ("Name", "Active", "DueDays"),
    "Class": ("Name", "Active", "FullyQualifiedName"),
    "Department": ("Name", "Active", "FullyQualifiedName"),
    "Invoice": (*_TXN, "DueDate", "Balance"),
    "CreditMemo": (*_TXN, "Balance"),
    "RefundReceipt": _TXN,
    "Payment": ("TxnDate", "TotalAmt", "CustomerRef", "PaymentRefNum", "UnappliedAmt"),
    "Bill": ("TxnDate", "DocNumber", "TotalAmt", "VendorRef", "DueDate", "Balance"),
    "BillPayment": ("TxnDate", "DocNumber", "TotalAmt", "VendorRef"),
    "Purchase": ("TxnDate", "DocNumber", "TotalAmt", "PaymentType", "AccountRef", "EntityRef", "PrivateNote"),
    "JournalEntry": ("TxnDate", "DocNumber", "TotalAmt"),
}
_ENTITY_NAMES = {name.lower(): name for name in ENTITIES}


@dataclass
class Condition:
    field: str
    op: str  # = < > <= >= in like
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] = field(default_factory=list)  # empty: *
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = QUERY_DEFAULT_RESULTS


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position, text = [], 0, text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise query_error(
                f'QueryParserError: Encountered "{text[position : position + 20]}" at position {position + 1}'
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise query_error('QueryParserError: Encountered "<EOF>"')
        self.at += 1
        return token

    def keyword(self, *words: str) -> str | None:
        kind, value = self.peek()
        if kind == "word" and value.lower() in words:
            self.at += 1
            return value.lower()
        return None

    def expect(self, kind: str, value: str | None = None) -> str:
        got_kind, got = self.take()
        if got_kind != kind or (value is not None and got.lower() != value):
            raise query_error(f'QueryParserError: Encountered "{got}" where {value or kind} was expected')
        return got

    def integer(self) -> int:
        kind, value = self.take()
        if kind != "num" or not value.isdigit():
            raise query_error(f'QueryParserError: Encountered "{value}" where a number was expected')
        return int(value)

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise query_error(f'QueryParserError: Encountered "{value}" where a value was expected')


def parse(text: str) -> Query:
    """A query, or fault 4000 / 4001."""
    parser = _Parser(text)
    parser.expect("word", "select")
    count, fields = False, []
    if parser.peek() == ("punct", "*"):
        parser.take()
    elif parser.keyword("count"):
        parser.expect("punct", "(")
        parser.expect("punct", "*")
        parser.expect("punct", ")")
        count = True
    else:
        fields.append(parser.expect("word"))
        while parser.peek() == ("punct", ","):
            parser.take()
            fields.append(parser.expect("word"))
    parser.expect("word", "from")
    raw_entity = parser.expect("word")
    entity = _ENTITY_NAMES.get(raw_entity.lower())
    if entity is None:
        raise query_error(f"QueryValidationError: Invalid entity {raw_entity}", code="4001")
    query = Query(entity, count=count)
    query.fields = [_field(entity, f) for f in fields]
    if parser.keyword("where"):
        query.where.append(_condition(parser, entity))
        while parser.keyword("and"):
            query.where.append(_condition(parser, entity))
    if parser.keyword("orderby"):
        while True:
            name = _field(entity, parser.expect("word"))
            direction = parser.keyword("asc", "desc")
            query.order.append((name, direction == "desc"))
            if parser.peek() != ("punct", ","):
                break
            parser.take()
    if parser.keyword("startposition"):
        query.start = max(parser.integer(), 1)
    if parser.keyword("maxresults"):
        query.max_results = min(parser.integer(), QUERY_MAX_RESULTS)
    if parser.peek()[0] != "end":
        raise query_error(f'QueryParserError: Encountered "{parser.peek()[1]}"')
    return query


def _field(entity: str, name: str) -> str:
    allowed = FILTERABLE.get(entity, ()) + _META
    for candidate in allowed:
        if candidate.lower() == name.lower():
            return candidate
    raise query_error(f"QueryValidationError: property '{name}' is not queryable", code="4001")


def _condition(parser: _Parser, entity: str) -> Condition:
    name = _field(entity, parser.expect("word"))
    kind, op = parser.take()
    if kind == "word" and op.lower() == "in":
        parser.expect("punct", "(")
        values = [parser.value()]
        while parser.peek() == ("punct", ","):
            parser.take()
            values.append(parser.value())
        parser.expect("punct", ")")
        return Condition(name, "in", values)
    if kind == "word" and op.lower() == "like":
        pattern = parser.value()
        if not isinstance(pattern, str):
            raise query_error("QueryParserError: LIKE takes a string")
        return Condition(name, "like", [pattern])
    if kind != "op" or op in ("!=", "<>"):
        raise query_error(f'QueryParserError: Encountered "{op}" where an operator was expected')
    return Condition(name, op, [parser.value()])


# --- running one --------------------------------------------------------------------------------


def _read(obj: Mapping[str, Any], name: str) -> Any:
    value: Any = obj
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):
        value = value.get("value", value.get("Address"))
    if name.startswith("MetaData.") and isinstance(value, str):
        return parse_moment(value)
    return value


def _coerce(name: str, value: Any) -> Any:
    if name.startswith("MetaData."):
        try:
            return parse_moment(str(value))
        except ValueError:
            raise query_error(
                f"QueryValidationError: invalid date-time '{value}' for {name}", code="4001"
            ) from None
    return value.casefold() if isinstance(value, str) else value


def _key(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime.datetime):
        return value
    return value


def _matches(obj: Mapping[str, Any], condition: Condition) -> bool:
    actual = _key(_read(obj, condition.field))
    if actual is None:
        return False
    values: list[Any] = [_coerce(condition.field, v) for v in condition.values]
    if condition.field == "Id" and str(actual).isdigit():  # ids compare as numbers
        actual = int(actual)
        values = [int(v) if str(v).isdigit() else v for v in values]
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        values = [float(v) if isinstance(v, str) and _is_number(v) else v for v in values]
    try:
        if condition.op == "=":
            return bool(actual == values[0])
        if condition.op == "in":
            return actual in values
        if condition.op == "like":
            pattern = str(values[0])
            core = re.escape(pattern.strip("%"))
            regex = ("" if pattern.startswith("%") else "^") + core + ("" if pattern.endswith("%") else "$")
            return re.search(regex, str(actual)) is not None
        if condition.op == "<":
            return bool(actual < values[0])
        if condition.op == ">":
            return bool(actual > values[0])
        if condition.op == "<=":
            return bool(actual <= values[0])
        return bool(actual >= values[0])
    except TypeError:
        return False


def _sort_key(name: str, obj: Mapping[str, Any]) -> Any:
    value = _key(_read(obj, name))
    if name == "Id" and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def run(query: Query, objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``QueryResponse`` of ``query`` over the entity's live objects (in ``Id`` order)."""
    rows = list(objects)
    active_list = query.entity in FILTERABLE and "Active" in FILTERABLE[query.entity]
    if active_list and not any(c.field == "Active" for c in query.where):
        rows = [r for r in rows if r.get("Active", True) is not False]
    rows = [r for r in rows if all(_matches(r, c) for c in query.where)]
    if query.count:
        return {"totalCount": len(rows)}
    for name, descending in reversed(query.order):
        present = [r for r in rows if _read(r, name) is not None]
        absent = [r for r in rows if _read(r, name) is None]
        present.sort(key=lambda r: _sort_key(name, r), reverse=descending)
        rows = present + absent
    page = rows[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields:
        keep = {f.split(".")[0] for f in query.fields} | {"Id"}
        page = [{**{k: v for k, v in r.items() if k in keep}, "domain": "QBO", "sparse": True} for r in page]
    return {query.entity: [dict(r) for r in page], "startPosition": query.start, "maxResults": len(page)}
