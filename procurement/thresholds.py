"""Which purchase orders need a purchasing manager's approval before they are sent.

A threshold is an amount in one currency: ``PURCHASE_APPROVAL_THRESHOLD`` in the base currency
(``ERP_BASE_CURRENCY``), and ``PURCHASE_APPROVAL_THRESHOLDS`` for others (``{"EUR": 4500}``). An
order above its own currency's threshold needs approval. An order in a currency without one always
does: there are no exchange rates here, and comparing its total with the base currency's number
stopped every yen order however small (¥60,000 is "more" than 5,000) and let a KWD 4,000 order
(about $13,000) through.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from erp.formatting import money
from procurement.models import PurchaseOrder


def thresholds() -> dict[str, Decimal]:
    """Each currency's threshold; the base currency's is ``PURCHASE_APPROVAL_THRESHOLD``."""
    return {
        **settings.PURCHASE_APPROVAL_THRESHOLDS,
        str(settings.ERP_BASE_CURRENCY).upper(): settings.PURCHASE_APPROVAL_THRESHOLD,
    }


def approval_threshold(currency: str) -> Decimal | None:
    """The threshold of an order in ``currency``; None: it has none, so every order needs approval."""
    return thresholds().get(currency.upper())


def needs_approval(po: PurchaseOrder) -> bool:
    threshold = approval_threshold(po.currency)
    return threshold is None or po.total > threshold


def above_threshold() -> Q:
    """Purchase orders above their currency's threshold, or in a currency without one: as a filter."""
    found = thresholds()
    condition = ~Q(currency__in=sorted(found))
    for currency, threshold in sorted(found.items()):
        condition |= Q(currency=currency, total__gt=threshold)
    return condition


def in_short() -> str:
    """A tile's line, short: "drafts over" this (the threshold when there is one, else "threshold",
    each one in the tile's hover text)."""
    return described() if len(thresholds()) == 1 else "threshold"


def described() -> str:
    """The thresholds in words, the base currency's first: "$5,000.00 · €4,500.00"."""
    base = str(settings.ERP_BASE_CURRENCY).upper()
    found = thresholds()
    order = [base, *sorted(c for c in found if c != base)]
    return " · ".join(money(found[c], c) for c in order)
