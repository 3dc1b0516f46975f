"""The business clock: when a business event happens, as the services record it.

Services date what they do (an order confirmed, a shipment sent, a receipt, a payment, a stock
move, an event in the outbox) with ``now()`` and ``today()`` rather than ``timezone.now()``. They
answer the wall clock, except inside ``effective(when)``, where they answer ``when``: the way to
write history after the fact through the same services, e.g. the demo's last 90 days or an import
of past documents. Requests and tasks never set it.

``effective`` is a context variable, so it holds for the current thread (or asyncio task) only,
and nests: the innermost one wins, and leaving it restores the outer time. Audit columns
(``created_at``/``updated_at`` of the models, history rows) stay on the wall clock: they say when
the row was written, not when the business event happened.
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

NOON = datetime.time(12, 0)

_effective: contextvars.ContextVar[datetime.datetime | None] = contextvars.ContextVar(
    "erp_clock_effective", default=None
)


def now() -> datetime.datetime:
    """The business time: the effective time when one is set, else the wall clock (aware)."""
    return _effective.get() or timezone.now()


def today() -> datetime.date:
    """The business day in the company's time zone (``now()``'s local date)."""
    return timezone.localdate(now())


def is_effective() -> bool:
    """True inside ``effective()``: history is being written after the fact."""
    return _effective.get() is not None


def as_moment(when: datetime.datetime | datetime.date) -> datetime.datetime:
    """An aware datetime for ``when``: a date means that day at noon, local time; a naive datetime
    is taken as local time."""
    if not isinstance(when, datetime.datetime):
        when = datetime.datetime.combine(when, NOON)
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_current_timezone())
    return when


@contextmanager
def effective(when: datetime.datetime | datetime.date) -> Iterator[datetime.datetime]:
    """Within the block, ``now()`` answers ``when`` (a date: that day at noon, local time) and
    ``today()`` its local date. Yields the moment it set."""
    moment = as_moment(when)
    token = _effective.set(moment)
    try:
        yield moment
    finally:
        _effective.reset(token)
