"""Closing the demo's past ledger days: the last step of the stock history (registered with
``erp.demo``, order 28: after manufacturing's 25, the last seeder that writes dated moves, and
before the integrations' 30, which write today's).

Every day from the first move's to yesterday that is not closed yet is closed as the nightly task
would have closed it, at 00:20 the next morning (``erp.clock.effective``), so ``LedgerDay`` rows and
their ``inventory.day_closed`` events exist for the whole history and the nightly task carries on
from yesterday. Idempotent: a closed day is left alone.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from erp import clock, demo
from inventory.models import LedgerDay, StockMove
from inventory.services import ledger_day_close
from inventory.services.closing import day_bounds

CLOSING_TIME = datetime.timedelta(minutes=20)  # after midnight, as the nightly task


@transaction.atomic
def close_demo_days() -> list[str]:
    first_move = StockMove.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first_move is None:
        return ["ledger days: no stock moves yet; nothing to close"]
    first, last = timezone.localdate(first_move), timezone.localdate() - datetime.timedelta(days=1)
    closed_already = set(LedgerDay.objects.filter(date__range=(first, last)).values_list("date", flat=True))
    closed = 0
    day = first
    while day <= last:
        if day not in closed_already:
            _, next_midnight = day_bounds(day)
            with clock.effective(min(next_midnight + CLOSING_TIME, timezone.now())):
                closed += ledger_day_close(day=day) is not None
        day += datetime.timedelta(days=1)
    total = LedgerDay.objects.count()
    return [f"ledger days: {closed} closed now, {total} in all (up to {last.isoformat()})"]


demo.register(28, "ledger-days", close_demo_days)
