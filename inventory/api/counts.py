"""Cycle counts: count sheets, their counted lines, applying and cancelling them."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.exceptions import NotFound
from inventory import selectors, services
from inventory.api.common import PAGE_SIZE, location_by_id, lot_by_id, product_by_id, router
from inventory.filters import CountSheetFilter
from inventory.models import CountSheet
from inventory.schemas.counts import (
    COUNT_ORDERING,
    CountApplyIn,
    CountLineIn,
    CountLineOut,
    CountSheetDetailOut,
    CountSheetFilterIn,
    CountSheetIn,
    CountSheetOut,
)

COUNT_SHEETS = Listing(ordering=COUNT_ORDERING)


def _count_sheet(pk: int) -> CountSheet:
    try:
        return selectors.count_sheet_detail(pk)
    except CountSheet.DoesNotExist:
        raise NotFound(f"No count sheet with id {pk}.") from None


@router.post("/counts", response={201: CountSheetDetailOut})
def count_sheet_create(request: HttpRequest, payload: CountSheetIn) -> CountSheet:
    """A count sheet for one bin; with ``prefill`` a line for everything the system thinks is there."""
    sheet = services.count_sheet_create(
        location=location_by_id(payload.location),
        note=payload.note,
        prefill=payload.prefill,
        user=user_of(request),
    )
    return _count_sheet(sheet.pk)


@router.get("/counts", response=list[CountSheetOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def count_sheet_list(request: HttpRequest, filters: Query[CountSheetFilterIn]) -> QuerySet[CountSheet]:
    return filtered(CountSheetFilter, filters, selectors.count_sheet_list(), listing=COUNT_SHEETS)


@router.get("/counts/{sheet_id}", response=CountSheetDetailOut)
def count_sheet_detail(request: HttpRequest, sheet_id: int) -> CountSheet:
    """A sheet with its lines: expected, counted and the difference."""
    return _count_sheet(sheet_id)


@router.post("/counts/{sheet_id}/lines", response=CountLineOut)
def count_line_set(request: HttpRequest, sheet_id: int, payload: CountLineIn) -> Any:
    """Record what was counted of a product (and lot); ``add`` adds to it, as a scanner does."""
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    return services.count_line_set(
        sheet=sheet,
        product=product_by_id(payload.product),
        lot=lot_by_id(payload.lot),
        counted=payload.counted,
        add=payload.add,
    )


@router.post("/counts/{sheet_id}/apply", response=CountSheetDetailOut)
def count_sheet_apply(request: HttpRequest, sheet_id: int, payload: CountApplyIn | None = None) -> CountSheet:
    """Turn the differences into count adjustments (moves of kind ``count``)."""
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    zero_uncounted = payload.zero_uncounted if payload is not None else False
    services.count_sheet_apply(sheet=sheet, zero_uncounted=zero_uncounted, user=user_of(request))
    return _count_sheet(sheet_id)


@router.post("/counts/{sheet_id}/cancel", response=CountSheetDetailOut)
def count_sheet_cancel(request: HttpRequest, sheet_id: int) -> CountSheet:
    sheet = get_or_404(CountSheet, sheet_id, "count sheet")
    services.count_sheet_cancel(sheet=sheet, user=user_of(request))
    return _count_sheet(sheet_id)
