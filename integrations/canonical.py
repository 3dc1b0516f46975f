"""Canonical records as JSON: the content hash of a record, and the body of a polled event.

* ``content_hash(record)``: sha256 of a canonical JSON of the record (keys sorted,
  no spaces, Decimals and datetimes as strings), stored in ExternalRef.content_hash
  so that the same content arriving again is recognised as a no-op.
* ``encode_item`` / ``decode_item``: a polled record is stored as an InboundEvent like
  a webhook, but its body is the connector's canonical ``InboundItem``, already parsed
  from the tool's wire format; processing (and a replay) decodes it back.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from integrations.contract import Action, InboundItem
from integrations.records import (
    CustomerRecord,
    InventoryLevelRecord,
    OrderRecord,
    PaymentRecord,
    ProductRecord,
    ReceiptRecord,
    ShipmentRecord,
)

RECORD_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        OrderRecord,
        ProductRecord,
        ShipmentRecord,
        CustomerRecord,
        InventoryLevelRecord,
        PaymentRecord,
        ReceiptRecord,
    )
}


def to_data(value: Any) -> Any:
    """A JSON-able form of a record (dataclasses, Decimals, datetimes, mappings, tuples)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_data(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    return json.dumps(to_data(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(record: Any) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()


def from_data(tp: Any, value: Any) -> Any:
    """The inverse of ``to_data`` for the contract's record types."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return from_data(options[0], value) if len(options) == 1 else value
    if tp is Decimal:
        return Decimal(str(value))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if tp is datetime.datetime:
        return datetime.datetime.fromisoformat(value)
    if tp is datetime.date:
        return datetime.date.fromisoformat(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        return tp(
            **{
                f.name: from_data(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.name in value
            }
        )
    if origin is tuple:
        args = typing.get_args(tp)
        return tuple(from_data(args[0], v) for v in value)
    if origin in (Mapping, dict, typing.Mapping):
        args = typing.get_args(tp)
        inner = args[1] if len(args) == 2 else Any
        return {k: from_data(inner, v) for k, v in value.items()}
    return value


def encode_item(item: InboundItem) -> bytes:
    record = item.record
    return canonical_json(
        {
            "object_type": item.object_type,
            "external_id": item.external_id,
            "action": item.action,
            "updated_at": item.updated_at,
            "record_type": type(record).__name__ if record is not None else None,
            "record": record,
            "url": item.url,
        }
    )


def decode_item(body: bytes) -> InboundItem:
    data = json.loads(body)
    record_type = data.get("record_type")
    if record_type is not None and record_type not in RECORD_TYPES:
        raise ValueError(f"Unknown record type {record_type!r} in a stored item.")
    return InboundItem(
        object_type=data["object_type"],
        external_id=data["external_id"],
        action=Action(data.get("action") or Action.UPSERT),
        updated_at=from_data(datetime.datetime, data.get("updated_at")),
        record=from_data(RECORD_TYPES[record_type], data["record"]) if record_type else None,
        url=data.get("url") or "",
    )
