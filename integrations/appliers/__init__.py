"""Appliers: canonical records -> the domain's services, the same for every connector.

Orders (``apply_order``)
* Lines resolve to products by ExternalRef("variant") -> ExternalRef("sku") -> an
  active Product with that SKU (case-insensitive); a line that resolves to nothing
  raises ``MissingDependency(kind="sku")`` and the event waits in quarantine. A
  variant resolved by SKU is linked (ExternalRef("variant")) so stock is pushed for it.
* The customer is ExternalRef("customer"), else the active customer with the same
  email, else a new one (``customer_create``, prepaid); an order without a customer
  goes to the connection's guest customer (ExternalRef("customer", "guest")).
* The order is created once: ExternalRef("order") is claimed first (a placeholder row
  inserted in a savepoint; the unique constraint makes a concurrent claimer wait and
  then fail, after which it re-reads the committed ref and takes the update path).
  It is created on the connection's sales channel, priced as the tool priced it
  (absolute line discounts, tax amounts as charged, the tool's tax mode) and
  confirmed, which reserves stock (what is missing is backordered). Our totals
  must equal the tool's (``OrderRecord.totals``) or the event fails (TotalsMismatch)
  naming both: total and tax exactly; subtotal in the order's price mode (with line
  tax when prices include tax); shipping as charged after shipping discounts;
  discount as line discounts (with or without shipping discounts).
* ExternalRef("order") keeps the tool's updated_at, the record's content hash and, in
  ``extra``, ``financial_status`` and the ``tags`` the tool set; ExternalRef("order_line")
  maps each line's id to its OrderLine (the fulfilment push needs it).
* A later record older than the stored updated_at is dropped (skipped, "stale"); one
  with the same content hash is a no-op (skipped, "unchanged"). Otherwise what the
  order's state allows is updated: notes, addresses and tags (the tool's tags replace
  the ones it set before; tags people added here stay). The financial status is a tag
  too ("paid", "refunded"…), replacing the previous one. The lines follow the tool's edits
  (below). Action.CANCEL or a cancelled_at cancels the order (``order_cancel``, releasing
  reservations) where its state allows.
* What the tool shipped itself (``OrderRecord.shipments``: fulfilled in its admin, by a
  shipping tool or a 3PL) becomes shipments here (``appliers.shipments``), once each, with
  their tracking; the stock leaves through the order's reservations. An update that arrives
  before its create creates the order as it is now, shipped too.
* Order edits (``OrderLineRecord.current_quantity``, refunds of goods that never shipped): the
  lines shrink here too (``appliers.edits`` through ``sales.services.order_lines_reduce``): the
  reservations beyond the new quantity are released, a line at zero is removed. Lines that grew
  in the tool, and lines of ids the order does not have (added there; their products resolved as
  a new order's, an unknown SKU a MissingDependency), grow and are added here on a confirmed
  order (``sales.services.order_lines_extend``), priced as the tool charged them and reserved
  (what is missing is backordered), the new lines linked (ExternalRef("order_line")); when the
  tool's totals are those of its lines (nothing edited down or refunded) ours must then equal
  them (TotalsMismatch otherwise, with nothing applied). An order shipped, closed or cancelled
  here takes nothing more: that is reported.
* Refunds made in the tool (``OrderRecord.refunds``) become credit notes here
  (``appliers.refunds``): restocked goods come back through a received return (stock in, credit
  note, the money paid back as its refund); goods not coming back are credited only; a refund
  of goods that never shipped is noted for a person.

Products (``apply_product``): each variant is linked to the product with its SKU, or
a product is created (``product_create``); ExternalRef("variant") keeps the variant's
``extra`` (the tool's inventory item id), ExternalRef("sku") the SKU, and
ExternalRef("product") the tool's product (pointing at its first variant's product).
Existing products are linked, never overwritten: the hub owns the catalogue.

Receipts (``apply_receipt``): what a 3PL received of a purchase order the hub sent it as a
receiving order is received here, only what is new since its last record (``appliers.receipts``).
"""

from __future__ import annotations

from integrations.appliers.customers import apply_customer
from integrations.appliers.levels import apply_level
from integrations.appliers.orders import apply_order, check_totals
from integrations.appliers.payments import PAYMENT, apply_payment
from integrations.appliers.products import apply_product
from integrations.appliers.receipts import apply_receipt
from integrations.appliers.refs import (
    CUSTOMER,
    GUEST,
    ORDER,
    ORDER_LINE,
    PRODUCT,
    SKU,
    VARIANT,
    Applied,
    NotConfigured,
    TotalsMismatch,
    claim,
    link,
)
from integrations.appliers.shipments import SHIPMENT, apply_shipment
from integrations.contract import InboundItem
from integrations.errors import MissingDependency
from integrations.models import Connection, SyncRun
from integrations.outbound_receiving import RECEIVING

__all__ = [
    "CUSTOMER",
    "GUEST",
    "ORDER",
    "ORDER_LINE",
    "PRODUCT",
    "SKU",
    "VARIANT",
    "Applied",
    "NotConfigured",
    "TotalsMismatch",
    "apply",
    "apply_order",
    "apply_product",
    "check_totals",
    "claim",
    "link",
]


def apply(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    """Apply one inbound item with the applier of its object type."""
    if item.object_type == ORDER:
        return apply_order(connection, item, run)
    if item.object_type == PRODUCT:
        return apply_product(connection, item, run)
    if item.object_type == "inventory_level":
        return apply_level(connection, item, run)
    if item.object_type == SHIPMENT:
        return apply_shipment(connection, item, run)
    if item.object_type == CUSTOMER:
        return apply_customer(connection, item, run)
    if item.object_type == PAYMENT:
        return apply_payment(connection, item, run)
    if item.object_type == RECEIVING:
        return apply_receipt(connection, item, run)
    # Never "skipped": something a tool did would be dropped unseen. Quarantined, it waits on the
    # connection page until the hub learns the record type, and is replayed then.
    raise MissingDependency(
        f"The hub has no applier for {item.object_type!r} records ({item.external_id}): the event is "
        "kept; replay it once the hub imports them.",
        kind="record type",
        value=item.object_type,
    )
