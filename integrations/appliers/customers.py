"""Customers in: a customer or company as a tool keeps it on its own (a CRM, an accounting tool).

ExternalRef("customer") links the tool's record to ours; the first time, a customer with the same
email is linked rather than duplicated, else one is created. Later records older than the one
applied are dropped (stale) and the same content is a no-op, so a change the hub pushed and the
tool reports back is not applied again.

Without field rules (an accounting tool: ``Connector.field_owners()`` is empty) only the fields a
tool keeps (name, email, phone, tax id) are taken; the hub keeps addresses, terms and the customer
number. What the tool now has is remembered as pushed to it (ExternalRef.pushed_hash), so the
change is not sent back to the tool it came from.

With field rules (a CRM, ``integrations.field_owners``), each field as its owner says:

* the tool's: applied (the columns through ``customer_update``, the billing address through
  ``address_set``; lifecycle stage, owner and marketing kept on the link, ``extra["crm"]``, with
  when they changed);
* the hub's: never applied;
* the last writer's: applied only when the tool changed it after it took its value here (the
  record's ``changed_at``, else its ``updated_at``, against ``outbound_crm.field_times``), and
  when it is not a value we sent ourselves (``outbound_crm.SENT``: our own push told back late).

An empty value of the tool is never taken. Where the tool's value of a field differs from ours and
ours wins (a field of the hub's, a latest one we changed later), the hub heals it: ours is pushed
again through the normal outbound path (the customer's own "updated" push when something was
applied here, else ``outbound_crm.customer_again``). A disagreement that comes back unchanged right
after we healed it is not pushed again (the tool keeps its own form of a value): the run warns.

Merges: a record naming ``merged_external_ids`` moves the links of those ids to it. When the
survivor and a merged record were linked to two different customers here, the survivor keeps its
customer, the other link is removed, and the run says so, for a person to act on.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from integrations import field_owners, outbound_crm, ownership, resolving
from integrations.appliers.refs import CUSTOMER, Applied, claim, ct, is_stale, refs
from integrations.canonical import content_hash
from integrations.contract import Action, InboundItem
from integrations.field_owners import KEPT_ON_LINK, Owner
from integrations.models import Connection, ExternalRef, SyncRun
from integrations.outbound_accounting import customer_out, customer_out_for
from integrations.records import CustomerRecord
from sales.models import Customer, CustomerKind, PaymentTerms
from sales.services.masterdata import address_set, customer_create, customer_update

CRM = "crm"  # ExternalRef.extra key: field -> {"value", "changed_at"} of what only the tool keeps


def _values(record: CustomerRecord) -> dict[str, str]:
    return {
        "name": (record.name or record.email)[:200],
        "email": record.email.strip(),
        "phone": record.phone[:40],
        "tax_id": record.tax_id[:40],
    }


def apply_customer(connection: Connection, item: InboundItem, run: SyncRun) -> Applied:
    record = item.record
    if item.action == Action.DELETE:
        return _unlinked(connection, item.external_id)
    if not isinstance(record, CustomerRecord):
        raise ValueError(f"A customer item of {connection} carries no CustomerRecord.")
    owners = ownership.field_owners_of(connection)
    if owners:
        return _apply_with_rules(connection, record, owners, run)
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
        customer = _linked_or_created(connection, record, values)
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


def _unlinked(connection: Connection, external_id: str) -> Applied:
    """The tool deleted its record: the customer stays here (the hub keeps its customers) and is no
    longer linked, so its next change here makes the record there again."""
    ref = refs(connection, CUSTOMER).select_for_update().filter(external_id=external_id).first()
    if ref is None:
        return Applied(CUSTOMER, external_id, "skipped", f"deleted in {connection.name}: not linked here")
    customer = Customer.objects.filter(pk=ref.object_id).first()
    ref.delete()
    why = (
        f"deleted in {connection.name}: the customer is kept here, no longer linked, and goes to "
        f"{connection.name} again at its next change"
    )
    return Applied(
        CUSTOMER, external_id, "updated", why, ref.object_id, customer.name if customer is not None else ""
    )


def _linked_or_created(connection: Connection, record: CustomerRecord, values: dict[str, str]) -> Customer:
    """The active customer with the record's email, else a new one from the record."""
    same_email = Customer.objects.filter(email__iexact=values["email"], is_active=True).order_by("pk")
    found = same_email.first() if values["email"] else None
    return found or _created(connection, record, values)


def _created(connection: Connection, record: CustomerRecord, values: dict[str, str]) -> Customer:
    return customer_create(
        name=values["name"],
        email=values["email"],
        phone=values["phone"],
        tax_id=values["tax_id"],
        kind=CustomerKind.COMPANY if record.is_company else CustomerKind.PERSON,
        payment_terms=PaymentTerms.NET_30,
        notes=f"Created from {connection.name} ({connection.connector}).",
    )


# --- with field rules -----------------------------------------------------------------------------


def _merge(
    connection: Connection, ref: ExternalRef, claimed: bool, record: CustomerRecord, run: SyncRun
) -> bool:
    """Move the links of the records merged into ``record`` to its ref; whether the ref is still a
    placeholder (nothing linked to it yet)."""
    merged = list(
        refs(connection, CUSTOMER)
        .select_for_update()
        .filter(external_id__in=record.merged_external_ids)
        .exclude(pk=ref.pk)
        .order_by("pk")
    )
    for old in merged:
        if claimed:  # the survivor is new here: it takes the merged record's customer and memory
            ref.object_id, ref.content_type = old.object_id, old.content_type
            ref.extra = {**old.extra, **ref.extra}
            ref.pushed_hash, ref.external_version = old.pushed_hash, old.external_version
            claimed = False
        elif old.object_id != ref.object_id:
            kept = Customer.objects.filter(pk=ref.object_id).first()
            lost = Customer.objects.filter(pk=old.object_id).first()
            run.errors.append(
                {
                    "level": "warning",
                    "message": (
                        f"{connection.name} merged its record {old.external_id} into "
                        f"{record.external_id}. Here they were two customers: "
                        f"{_named(kept)} stays linked to {record.external_id}; {_named(lost)} is no "
                        f"longer linked to {connection.name}. If they are one customer, merge them "
                        f"here; if not, undo the merge in {connection.name}."
                    ),
                }
            )
        old.delete()
    return claimed


def _named(customer: Customer | None) -> str:
    return f"{customer.name} ({customer.code})" if customer is not None else "a customer deleted since"


def _address(customer: Customer) -> dict[str, str]:
    billing = next((a for a in customer.addresses.all() if a.kind == "billing"), None)
    return billing.snapshot() if billing is not None else {}


def _theirs(record: CustomerRecord) -> dict[str, Any]:
    """The record's values by our field names (payment terms only when the tool says them)."""
    values: dict[str, Any] = {**_values(record), "address": dict(record.address)}
    if "payment_terms" in record.crm:
        values["payment_terms"] = record.crm["payment_terms"]
    return values


def _same(name: str, theirs: Any, ours: Any) -> bool:
    if name == "email":
        return str(theirs).strip().casefold() == str(ours).strip().casefold()
    return bool(theirs == ours)


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def _apply_with_rules(
    connection: Connection, record: CustomerRecord, owners: Mapping[str, Owner], run: SyncRun
) -> Applied:
    digest = content_hash(record)
    ref, claimed = claim(connection, CUSTOMER, record.external_id, Customer)
    claimed = _merge(connection, ref, claimed, record, run)
    created = False
    if claimed:
        values = _values(record)
        same_email = Customer.objects.filter(email__iexact=values["email"], is_active=True).order_by("pk")
        found = same_email.first() if values["email"] else None
        customer = found or _created(connection, record, values)
        created = found is None
        ref.object_id, ref.content_type = customer.pk, ct(Customer)
    elif is_stale(ref, record.updated_at):
        return Applied(CUSTOMER, record.external_id, "skipped", "stale", ref.object_id, "")
    elif ref.content_hash == digest:
        return Applied(CUSTOMER, record.external_id, "skipped", "unchanged", ref.object_id, "")
    customer = Customer.objects.prefetch_related("addresses").get(pk=ref.object_id)
    ref.extra = dict(ref.extra) if isinstance(ref.extra, dict) else {}
    taken_at: dict[str, datetime.datetime] = {}
    differs: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    if created:  # the customer is the tool's record: every value counts from the tool's time of it
        times = {f: _tool_time(record, f) for f in owners if f in field_owners.COLUMNS}
        taken_at = {f: at for f, at in times.items() if at is not None}
    else:
        changes, taken_at, differs = _weigh(customer, ref, record, owners)
        differs |= _history_differs(customer, record)
    columns = {k: v for k, v in changes.items() if k != "address"}
    if columns:
        customer = customer_update(customer=customer, **columns)
    if "address" in changes:
        address_set(customer=customer, kind="billing", values=changes["address"])
    kept = _keep_on_link(ref, record, owners)
    here = _iso(timezone.now())  # after the update's history row: what it wrote counts from the tool
    taken = dict(ref.extra.get(outbound_crm.TAKEN) or {})
    taken.update({f: {"at": _iso(at), "here": here} for f, at in taken_at.items()})
    ref.extra[outbound_crm.TAKEN] = taken
    notes = [f"from {connection.name}: {', '.join(sorted(changes))}"] if changes else []
    notes += [f"kept on the link: {', '.join(kept)}"] if kept else []
    notes += _heal(connection, ref, customer, owners, differs, pushed=bool(columns), run=run)
    ref.content_hash = digest
    ref.external_updated_at = record.updated_at or ref.external_updated_at
    ref.save()
    outcome = "created" if created else ("updated" if changes or kept else "skipped")
    return Applied(CUSTOMER, record.external_id, outcome, "; ".join(notes), customer.pk, customer.name)


def _tool_time(record: CustomerRecord, name: str) -> datetime.datetime | None:
    return record.changed_at.get(name) or record.updated_at


def _weigh(
    customer: Customer, ref: ExternalRef, record: CustomerRecord, owners: Mapping[str, Owner]
) -> tuple[dict[str, Any], dict[str, datetime.datetime], dict[str, Any]]:
    """Per field the tool keeps: (the tool's values to apply here, the tool's time of each, the
    tool's values that differ from ours where ours wins)."""
    times = outbound_crm.field_times(customer, ref)
    sent = ref.extra.get(outbound_crm.SENT) or {}
    theirs = _theirs(record)
    changes: dict[str, Any] = {}
    taken_at: dict[str, datetime.datetime] = {}
    differs: dict[str, Any] = {}
    for name, owner in owners.items():
        if name not in theirs:
            continue  # the customer number, and what only the tool keeps
        ours = _address(customer) if name == "address" else getattr(customer, name)
        if _same(name, theirs[name], ours):
            continue
        at = _tool_time(record, name)
        if owner == Owner.TOOL:
            take = bool(theirs[name])
        elif owner == Owner.LATEST:
            newer = at is not None and at > times[name]
            take = (
                bool(theirs[name]) and newer and not (name in sent and _same(name, theirs[name], sent[name]))
            )
        else:
            take = False
        if take:
            changes[name] = theirs[name]
            if at is not None:
                taken_at[name] = at
        else:
            differs[name] = theirs[name]
    return changes, taken_at, differs


def _history_differs(customer: Customer, record: CustomerRecord) -> dict[str, str]:
    """The customer's order history as the tool shows it (``record.crm`` "lifetime_value" and
    "last_order_date", when the connector reads them back), where it is not ours: ours is sent
    again. The hub has no rule for it (it is always ours), and a push of it can be lost to a race:
    the tool must not be believed to hold it because its other fields agree."""
    if "lifetime_value" not in record.crm and "last_order_date" not in record.crm:
        return {}
    value, last = outbound_crm.order_history(customer.pk)
    theirs_value = record.crm.get("lifetime_value", "")
    found: dict[str, str] = {}
    try:
        same_value = Decimal(theirs_value or "0") == value
    except InvalidOperation:
        same_value = False
    if not same_value:
        found["lifetime_value"] = theirs_value
    theirs_last = record.crm.get("last_order_date", "")
    if theirs_last != (last.isoformat() if last is not None else ""):
        found["last_order_date"] = theirs_last
    return found


def _keep_on_link(ref: ExternalRef, record: CustomerRecord, owners: Mapping[str, Owner]) -> list[str]:
    """Keep what only the tool has (lifecycle stage, owner, marketing) on the link, with when it
    changed; the fields whose value changed."""
    kept = dict(ref.extra.get(CRM) or {})
    changed = []
    for name in sorted(KEPT_ON_LINK & set(owners)):
        if name not in record.crm or (kept.get(name) or {}).get("value") == record.crm[name]:
            continue
        at = _tool_time(record, name)
        kept[name] = {"value": record.crm[name], "changed_at": _iso(at) if at is not None else ""}
        changed.append(name)
    if changed:
        ref.extra[CRM] = kept
    return changed


def _heal(
    connection: Connection,
    ref: ExternalRef,
    customer: Customer,
    owners: Mapping[str, Owner],
    differs: dict[str, Any],
    *,
    pushed: bool,
    run: SyncRun,
) -> list[str]:
    """Ours goes to the tool again where its values differ and ours win (``pushed``: the customer's
    own "updated" push goes anyway); else the tool has what we would send, unless the customer's
    company there lags behind it (``outbound_crm.company_lags``: a name or phone just taken from
    the contact): then the push goes on to the company."""
    if not differs:
        ref.extra.pop(outbound_crm.HEALED, None)
        customer = Customer.objects.prefetch_related("addresses").get(pk=customer.pk)
        item = customer_out_for(connection, customer, ref, owners)
        if not outbound_crm.company_lags(customer, item, ref):
            ref.pushed_hash = resolving.digest(item)
            return []
        ref.pushed_hash = ""
        if not pushed:
            outbound_crm.customer_again(connection, customer, why="its company follows")
        return ["its company follows"]
    seen = content_hash(differs)
    fields = ", ".join(sorted(differs))
    if ref.extra.get(outbound_crm.HEALED) == seen:
        run.errors.append(
            {
                "level": "warning",
                "message": (
                    f"{connection.name} keeps its own {fields} of {customer.name} ({customer.code}) "
                    "although ours was sent: not sent again. Check the values on both sides."
                ),
            }
        )
        return [f"{fields} still differ after ours was sent"]
    ref.extra[outbound_crm.HEALED] = seen
    ref.pushed_hash = ""  # the tool does not have what we would send
    if not pushed:
        outbound_crm.customer_again(connection, customer, why=f"heal {fields}")
    return [f"ours sent again: {fields}"]
