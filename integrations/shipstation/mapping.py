"""ShipStation V1's dialect: the hub's ``OrderOut`` as a createorder body, its shipments as
``ShipmentRecord``s.

ShipStation keeps dates in US Pacific local time with no offset ("2026-03-15T05:58:44.4230000");
a ship date is a day ("2026-03-15"). Order items carry our line id as ``lineItemKey``, so the
lines of a shipment find ours again; the order's ``orderKey`` is our key for it
(``OrderOut.tool_key``), which makes createorder an upsert: a retry after a lost answer updates the
order it made, never a second one.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from integrations.errors import PermanentError
from integrations.records import OrderOut, ShipmentLineRecord, ShipmentRecord

PACIFIC = ZoneInfo("America/Los_Angeles")
OPEN_STATUSES = ("awaiting_payment", "awaiting_shipment", "pending_fulfillment", "on_hold")


def pacific(moment: datetime.datetime) -> str:
    """A moment as ShipStation writes it: Pacific local time, seven fraction digits, no offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    local = moment.astimezone(PACIFIC)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def parse_pacific(text: str | None) -> datetime.datetime | None:
    """ShipStation's date ("2026-03-15T05:58:44.4230000", or a day "2026-03-15") as an aware UTC moment."""
    if not text:
        return None
    value = str(text).strip()
    if "T" not in value:
        day = datetime.date.fromisoformat(value[:10])
        return datetime.datetime.combine(day, datetime.time(), PACIFIC).astimezone(datetime.UTC)
    stamp, _, fraction = value.partition(".")
    micro = int((fraction.rstrip("Z") + "000000")[:6]) if fraction else 0
    parsed = datetime.datetime.fromisoformat(stamp[:19]).replace(microsecond=micro)
    zone = parsed.tzinfo or PACIFIC
    return parsed.replace(tzinfo=zone).astimezone(datetime.UTC)


def _whole(quantity: Decimal, sku: str) -> int:
    if quantity != quantity.to_integral_value():
        raise PermanentError(f"ShipStation ships whole units: {sku} has {quantity}.")
    return int(quantity)


def address(values: Mapping[str, str], fallback_name: str) -> dict[str, Any]:
    """Our address snapshot as ShipStation's address."""
    return {
        "name": values.get("name") or fallback_name,
        "company": values.get("company") or None,
        "street1": values.get("line1") or "",
        "street2": values.get("line2") or None,
        "street3": None,
        "city": values.get("city") or "",
        "state": values.get("region") or "",
        "postalCode": values.get("postal_code") or "",
        "country": (values.get("country") or "US")[:2].upper(),
        "phone": values.get("phone") or None,
        "residential": None,
    }


def order_body(
    item: OrderOut, *, store_id: int | None, carrier_service: tuple[str, str] | None
) -> dict[str, Any]:
    """The createorder body of ``item`` (the whole order: ShipStation has no partial update)."""
    to = address(item.ship_to, item.customer_name)
    body: dict[str, Any] = {
        "orderNumber": item.reference[:50],
        "orderKey": item.tool_key,
        "orderDate": pacific(item.created_at),
        "paymentDate": pacific(item.created_at),
        "orderStatus": "on_hold" if item.on_hold else "awaiting_shipment",
        "customerUsername": item.customer_email or item.customer_name,
        "customerEmail": item.customer_email or None,
        "billTo": {**to},
        "shipTo": to,
        "items": [
            {
                "lineItemKey": line.line_id,
                "sku": line.sku,
                "name": line.title,
                "quantity": _whole(line.quantity, line.sku),
                "unitPrice": float(line.unit_price),
            }
            for line in item.lines
        ],
        "requestedShippingService": item.service or None,
        "internalNotes": item.note or None,
        "advancedOptions": {
            "storeId": store_id,
            "source": item.channel or None,
            "customField1": item.reference,
        },
    }
    if carrier_service is not None:
        body["carrierCode"], body["serviceCode"] = carrier_service
    return body


def cancelled_body(order: Mapping[str, Any]) -> dict[str, Any]:
    """The order ShipStation holds, cancelled (createorder wants the whole resource back)."""
    keep = (
        "orderId",
        "orderNumber",
        "orderKey",
        "orderDate",
        "paymentDate",
        "customerUsername",
        "customerEmail",
        "billTo",
        "shipTo",
        "items",
        "requestedShippingService",
        "carrierCode",
        "serviceCode",
        "internalNotes",
        "advancedOptions",
    )
    body = {k: order.get(k) for k in keep if k in order}
    body["orderStatus"] = "cancelled"
    return body


def shipment_changed_at(raw: Mapping[str, Any]) -> datetime.datetime | None:
    """When the label last changed: its void, else its creation. A voided label read again is then
    a new item to the hub's poll (its event id carries this time), not a duplicate of the label as
    first seen, so the void is never lost."""
    if raw.get("voided"):
        return parse_pacific(raw.get("voidDate")) or parse_pacific(raw.get("createDate"))
    return parse_pacific(raw.get("createDate")) or parse_pacific(raw.get("shipDate"))


def shipment_record(raw: Mapping[str, Any]) -> ShipmentRecord:
    """One of ShipStation's shipments (a label), with its items when the list carried them."""
    created = parse_pacific(raw.get("createDate")) or parse_pacific(raw.get("shipDate"))
    return ShipmentRecord(
        external_id=str(raw["shipmentId"]),
        created_at=created or datetime.datetime.now(datetime.UTC),
        lines=tuple(
            ShipmentLineRecord(
                str(i.get("lineItemKey") or ""), Decimal(str(i.get("quantity") or 0)), sku=i.get("sku") or ""
            )
            for i in raw.get("shipmentItems") or ()
        ),
        carrier=raw.get("carrierCode") or "",
        service=raw.get("serviceCode") or "",
        tracking_number=raw.get("trackingNumber") or "",
        order_external_id=str(raw.get("orderId") or ""),
        voided=bool(raw.get("voided")),
    )
