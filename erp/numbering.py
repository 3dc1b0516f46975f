"""Document numbers: TR-00001, SO-00042.

Two kinds of key:

- Gapless (the default): a counter row per key (``erp_numbersequence``), incremented in the
  transaction that creates the document, so a rolled-back document gives its number back. Every
  creator of the key waits on that row until the one before it commits: that is the price of no
  gaps, paid where the law asks for it (invoices and credit notes, supplier bills) and for codes.
- Gaps allowed (``SEQUENCED``): operational documents, whose numbers only need to be unique and
  increasing. On PostgreSQL they come from a SEQUENCE (``nextval`` is not transactional, so
  nothing serialises concurrent creators; a rolled-back document leaves a gap). On SQLite, which
  has no sequences and writes one transaction at a time anyway, they use the counter row too.

A key added to ``SEQUENCED`` needs its sequence created by a migration (see
erp/migrations/0010_number_sequences.py), started after the counter's last value.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

from erp import statements
from erp.counters import upsert_increment
from erp.models import NumberSequence

# Keys whose numbers may have gaps: orders, shipments, returns, receipts, transfers, counts and
# manufacturing orders. Invoices and credit notes (sales.invoice, sales.credit_note), supplier
# bills (procurement.bill) and customer and supplier codes stay gapless.
SEQUENCED = frozenset(
    {
        "sales.order",
        "sales.shipment",
        "sales.return",
        "procurement.po",
        "procurement.receipt",
        "inventory.transfer",
        "inventory.count",
        "manufacturing.mo",
    }
)


def sequence_name(key: str) -> str:
    """The PostgreSQL sequence of a key: ``erp_number_sales_order`` for "sales.order"."""
    return "erp_number_" + "".join(c if c.isalnum() else "_" for c in key.lower())


def next_value(key: str) -> int:
    if key in SEQUENCED and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [sequence_name(key)])
            row = cursor.fetchone()
        assert row is not None
        return int(row[0])
    return upsert_increment(NumberSequence._meta.db_table, {"key": key}, "last_value")


def next_number(key: str, *, prefix: str, width: int = 5) -> str:
    """The next number of ``key``; call inside the transaction that creates the document."""
    return f"{prefix}{next_value(key):0{width}d}"


def next_number_and_keys(
    key: str, *, prefix: str, keys_for: Sequence[Sequence[Model]], width: int = 5
) -> str:
    """``next_number``, and the new instances of ``keys_for`` given their primary keys
    (``erp.statements.assign_keys``), in ONE statement where both come from sequences (PostgreSQL,
    a key in ``SEQUENCED``). Otherwise ``next_number``, and the instances get their keys as they
    are inserted. Call it once the document can no longer be refused (a number may have gaps, but
    not for documents refused as invalid)."""
    if key in SEQUENCED and connection.vendor == "postgresql":
        values = statements.assign_keys(*keys_for, sequences=[sequence_name(key)])
        assert values is not None
        return f"{prefix}{values[0]:0{width}d}"
    number = next_number(key, prefix=prefix, width=width)
    statements.assign_keys(*keys_for)
    return number
