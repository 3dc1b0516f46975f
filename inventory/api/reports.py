"""Valuation (now or as of a past moment) and stock checks (every level recomputed from the ledger)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, base_currency, get_or_404, user_of
from erp.money import ZERO
from inventory import integrity, selectors, valuation
from inventory.api.common import PAGE_SIZE, router
from inventory.models import StockCheckRun
from inventory.schemas.levels import (
    STOCK_CHECK_ORDERING,
    StockCheckDetailOut,
    StockCheckFilterIn,
    StockCheckOut,
    ValuationOut,
)

STOCK_CHECKS = Listing(ordering=STOCK_CHECK_ORDERING, updated=None)


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@router.get("/valuation", response=ValuationOut)
def valuation_report(request: HttpRequest, as_of: datetime | None = None) -> dict[str, Any]:
    """Quantity and value per warehouse: now (on hand x average cost) or ``as_of`` a past moment
    (from the ledger, at the costs the moves carried)."""
    moment = _aware(as_of) if as_of is not None else None
    rows = valuation.as_of(moment) if moment is not None else valuation.current_by_warehouse()
    return {
        "as_of": moment,
        "currency": base_currency(),
        "warehouses": rows,
        "total_quantity": sum((r.quantity for r in rows), ZERO),
        "total_value": sum((r.value for r in rows), Decimal("0.00")),
    }


@router.get("/stock-checks", response=list[StockCheckOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def stock_check_list(request: HttpRequest, filters: Query[StockCheckFilterIn]) -> QuerySet[StockCheckRun]:
    """Runs of the check that recomputes every level from the ledger, latest first."""
    return STOCK_CHECKS.apply(selectors.stock_check_run_list(), filters)


@router.post("/stock-checks", response={201: StockCheckDetailOut})
def stock_check_run(request: HttpRequest) -> StockCheckRun:
    """Recompute every level from the ledger now and report drift (nothing is repaired)."""
    run = integrity.run_check(user=user_of(request))
    return selectors.stock_check_run_list().get(pk=run.pk)


@router.get("/stock-checks/{run_id}", response=StockCheckDetailOut)
def stock_check_detail(request: HttpRequest, run_id: int) -> StockCheckRun:
    """One run with the drifts it found (the first 500)."""
    return get_or_404(selectors.stock_check_run_list(), run_id, "stock check")
