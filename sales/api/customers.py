"""Customers, their addresses and contacts."""

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, filtered, get_or_404, no_nulls, user_of
from erp.concurrency import if_match_param, locked_for_update, with_etag
from sales import selectors, services
from sales.api.common import PAGE_SIZE, address_dict, router
from sales.filters import CustomerFilter
from sales.models import Address, Contact, Customer
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


def _customer_detail(pk: int) -> Customer:
    customer = get_or_404(selectors.customer_list().prefetch_related("addresses", "contacts"), pk, "customer")
    customer.recent_orders = list(  # type: ignore[attr-defined]
        selectors.order_list().filter(customer=customer)[:RECENT_ORDERS]
    )
    return customer


@router.get("/customers", response=list[CustomerOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def customer_list(request: HttpRequest, filters: Query[CustomerFilterIn]) -> QuerySet[Customer]:
    """Customers by name, with their open balance (issued invoices not paid yet)."""
    return filtered(CustomerFilter, filters, selectors.customer_list(), listing=CUSTOMERS)


@router.post("/customers", response={201: CustomerDetailOut})
def customer_create(request: HttpRequest, payload: CustomerIn) -> Customer:
    """A customer, with a billing and a shipping address (the billing one when left out) and contacts."""
    user = user_of(request)
    data = payload.dict(exclude={"billing_address", "shipping_address", "contacts"})
    with transaction.atomic():
        customer = services.customer_create(
            **data,
            billing_address=address_dict(payload.billing_address),
            shipping_address=address_dict(payload.shipping_address),
            user=user,
        )
        for contact in payload.contacts:
            services.contact_add(customer=customer, **contact.dict())
    return _customer_detail(customer.pk)


@router.get("/customers/{customer_id}", response=CustomerDetailOut)
def customer_detail(request: HttpRequest, customer_id: int, response: HttpResponse) -> Customer:
    """A customer with addresses, contacts, the latest orders and the open balance. The ``ETag``
    header names its version, for ``If-Match`` on PATCH."""
    customer = _customer_detail(customer_id)
    with_etag(response, customer)
    return customer


@router.patch("/customers/{customer_id}", response=CustomerDetailOut)
def customer_update(
    request: HttpRequest,
    customer_id: int,
    payload: CustomerPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> Customer:
    """Change the fields sent; ``is_active: false`` archives the customer. With ``If-Match``: 412
    when the customer changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    with locked_for_update(Customer, customer_id, what="customer", if_match=if_match) as customer:
        services.customer_update(customer=customer, user=user_of(request), **changes)
    customer = _customer_detail(customer_id)
    with_etag(response, customer)
    return customer


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
