"""Document numbers: TR-00001, SO-00042. Gapless per key, safe under concurrency.

Call inside the transaction that creates the document: a rolled-back document
gives its number back.
"""

from __future__ import annotations

from erp.counters import upsert_increment
from erp.models import NumberSequence


def next_number(key: str, *, prefix: str, width: int = 5) -> str:
    value = upsert_increment(NumberSequence._meta.db_table, {"key": key}, "last_value")
    return f"{prefix}{value:0{width}d}"
