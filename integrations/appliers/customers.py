"""Customers in: a customer or company as a tool keeps it on its own (a CRM, an accounting tool).

ExternalRef("customer") links the tool's record to ours; the first time, a customer with the same
email is linked rather than duplicated, else one is created. Later records older than the one
applied are dropped (stale) and the same content is a no-op, so a change the hub pushed and the
tool reports back is not applied again. Only the fields a tool keeps (name, email, phone, tax id)
are taken; the hub keeps addresses, terms and the customer number. What the tool now has is
remembered as pushed to it (ExternalRef.pushed_hash), so the change is not sent back to the tool it
came from.
"""

from __future__ import annotations

from integrations import resolving
from integrations.appliers.refs import CUSTOMER, Applied, claim, ct, is_stale
from integrations.canonical import content_hash
from integrations.contract import InboundItem
from integrations.models import Connection, SyncRun
from integrations.outbound_accounting import customer_out
from integrations.records import CustomerRecord
from sales.models import Customer, CustomerKind, PaymentTerms
from sales.services.masterdata import customer_create, customer_update


def _values(record: CustomerRecord) -> dict[str, str]:
    return {
        "name": (record.name or record.email)[:200],
        "email": record.email.strip(),
        "phone": record.phone[:40],
        "tax_id": record.tax_id[:40],
    }


def apply_customer(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    record = item.record
    if not isinstance(record, CustomerRecord):
        raise ValueError(f"A customer item of {connection} carries no CustomerRecord.")
    digest = content_hash(record)
    ref, claimed = claim(connection, CUSTOMER, record.external_id, Customer)
    values = _values(record)
    if not claimed:
        customer = Customer.objects.get(pk=ref.object_id)
        if is_stale(ref, record.updated_at):
            return Applied(CUSTOMER, record.external_id, "skipped", "stale", customer.pk, customer.name)
        if ref.content_hash == digest:
            return Applied(CUSTOMER, record.external_id, "skipped", "unchanged", customer.pk, customer.name)
        changes = {k: v for k, v in values.items() if v and getattr(customer, k) != v}
        if changes:
            customer = customer_update(customer=customer, **changes)
        outcome = "updated" if changes else "skipped"
    else:
        same_email = Customer.objects.filter(email__iexact=values["email"], is_active=True).order_by("pk")
        found = same_email.first() if values["email"] else None
        customer = found or customer_create(
            name=values["name"],
            email=values["email"],
            phone=values["phone"],
            tax_id=values["tax_id"],
            kind=CustomerKind.COMPANY if record.is_company else CustomerKind.PERSON,
            payment_terms=PaymentTerms.NET_30,
            notes=f"Created from {connection.name} ({connection.connector}).",
        )
        outcome = "created"
        ref.object_id, ref.content_type = customer.pk, ct(Customer)
    ref.content_hash = digest
    ref.external_updated_at = record.updated_at or ref.external_updated_at
    # The tool has these values now: its own edit is not pushed back to it (where the connection
    # takes customers out); another tool of the customer still gets the change.
    ref.pushed_hash = resolving.digest(customer_out(customer, ref.external_id, ref.external_version))
    ref.save(
        update_fields=["object_id", "content_type", "content_hash", "external_updated_at", "pushed_hash"]
    )
    return Applied(CUSTOMER, record.external_id, outcome, "", customer.pk, customer.name)
