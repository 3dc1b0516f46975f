"""ShipBob inbound stock: warehouse receiving orders (WROs) out, what ShipBob received back.

* Out (``push``): a ``ReceivingOut`` is ``POST /2026-01/receiving`` at the fulfilment centre the
  connection maps the PO's warehouse to (``location_id``; the connection's own warehouse with no
  centre mapped waits for a person to map one: ShipBob needs a centre), ``package_type`` "Package",
  ``box_packaging_type`` "EverythingInOneBox", one box (its ``tracking_number``, which ShipBob
  requires, is our PO number until the supplier's is known) whose ``box_items`` name each product
  by ``sku`` with its units, ``expected_arrival_date`` midnight UTC of the expected day and
  ``purchase_order_number`` our PO number. ShipBob counts whole units: a fraction is refused before
  anything is sent. ``ReceivingCancelOut`` is ``POST /2026-01/receiving/{id}:cancel``; ShipBob
  cancels only a WRO still "Awaiting" (422 otherwise: refused with ShipBob's words; one cancelled
  already counts as done).
* No idempotency key: ShipBob takes no key on a WRO, and neither its notes here
  (``samples/FORMAT.md``) nor the fake offer a way to list WROs by ``purchase_order_number``, so a
  create whose answer was lost cannot be found again before creating once more. The hub keeps it
  to one WRO per PO otherwise (one delivery per event and connection; a PO with a WRO is never
  sent again, ``outbound_receiving``); after a lost answer a person cancels the stray WRO in
  ShipBob (the one the hub does not show on the PO's page).
* Back (``pull``, poll object type "receiving"): ShipBob sends no receiving webhook the hub relies
  on, so each WRO the hub sent on this connection and ShipBob has not finished
  (``outbound_receiving.open_receiving``) is read, ``GET /2026-01/receiving/{id}``, and becomes a
  ``ReceiptRecord`` of its ``stowed_quantity`` per SKU (stowed: in ShipBob's on-hand, what its
  counts show; ``received_quantity`` counts units at the dock not on a shelf yet), a running total
  the hub turns into receipts of what is new (``appliers.receipts``). A WRO that is "Completed",
  "Cancelled" or "Incomplete" is finished: read no more. One that ShipBob no longer has (404) is
  finished with nothing received.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Protocol

from integrations.contract import InboundItem, PullPage, PushResult
from integrations.errors import PermanentError
from integrations.mappings import NeedsMapping
from integrations.models import Connection
from integrations.outbound_receiving import RECEIVING, open_receiving
from integrations.records import (
    ReceiptLineRecord,
    ReceiptRecord,
    ReceivingCancelOut,
    ReceivingLineOut,
    ReceivingOut,
)
from integrations.shipbob import mapping

PAGE = 50  # WROs read per page of a poll (one request each)
FINISHED = ("Completed", "Cancelled", "Incomplete")  # ShipBob expects nothing more on the WRO


class Api(Protocol):
    """What of the connector this module uses: its connection and its one call."""

    connection: Connection

    def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...


def _units(line: ReceivingLineOut) -> int:
    if line.quantity != line.quantity.to_integral_value() or line.quantity < 1:
        raise PermanentError(f"ShipBob receives whole units: {line.sku} has {line.quantity}.")
    return int(line.quantity)


def _centre(api: Api, item: ReceivingOut, kind: Any) -> int:
    """The fulfilment centre that receives the PO; NeedsMapping when the connection maps none for
    its own warehouse (the quarantine replays the delivery once it is mapped)."""
    if item.location_id:
        return int(item.location_id)
    warehouse = api.connection.warehouse
    code = warehouse.code if warehouse is not None else ""
    raise NeedsMapping(
        f"ShipBob needs a fulfilment centre to receive {item.reference} at {code or 'the warehouse'}: "
        "map the warehouse to one on the connection's Mappings tab, and the PO is sent.",
        kind=kind,
        value=code,
    )


def wro_body(item: ReceivingOut, centre: int) -> dict[str, Any]:
    """The WRO for ``POST /receiving``: one box holding everything, products by SKU."""
    arrival = datetime.datetime.combine(item.expected_date, datetime.time(), tzinfo=datetime.UTC)
    return {
        "fulfillment_center": {"id": centre},
        "package_type": "Package",
        "box_packaging_type": "EverythingInOneBox",
        "boxes": [
            {
                "tracking_number": item.reference,
                "box_items": [{"sku": line.sku, "quantity": _units(line)} for line in item.lines],
            }
        ],
        "expected_arrival_date": mapping.iso_seconds(arrival),
        "purchase_order_number": item.reference,
    }


def push(api: Api, item: ReceivingOut | ReceivingCancelOut, kind: Any) -> PushResult:
    if isinstance(item, ReceivingCancelOut):
        return _cancel(api, item)
    body = wro_body(item, _centre(api, item, kind))
    answer = api._json("POST", "receiving", json=body) or {}
    wro_id = str(answer["id"])
    return PushResult(
        external_id=wro_id, detail=f"{item.reference}: receiving order {wro_id} {answer.get('status', '')}"
    )


def _cancel(api: Api, item: ReceivingCancelOut) -> PushResult:
    if not item.external_id:
        return PushResult(detail=f"{item.reference}: ShipBob never had it, nothing to cancel")
    try:
        answer = api._json("POST", f"receiving/{item.external_id}:cancel") or {}
    except PermanentError as error:
        if error.status == 422 and "is Cancelled" in mapping.error_text(error.body):
            return PushResult(external_id=item.external_id, detail=f"{item.reference}: cancelled already")
        raise
    return PushResult(
        external_id=item.external_id, detail=f"{item.reference}: {answer.get('status', 'Cancelled')}"
    )


def receipt_record(wro: dict[str, Any]) -> ReceiptRecord:
    """A WRO as the hub's running totals of what ShipBob stowed of it."""
    history = wro.get("status_history") or ()
    moments = [m for m in (mapping.when(h.get("timestamp")) for h in history) if m is not None]
    changed = mapping.when(wro.get("last_updated_date")) or (max(moments) if moments else None)
    return ReceiptRecord(
        external_id=str(wro["id"]),
        reference=str(wro.get("purchase_order_number") or ""),
        lines=tuple(
            ReceiptLineRecord(sku=str(q["sku"]), received=Decimal(int(q.get("stowed_quantity") or 0)))
            for q in wro.get("inventory_quantities") or ()
            if q.get("sku")
        ),
        status=str(wro.get("status") or ""),
        finished=wro.get("status") in FINISHED,
        received_at=changed,  # its last change: the poll's event is new when the WRO changed
    )


def _read(api: Api, wro_id: str) -> ReceiptRecord:
    try:
        return receipt_record(dict(api._json("GET", f"receiving/{wro_id}") or {}))
    except PermanentError as error:
        if error.status != 404:
            raise
    return ReceiptRecord(
        external_id=wro_id, reference="", lines=(), status="Not found at ShipBob", finished=True
    )


def pull(api: Api, page: str | None) -> PullPage:
    """One page of the open WROs, read again (every poll reads them all: ShipBob filters them by
    no date); the page token is the last ref read."""
    refs = open_receiving(api.connection, after=int(page or 0), limit=PAGE + 1)
    items = []
    for ref in refs[:PAGE]:
        record = _read(api, ref.external_id)
        items.append(InboundItem(RECEIVING, record.external_id, updated_at=record.received_at, record=record))
    more = len(refs) > PAGE
    return PullPage(tuple(items), str(refs[PAGE - 1].pk) if more else None)
