"""Closing the ledger's days for the books: each past day once, with the value that moved in and
out of our stock on it (``inventory.valuation.flows``), announced as ``inventory.day_closed``.

A day is closed once it is over in the company's time zone; a move written later belongs to the
day it was written (the ledger is append-only), so a closed day never changes and the books never
need it again. The nightly task closes every day since the last closed one, at most
``CATCH_UP_DAYS`` back (a new database starts with yesterday).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp import clock, events
from erp.exceptions import ValidationFailed
from inventory.models import LedgerDay
from inventory.valuation import flows

CATCH_UP_DAYS = 31


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first moment of ``day`` and of the next, in the company's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start, end


def ledger_day_payload(day: LedgerDay) -> dict[str, Any]:
    return {
        "ledger_day_id": day.pk,
        "date": day.date.isoformat(),
        "currency": day.currency,
        "flows": day.flows,
    }


@transaction.atomic
def ledger_day_close(*, day: datetime.date) -> LedgerDay | None:
    """Close ``day``: its value flows recorded and ``inventory.day_closed`` emitted, once (None when
    it was closed already, also by a concurrent call). A day not over yet is refused."""
    if day >= clock.today():
        raise ValidationFailed(f"{day.isoformat()} is not over yet: a day is closed once it has ended.")
    start, end = day_bounds(day)
    found = [{"counterpart": f.counterpart, "value": str(f.value)} for f in flows(start, end)]
    record, created = LedgerDay.objects.get_or_create(
        date=day,
        defaults={"currency": settings.ERP_BASE_CURRENCY, "flows": found, "closed_at": clock.now()},
    )
    if not created:
        return None
    events.emit("inventory.day_closed", aggregate=record, payload=ledger_day_payload(record))
    return record


def ledger_days_close(*, until: datetime.date | None = None) -> list[LedgerDay]:
    """Close each day after the last one closed up to ``until`` (yesterday by default), at most
    ``CATCH_UP_DAYS`` of them; each in its own transaction."""
    last = until or clock.today() - datetime.timedelta(days=1)
    latest = LedgerDay.objects.order_by("-date").values_list("date", flat=True).first()
    first = max(
        latest + datetime.timedelta(days=1) if latest else last,
        last - datetime.timedelta(days=CATCH_UP_DAYS - 1),
    )
    closed = []
    day = first
    while day <= last:
        record = ledger_day_close(day=day)
        if record is not None:
            closed.append(record)
        day += datetime.timedelta(days=1)
    return closed
