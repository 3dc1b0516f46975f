"""Customers, their addresses and contacts."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, user_of
from erp.concurrency import if_match_param
from erp.contacts import create_with_contacts
from erp.patching import answer_with_etag, changes_of, patch_with_etag
from sales import selectors, services
from sales.api.common import PAGE_SIZE, address_dict, router
from sales.filters import CustomerFilter
from sales.models import Address, Contact, Customer, SalesOrder
from sales.schemas.customers import (
    CUSTOMER_ORDERING,
    AddressIn,
    AddressOut,
    ContactIn,
    ContactOut,
    CustomerDetailOut,
    CustomerFilterIn,
    CustomerIn,
    CustomerOut,
    CustomerPatchIn,
)

RECENT_ORDERS = 10
CUSTOMERS = Listing(ordering=CUSTOMER_ORDERING)


@dataclass(frozen=True)
class CustomerDetail(Shown[Customer]):
    """A customer as CustomerDetailOut reads it, with its latest orders."""

    recent_orders: list[SalesOrder]


def _customer_detail(pk: int) -> CustomerDetail:
    customer = get_or_404(selectors.customer_list().prefetch_related("addresses", "contacts"), pk, "customer")
    recent = list(selectors.order_list().filter(customer=customer)[:RECENT_ORDERS])
    return CustomerDetail(obj=customer, recent_orders=recent)


@router.get("/customers", response=list[CustomerOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def customer_list(request: HttpRequest, filters: Query[CustomerFilterIn]) -> QuerySet[Customer]:
    """Customers by name, with their open balance (issued invoices not paid yet)."""
    return filtered(CustomerFilter, filters, selectors.customer_list(), listing=CUSTOMERS)


@router.post("/customers", response={201: CustomerDetailOut})
def customer_create(request: HttpRequest, payload: CustomerIn) -> CustomerDetail:
    """A customer, with a billing and a shipping address (the billing one when left out) and contacts."""
    user = user_of(request)
    data = payload.dict(exclude={"billing_address", "shipping_address", "contacts"})
    customer = create_with_contacts(
        lambda: services.customer_create(
            **data,
            billing_address=address_dict(payload.billing_address),
            shipping_address=address_dict(payload.shipping_address),
            user=user,
        ),
        payload.contacts,
        lambda owner, values: services.contact_add(customer=owner, **values),
    )
    return _customer_detail(customer.pk)


@router.get("/customers/{customer_id}", response=CustomerDetailOut)
def customer_detail(request: HttpRequest, customer_id: int, response: HttpResponse) -> CustomerDetail:
    """A customer with addresses, contacts, the latest orders and the open balance. The ``ETag``
    header names its version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, _customer_detail(customer_id))


@router.patch("/customers/{customer_id}", response=CustomerDetailOut)
def customer_update(
    request: HttpRequest,
    customer_id: int,
    payload: CustomerPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> CustomerDetail:
    """Change the fields sent; ``is_active: false`` archives the customer. With ``If-Match``: 412
    when the customer changed since it was read."""
    changes = changes_of(payload)
    return patch_with_etag(
        response,
        Customer,
        customer_id,
        what="customer",
        if_match=if_match,
        update=lambda customer: services.customer_update(customer=customer, user=user_of(request), **changes),
        detail=_customer_detail,
    )


@router.post("/customers/{customer_id}/addresses", response={201: AddressOut})
def customer_address_add(request: HttpRequest, customer_id: int, payload: AddressIn) -> Address:
    """Add a billing or shipping address; by default it becomes the default of its kind."""
    customer = get_or_404(Customer, customer_id, "customer")
    values = payload.dict(exclude={"kind", "default"})
    return services.address_set(customer=customer, kind=payload.kind, values=values, default=payload.default)


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut})
def customer_contact_add(request: HttpRequest, customer_id: int, payload: ContactIn) -> Contact:
    customer = get_or_404(Customer, customer_id, "customer")
    return services.contact_add(customer=customer, **payload.dict())
