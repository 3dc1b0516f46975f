"""Writes of customers and sales channels."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import events
from erp.contacts import contact_create
from erp.exceptions import ValidationFailed
from erp.money import currency_problem
from erp.numbering import next_number
from inventory.models import Warehouse
from sales.models import (
    Address,
    ChannelKind,
    Contact,
    Customer,
    CustomerKind,
    InvoicePolicy,
    PaymentTerms,
    SalesChannel,
)

CUSTOMER_FIELDS = {
    "kind",
    "name",
    "email",
    "phone",
    "tax_id",
    "tax_exempt",
    "currency",
    "payment_terms",
    "notes",
    "is_active",
}
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone")


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _clean_customer(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if "name" in values:
        values["name"] = str(values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = ["A name is required."]
    if "kind" in values and values["kind"] not in CustomerKind.values:
        errors["kind"] = [f"One of: {', '.join(CustomerKind.values)}."]
    if "payment_terms" in values and values["payment_terms"] not in PaymentTerms.values:
        errors["payment_terms"] = [f"One of: {', '.join(PaymentTerms.values)}."]
    if "currency" in values and (problem := currency_problem(values["currency"])):
        errors["currency"] = [problem]
    if errors:
        raise ValidationFailed(
            f"The customer is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    return values


def customer_payload(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.pk,
        "code": customer.code,
        "name": customer.name,
        "email": customer.email,
        "kind": customer.kind,
        "currency": customer.currency,
    }


@transaction.atomic
def customer_create(
    *,
    name: str,
    kind: str = CustomerKind.COMPANY,
    code: str = "",
    email: str = "",
    phone: str = "",
    tax_id: str = "",
    tax_exempt: bool = False,
    currency: str = "USD",
    payment_terms: str = PaymentTerms.NET_30,
    notes: str = "",
    billing_address: dict[str, str] | None = None,
    shipping_address: dict[str, str] | None = None,
    user: Any = None,
) -> Customer:
    values = _clean_customer(
        {
            "name": name,
            "kind": kind,
            "email": email.strip(),
            "phone": phone,
            "tax_id": tax_id,
            "tax_exempt": tax_exempt,
            "currency": currency,
            "payment_terms": payment_terms,
            "notes": notes,
        }
    )
    code = code.strip() or next_number("sales.customer", prefix="C-")
    if Customer.objects.filter(code=code).exists():
        raise ValidationFailed(f"Customer code {code} is taken.", field_errors={"code": ["Already used."]})
    customer = Customer.objects.create(code=code, **values, created_by=_actor(user), updated_by=_actor(user))
    if billing_address:
        address_set(customer=customer, kind=Address.Kind.BILLING, values=billing_address)
    if shipping_address or billing_address:
        address_set(
            customer=customer, kind=Address.Kind.SHIPPING, values=shipping_address or billing_address or {}
        )
    events.emit("sales.customer_created", aggregate=customer, payload=customer_payload(customer))
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, user: Any = None, **changes: Any) -> Customer:
    unknown = set(changes) - CUSTOMER_FIELDS
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for name, value in _clean_customer(dict(changes)).items():
        setattr(customer, name, value)
    customer.updated_by = _actor(user)
    customer.save()
    events.emit("sales.customer_updated", aggregate=customer, payload=customer_payload(customer))
    return customer


@transaction.atomic
def address_set(*, customer: Customer, kind: str, values: dict[str, str], default: bool = True) -> Address:
    """Add an address; as the default of its kind, it replaces the previous default."""
    clean = {f: str(values.get(f) or "").strip() for f in ADDRESS_FIELDS}
    clean["country"] = clean["country"].upper()
    errors = {f: ["Required."] for f in ("name", "line1", "city", "country") if not clean[f]}
    if clean["country"] and len(clean["country"]) != 2:
        errors["country"] = ["A two-letter ISO country code, like US or DE."]
    if errors:
        raise ValidationFailed(f"The address is incomplete: {', '.join(errors)}.", field_errors=errors)
    if default:
        Address.objects.filter(customer=customer, kind=kind, is_default=True).update(is_default=False)
    return Address.objects.create(customer=customer, kind=kind, is_default=default, **clean)


@transaction.atomic
def contact_add(
    *, customer: Customer, name: str, email: str = "", phone: str = "", role: str = ""
) -> Contact:
    return contact_create(
        Contact, owner_field="customer", owner=customer, name=name, email=email, phone=phone, role=role
    )


def _check_channel(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "kind" in values and values["kind"] not in ChannelKind.values:
        errors["kind"] = [f"One of: {', '.join(ChannelKind.values)}."]
    if "invoice_policy" in values and values["invoice_policy"] not in InvoicePolicy.values:
        errors["invoice_policy"] = [f"One of: {', '.join(InvoicePolicy.values)}."]
    if "currency" in values and (problem := currency_problem(values["currency"])):
        errors["currency"] = [problem]
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = ["A name is required."]
    if errors:
        raise ValidationFailed(
            f"The channel is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )


@transaction.atomic
def channel_create(
    *,
    code: str,
    name: str,
    warehouse: Warehouse,
    kind: str = ChannelKind.MANUAL,
    currency: str = "USD",
    prices_include_tax: bool = False,
    invoice_policy: str = InvoicePolicy.SHIPPED,
    user: Any = None,
) -> SalesChannel:
    code = code.strip().lower()
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = ["Required."]
    elif SalesChannel.objects.filter(code=code).exists():
        errors["code"] = [f"Channel {code} exists already."]
    if kind not in ChannelKind.values:
        errors["kind"] = [f"One of: {', '.join(ChannelKind.values)}."]
    if invoice_policy not in InvoicePolicy.values:
        errors["invoice_policy"] = [f"One of: {', '.join(InvoicePolicy.values)}."]
    if problem := currency_problem(currency):
        errors["currency"] = [problem]
    if errors:
        raise ValidationFailed(
            f"The channel is invalid: {next(iter(errors.values()))[0]}", field_errors=errors
        )
    return SalesChannel.objects.create(
        code=code,
        name=name.strip() or code,
        warehouse=warehouse,
        kind=kind,
        currency=currency,
        prices_include_tax=prices_include_tax,
        invoice_policy=invoice_policy,
        created_by=_actor(user),
        updated_by=_actor(user),
    )


@transaction.atomic
def channel_update(*, channel: SalesChannel, user: Any = None, **changes: Any) -> SalesChannel:
    allowed = {"name", "kind", "warehouse", "currency", "prices_include_tax", "invoice_policy", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    _check_channel(changes)
    channel = SalesChannel.objects.select_for_update().get(pk=channel.pk)
    for name, value in changes.items():
        setattr(channel, name, value)
    channel.updated_by = _actor(user)
    channel.save()
    return channel
