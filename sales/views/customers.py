"""Customers: the list with open balances, the detail page, the create and edit forms, contacts."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.ui import flash, is_htmx, paginate, sort_headers, toast
from sales import selectors, services
from sales.filters import CustomerFilter
from sales.forms import AddressForm, ContactForm, CustomerForm, add_domain_errors
from sales.models import Address, Customer, InvoiceKind, InvoiceStatus
from sales.services.masterdata import CUSTOMER_FIELDS
from sales.views.common import read, render_page, write

ORDERING = {"name": "name", "code": "code", "balance": "open_balance"}
ADDRESS_REQUIRED = ("name", "line1", "city", "country")


@read
def customer_list(request: HttpRequest) -> HttpResponse:
    filterset = CustomerFilter(request.GET, queryset=selectors.customer_list())
    ordering = request.GET.get("ordering", "name")
    key = ORDERING.get(ordering.lstrip("-"), "name")
    queryset = filterset.qs.order_by(f"-{key}" if ordering.startswith("-") else key, "pk")
    headers = sort_headers(
        request.GET,
        [
            ("Code", "code", False),
            ("Name", "name", False),
            ("Email", None, False),
            ("Phone", None, False),
            ("Terms", None, False),
            ("Open balance", "balance", True),
            ("", None, False),
        ],
        default="name",
        descending_first=("balance",),
    )
    context = {"filter": filterset, "page": paginate(request, queryset), "headers": headers}
    return render_page(request, "sales/customer_list.html", context)


@read
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(selectors.customer_list().prefetch_related("contacts", "addresses"), pk=pk)
    open_invoices = (
        selectors.invoice_list()
        .filter(
            customer=customer,
            kind=InvoiceKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        )
        .order_by("due_date", "pk")
    )
    context = {
        "customer": customer,
        "page": paginate(request, selectors.order_list().filter(customer=customer), size=25),
        "open_invoices": list(open_invoices),
        "contact_form": ContactForm(),
    }
    return render_page(request, "sales/customer_detail.html", context, fragments=("rows", "contacts"))


def _address_error(error: DomainError, *forms: AddressForm) -> bool:
    """address_set's 'incomplete address' errors go to the address form they are about."""
    if not error.field_errors or not set(error.field_errors) <= set(ADDRESS_REQUIRED):
        return False
    for form in forms:
        if form.is_bound and not form.is_blank() and any(not form.values()[f] for f in error.field_errors):
            for name, problems in error.field_errors.items():
                for problem in problems:
                    form.add_error(name, problem)
            return True
    bad_country = [f for f in forms if f.is_bound and not f.is_blank()]
    if bad_country:
        add_domain_errors(bad_country[0], error)
        return True
    return False


@write
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    billing = AddressForm(request.POST or None, prefix="billing")
    shipping = AddressForm(request.POST or None, prefix="shipping")
    same = request.POST.get("same_as_billing") == "on" if request.method == "POST" else True
    if request.method == "POST" and form.is_valid() and billing.is_valid() and shipping.is_valid():
        use_shipping = not same and not shipping.is_blank()
        try:
            customer = services.customer_create(
                **form.cleaned_data,
                billing_address=None if billing.is_blank() else billing.values(),
                shipping_address=shipping.values() if use_shipping else None,
                user=request.user,
            )
        except DomainError as exc:
            if not _address_error(exc, billing, *([shipping] if use_shipping else [])):
                add_domain_errors(form, exc)
        else:
            flash(request, f"Customer {customer.name} ({customer.code}) created.")
            return redirect("sales:customer", pk=customer.pk)
    context = {
        "form": form,
        "billing": billing,
        "shipping": shipping,
        "same_as_billing": same,
        "customer": None,
    }
    return render_page(request, "sales/customer_form.html", context, fragments=())


@write
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.prefetch_related("addresses"), pk=pk)
    defaults = {a.kind: a for a in customer.addresses.all() if a.is_default}
    data = request.POST or None
    form = CustomerForm(data, customer=customer)
    billing = AddressForm(data, prefix="billing", address=defaults.get(Address.Kind.BILLING))
    shipping = AddressForm(data, prefix="shipping", address=defaults.get(Address.Kind.SHIPPING))
    if request.method == "POST" and form.is_valid() and billing.is_valid() and shipping.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k in CUSTOMER_FIELDS}
        try:
            with transaction.atomic():  # the customer and its addresses change together or not at all
                services.customer_update(customer=customer, user=request.user, **changes)
                for kind, address_form in (
                    (Address.Kind.BILLING, billing),
                    (Address.Kind.SHIPPING, shipping),
                ):
                    if address_form.changed():
                        services.address_set(customer=customer, kind=kind, values=address_form.values())
        except DomainError as exc:
            if not _address_error(exc, billing, shipping):
                add_domain_errors(form, exc)
        else:
            flash(request, f"Customer {customer.code} saved.")
            return redirect("sales:customer", pk=customer.pk)
    context = {"form": form, "billing": billing, "shipping": shipping, "customer": customer}
    return render_page(request, "sales/customer_form.html", context, fragments=())


@write
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = ContactForm(request.POST)
    message, level = "", "success"
    if form.is_valid():
        try:
            contact = services.contact_add(customer=customer, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            message, form = f"Contact {contact.name} added.", ContactForm()
    if not message:
        message, level = "The contact was not added: see the form.", "error"
    if is_htmx(request):
        customer = get_object_or_404(Customer.objects.prefetch_related("contacts"), pk=pk)
        response = render_page(
            request,
            "sales/customer_detail.html#contacts",
            {"customer": customer, "contact_form": form},
            fragments=(),
        )
        return toast(response, message, level)
    flash(request, message, level)
    return redirect("sales:customer", pk=pk)
