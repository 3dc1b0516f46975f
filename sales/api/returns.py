"""Returns (RMAs): announce, receive (restock or scrap, credit note) and refund."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, user_of
from erp.exceptions import NotFound, ValidationFailed
from sales import selectors, services
from sales.api.common import INVOICING, PAGE_SIZE, router
from sales.filters import ReturnFilter
from sales.models import OrderLine, Refund, SalesOrder, SalesReturn
from sales.schemas.returns import (
    RETURN_ORDERING,
    RefundIn,
    RefundOut,
    ReturnDetailOut,
    ReturnFilterIn,
    ReturnIn,
    ReturnOut,
)

RETURNS = Listing(ordering=RETURN_ORDERING)


def _return(pk: int) -> SalesReturn:
    """A return as ReturnDetailOut reads it (404 when unknown)."""
    try:
        return selectors.return_detail(pk)
    except SalesReturn.DoesNotExist:
        raise NotFound(f"No return with id {pk}.") from None


@router.get("/returns", response=list[ReturnOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def return_list(request: HttpRequest, filters: Query[ReturnFilterIn]) -> QuerySet[SalesReturn]:
    return filtered(ReturnFilter, filters, selectors.return_list(), listing=RETURNS)


@router.post("/returns", response={201: ReturnDetailOut})
def return_create(request: HttpRequest, payload: ReturnIn) -> SalesReturn:
    """Announce a return (an RMA) of shipped quantities, by order line."""
    order = get_or_404(SalesOrder, payload.order, "sales order", field="order")
    found = OrderLine.objects.select_related("product").in_bulk({item.line_id for item in payload.lines})
    errors = {
        f"lines.{i}.line_id": [f"No line {item.line_id} in {order.number}."]
        for i, item in enumerate(payload.lines)
        if item.line_id not in found or found[item.line_id].order_id != order.pk
    }
    if errors:
        raise ValidationFailed(
            f"The return is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    sales_return = services.return_create(
        order=order,
        lines=[
            services.ReturnLineSpec(found[item.line_id], item.quantity, item.disposition, item.reason)
            for item in payload.lines
        ],
        reason=payload.reason,
        user=user_of(request),
    )
    return _return(sales_return.pk)


@router.get("/returns/{return_id}", response=ReturnDetailOut)
def return_detail(request: HttpRequest, return_id: int) -> SalesReturn:
    return _return(return_id)


@router.post("/returns/{return_id}/receive", response=ReturnDetailOut)
def return_receive(request: HttpRequest, return_id: int) -> SalesReturn:
    """The goods are back: restock or scrap each line, and issue the credit note."""
    services.return_receive(sales_return=get_or_404(SalesReturn, return_id, "return"), user=user_of(request))
    return _return(return_id)


@router.post("/returns/{return_id}/refund", response={201: RefundOut}, auth=INVOICING)
def return_refund(request: HttpRequest, return_id: int, payload: RefundIn | None = None) -> Refund:
    """Pay money back against the return's credit note (all that is left of it by default)."""
    payload = payload or RefundIn.model_validate({})
    refund = services.refund_record(
        sales_return=get_or_404(SalesReturn, return_id, "return"),
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        refunded_at=payload.refunded_at,
        user=user_of(request),
    )
    return refund
