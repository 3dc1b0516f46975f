"""A closed day of our ledger as a QuickBooks ``JournalEntry`` (the connection's
``inventory_accounting`` "journal"): each flow one debit line and one credit line, on the accounts
the connection maps the roles to. QuickBooks requires the debits to equal the credits (fault 6000
otherwise): each pair is balanced by construction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.quickbooks.mapping import money
from integrations.records import InventoryJournalOut

DOC_NUMBER_LENGTH = 21


def journal_body(item: InventoryJournalOut, account: Callable[[str], str]) -> dict[str, Any]:
    """The JournalEntry of ``item``; ``account`` gives the account id of a role (or raises: map it)."""
    lines: list[dict[str, Any]] = []
    for line in item.lines:
        for posting, role in (("Debit", line.debit), ("Credit", line.credit)):
            lines.append(
                {
                    "DetailType": "JournalEntryLineDetail",
                    "Amount": money(line.amount),
                    "Description": f"Inventory, {line.memo}"[:4000],
                    "JournalEntryLineDetail": {
                        "PostingType": posting,
                        "AccountRef": {"value": account(role)},
                    },
                }
            )
    body: dict[str, Any] = {
        "DocNumber": f"INV-{item.date:%Y%m%d}"[:DOC_NUMBER_LENGTH],
        "TxnDate": item.date.isoformat(),
        "PrivateNote": f"ERP {item.reference}: stock value in and out of the day, at cost",
        "Line": lines,
    }
    if item.currency:
        body["CurrencyRef"] = {"value": item.currency}
    return body
