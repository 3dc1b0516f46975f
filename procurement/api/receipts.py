"""Receipts: the goods received."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404
from procurement import selectors
from procurement.api.common import PAGE_SIZE, router
from procurement.filters import ReceiptFilter
from procurement.models import Receipt
from procurement.schemas.receipts import RECEIPT_ORDERING, ReceiptFilterIn, ReceiptOut

RECEIPTS = Listing(ordering=RECEIPT_ORDERING)


@router.get("/receipts", response=list[ReceiptOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def receipt_list(request: HttpRequest, filters: Query[ReceiptFilterIn]) -> QuerySet[Receipt]:
    """Receipts, newest first, with their lines."""
    return filtered(ReceiptFilter, filters, selectors.receipt_list(), listing=RECEIPTS)


@router.get("/receipts/{receipt_id}", response=ReceiptOut)
def receipt_detail(request: HttpRequest, receipt_id: int) -> Receipt:
    return get_or_404(selectors.receipt_list(), receipt_id, "receipt")
