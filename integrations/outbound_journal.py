"""Inventory accounting for the books: a closed day of the ledger (``inventory.day_closed``) as one
journal entry, for accounting connections set to post it.

An accounting tool's connection chooses (its ``inventory_accounting`` setting) between no inventory
postings at all ("none") and a daily journal ("journal"): the tool keeps non-inventory items,
never inventory items of its own fighting our ledger, and the hub posts what our stock gained and
lost each day, at the cost each move carried (``inventory.valuation.flows``):

* from or to suppliers (receipts, returns to a supplier): inventory asset against goods received
  not billed; the supplier's bill then clears goods received against accounts payable;
* to or from customers (shipments, customer returns): cost of goods sold against inventory asset;
* to or from production, adjustments and scrap (consumption and output, counts, losses): the
  inventory adjustment account against inventory asset (the connection maps it; else COGS).

So the tool's inventory asset account follows the value of our stock, and its COGS follows what
we shipped. A day is posted once (ExternalRef("inventory_journal") of the ``LedgerDay``); a day on
which no value moved posts nothing.
"""

from __future__ import annotations

from decimal import Decimal

from erp.models import OutboxEvent
from integrations import outbound_items
from integrations.contract import Capability
from integrations.models import Connection
from integrations.outbound_items import Resolved
from integrations.records import InventoryJournalOut, JournalLineOut
from integrations.resolving import ref_of, remembering
from inventory.models import LedgerDay

TOPIC = "inventory.day_closed"
JOURNAL = "inventory_journal"
SETTING, POSTED = "inventory_accounting", "journal"
ASSET, COGS, RECEIVED, ADJUSTMENT = "inventory", "cogs", "goods_received", "inventory_adjustment"
# the outside place's kind -> (the account role on the other side of inventory asset, the memo)
COUNTERPART = {
    "supplier": (RECEIVED, "received from suppliers"),
    "customer": (COGS, "shipped to customers"),
    "production": (ADJUSTMENT, "production"),
    "adjustment": (ADJUSTMENT, "counts and adjustments"),
    "scrap": (ADJUSTMENT, "scrapped"),
}


def journal_out(day: LedgerDay) -> InventoryJournalOut:
    """The journal entry of a closed day: per flow, value in debits inventory asset, value out
    credits it."""
    lines = []
    for flow in day.flows:
        value = Decimal(flow["value"])
        role, memo = COUNTERPART.get(flow["counterpart"], (ADJUSTMENT, flow["counterpart"]))
        debit, credit = (ASSET, role) if value > 0 else (role, ASSET)
        lines.append(JournalLineOut(debit=debit, credit=credit, amount=abs(value), memo=memo))
    return InventoryJournalOut(
        reference=f"inventory-{day.date.isoformat()}",
        date=day.date,
        currency=day.currency,
        lines=tuple(lines),
    )


def resolve_journal(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    if (connection.settings or {}).get(SETTING) != POSTED:
        return f"{connection} keeps no inventory postings (its inventory accounting setting)."
    day = LedgerDay.objects.filter(pk=event.payload.get("ledger_day_id")).first()
    if day is None:
        return "The ledger day no longer exists."
    if ref_of(connection, JOURNAL, day) is not None and not force:
        return f"{connection} has the inventory journal of {day.date.isoformat()} already."
    item = journal_out(day)
    if not item.lines:
        return f"No stock value moved on {day.date.isoformat()}: nothing to post."
    return Resolved(
        JOURNAL, Capability.INVENTORY_JOURNAL_OUT, item, remembering(connection, JOURNAL, day, item)
    )


def install() -> None:
    outbound_items.register_resolver(TOPIC, Capability.INVENTORY_JOURNAL_OUT, resolve_journal)
