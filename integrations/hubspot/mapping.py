"""HubSpot's wire format and the hub's records, both ways, with nothing else.

Every property value is a string there (numbers, dates and booleans too), ids are strings, times are
ISO-8601 in UTC. A customer here is a contact keyed by our customer number (the unique property
``erp_customer_code``), and a company customer is also a company keyed the same way; an order is a
deal keyed by our order number (``erp_order_number``). Our field names (``field_owners.FIELDS``) each
map to the properties that hold them, so a field the tool owns is never sent and a field whose last
writer wins is compared by the timestamps HubSpot keeps per property (``propertiesWithHistory``).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.errors import HubError, PermanentError, TransientError
from integrations.records import CustomerOut, CustomerRecord, DealOut

CONTACTS, COMPANIES, DEALS = "contacts", "companies", "deals"
CUSTOMER_CODE = "erp_customer_code"  # unique on contacts and companies: what upserts key on
ORDER_NUMBER = "erp_order_number"  # unique on deals
LIFETIME_VALUE, LAST_ORDER_DATE = "erp_lifetime_value", "erp_last_order_date"  # always ours
MERGED_IDS, LAST_MODIFIED = "hs_merged_object_ids", "lastmodifieddate"

# Our field -> the contact properties holding it.
CONTACT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "code": (CUSTOMER_CODE,),
    "name": ("firstname", "lastname", "company"),
    "email": ("email",),
    "phone": ("phone",),
    "address": ("address", "city", "state", "zip", "country"),
    "tax_id": ("erp_tax_id",),
    "payment_terms": ("erp_payment_terms",),
    "lifecycle_stage": ("lifecyclestage",),
    "owner": ("hubspot_owner_id",),
    "marketing": ("hs_marketable_status",),
}
# Our field -> the company properties holding it (a company's domain comes from the email).
COMPANY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "code": (CUSTOMER_CODE,),
    "name": ("name",),
    "email": ("domain",),
    "phone": ("phone",),
    "address": ("address", "address2", "city", "state", "zip", "country"),
    "tax_id": ("erp_tax_id",),
    "payment_terms": ("erp_payment_terms",),
}
# The properties whose timestamps say when one of our fields changed there: a person's name is
# their first and last name (the company name on a contact is the company's).
STAMPED_BY: Mapping[str, tuple[str, ...]] = {**CONTACT_FIELDS, "name": ("firstname", "lastname")}
# What HubSpot keeps that we have no column for: our key in CustomerRecord.crm -> the property.
CRM_KEPT: Mapping[str, str] = {
    "lifecycle_stage": "lifecyclestage",
    "owner": "hubspot_owner_id",
    "marketing": "hs_marketable_status",
}
HISTORY_PROPERTIES: tuple[str, ...] = tuple(sorted({p for props in STAMPED_BY.values() for p in props}))
CONTACT_READ: tuple[str, ...] = tuple(
    sorted(
        {
            *(p for props in CONTACT_FIELDS.values() for p in props),
            LAST_MODIFIED,
            MERGED_IDS,
            LIFETIME_VALUE,
            LAST_ORDER_DATE,
        }
    )
)
# Errors of one input of a batch that the same input will always meet again.
REFUSED_FOR_GOOD = frozenset({"VALIDATION_ERROR", "CONFLICT"})
# Mail providers whose domain says nothing about a company (no company domain is made of them).
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "qq.com",
        "163.com",
    }
)


# --- values --------------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """First name, last name: the first word, and the rest."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def joined_name(properties: Mapping[str, Any]) -> str:
    parts = (str(properties.get("firstname") or "").strip(), str(properties.get("lastname") or "").strip())
    return " ".join(p for p in parts if p)


def moment(value: Any) -> datetime.datetime | None:
    """A HubSpot time: ISO-8601 (``...Z``) or milliseconds since the epoch; None when absent."""
    text = str(value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.datetime.fromtimestamp(int(text) / 1000, tz=datetime.UTC)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def millis(when: datetime.datetime) -> str:
    return str(int(when.timestamp() * 1000))


def amount(value: Decimal) -> str:
    return format(value, "f")


def midnight_utc(date: datetime.date) -> str:
    """A date property as HubSpot takes it: midnight UTC of that day."""
    return f"{date.isoformat()}T00:00:00Z"


def company_domain(email: str) -> str:
    """The email's domain, unless a free mail provider's (``""``)."""
    domain = email.rpartition("@")[2].strip().lower()
    return "" if not domain or "@" not in email or domain in FREE_MAIL else domain


# --- out -----------------------------------------------------------------------------------------


def _keep(
    values: Mapping[str, str], fields: Mapping[str, tuple[str, ...]], leave_out: Iterable[str]
) -> dict[str, str]:
    dropped = {p for name in leave_out for p in fields.get(name, ())}
    return {k: v for k, v in values.items() if k not in dropped}


def _history(item: CustomerOut) -> dict[str, str]:
    history: dict[str, str] = {}
    if item.lifetime_value is not None:
        history[LIFETIME_VALUE] = amount(item.lifetime_value)
    if item.last_order_date is not None:
        history[LAST_ORDER_DATE] = item.last_order_date.isoformat()
    return history


def contact_properties(item: CustomerOut, leave_out: Iterable[str] = ()) -> dict[str, str]:
    """The contact's properties for a customer, without those of the fields in ``leave_out`` (the
    tool's, and the last-writer-wins ones changed there later). A company customer's name is also
    the contact's company, sent unless HubSpot owns the name: like the company record, it shows what
    we have, whoever changed the person's name last. No billing address here: the contact's address
    is left as it is."""
    first, last = split_name(item.name)
    values = {"firstname": first, "lastname": last, "email": item.email, "phone": item.phone}
    if item.is_company:
        values["company"] = item.name
    address = item.billing_address
    if address:
        street = ", ".join(p for p in (address.get("line1", ""), address.get("line2", "")) if p)
        values |= {
            "address": street,
            "city": address.get("city", ""),
            "state": address.get("region", ""),
            "zip": address.get("postal_code", ""),
            "country": address.get("country", ""),
        }
    values |= {"erp_tax_id": item.tax_id, "erp_payment_terms": item.payment_terms}
    kept = _keep(values, CONTACT_FIELDS, leave_out)
    if item.is_company and "name" not in item.withheld:
        kept["company"] = item.name
    return kept | _history(item)


def company_properties(item: CustomerOut, leave_out: Iterable[str] = ()) -> dict[str, str]:
    """The company's properties for a company customer, without those of the fields in
    ``leave_out`` (the connector leaves out only what HubSpot owns: the hub never reads a company
    back, so the company shows what we have, not what the contact's history says)."""
    values = {"name": item.name, "phone": item.phone}
    if domain := company_domain(item.email):
        values["domain"] = domain
    address = item.billing_address
    if address:
        values |= {
            "address": address.get("line1", ""),
            "address2": address.get("line2", ""),
            "city": address.get("city", ""),
            "state": address.get("region", ""),
            "zip": address.get("postal_code", ""),
            "country": address.get("country", ""),
        }
    values |= {"erp_tax_id": item.tax_id, "erp_payment_terms": item.payment_terms}
    return _keep(values, COMPANY_FIELDS, leave_out) | _history(item)


def deal_properties(item: DealOut, *, pipeline: str, stage: str) -> dict[str, str]:
    values = {
        "dealname": item.name,
        "amount": amount(item.amount),
        "deal_currency_code": item.currency,
        "pipeline": pipeline,
        "dealstage": stage,
    }
    if item.close_date is not None:
        values["closedate"] = midnight_utc(item.close_date)
    return values


def upsert_input(id_property: str, key: str, properties: Mapping[str, str], trace: str) -> dict[str, Any]:
    return {"idProperty": id_property, "id": key, "objectWriteTraceId": trace, "properties": dict(properties)}


# --- timestamps ----------------------------------------------------------------------------------


def stamps(obj: Mapping[str, Any]) -> dict[str, datetime.datetime]:
    """When each of our fields took its current value there: the latest timestamp of its properties'
    histories (``propertiesWithHistory``)."""
    history = obj.get("propertiesWithHistory") or {}
    found: dict[str, datetime.datetime] = {}
    for name, properties in STAMPED_BY.items():
        times = [
            when
            for prop in properties
            for version in history.get(prop) or ()
            if (when := moment(version.get("timestamp"))) is not None
        ]
        if times:
            found[name] = max(times)
    return found


def newer_there(item: CustomerOut, there: Mapping[str, datetime.datetime]) -> frozenset[str]:
    """The last-writer-wins fields HubSpot changed after we did: left out of the push. A field we
    have no change time for is sent (ours is all we know)."""
    newer = set()
    for name in item.latest:
        ours, theirs = item.changed_at.get(name), there.get(name)
        if ours is not None and theirs is not None and theirs > ours:
            newer.add(name)
    return frozenset(newer)


# --- in ------------------------------------------------------------------------------------------


def primary_company(obj: Mapping[str, Any]) -> str:
    """The contact's company: the primary association if it names one, else the first."""
    rows = ((obj.get("associations") or {}).get(COMPANIES) or {}).get("results") or []
    primary = [r for r in rows if r.get("type") == "contact_to_company"]
    chosen = (primary or rows)[:1]
    return str(chosen[0]["id"]) if chosen else ""


def customer_record(obj: Mapping[str, Any]) -> CustomerRecord:
    """A contact (read with its history and companies) as the hub's customer."""
    props = obj.get("properties") or {}

    def text(name: str) -> str:
        return str(props.get(name) or "").strip()

    own_id = str(obj["id"])
    address = {
        "line1": text("address"),
        "city": text("city"),
        "region": text("state"),
        "postal_code": text("zip"),
        "country": text("country"),
    }
    merged = tuple(i for i in text(MERGED_IDS).split(";") if i.strip() and i.strip() != own_id)
    return CustomerRecord(
        external_id=own_id,
        name=joined_name(props),
        email=text("email"),
        phone=text("phone"),
        company=text("company"),
        updated_at=moment(props.get(LAST_MODIFIED)) or moment(obj.get("updatedAt")),
        company_external_id=primary_company(obj),
        address=address if any(address.values()) else {},
        tax_id=text("erp_tax_id"),
        changed_at=stamps(obj),
        # with what the hub sends but keeps no rule for: the terms and the order history, so the
        # hub sees where HubSpot's differ from ours and sends ours again
        crm={ours: text(prop) for ours, prop in CRM_KEPT.items()}
        | {
            "payment_terms": text("erp_payment_terms"),
            "lifetime_value": text(LIFETIME_VALUE),
            "last_order_date": text(LAST_ORDER_DATE),
        },
        merged_external_ids=tuple(i.strip() for i in merged),
    )


# --- answers -------------------------------------------------------------------------------------


def error_of(body: str) -> tuple[str, str]:
    """(category, message) of one of HubSpot's error bodies; ("", "") when it is not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return "", ""
    if not isinstance(parsed, dict):
        return "", ""
    return str(parsed.get("category") or ""), str(parsed.get("message") or "")


def refusal(error: Mapping[str, Any], what: str) -> HubError:
    """One input's error of a batch (a 207): for good (invalid values, a conflict) or worth another try."""
    category = str(error.get("category") or "")
    message = (
        f"HubSpot refused {what}: {error.get('message') or 'no reason given'} ({category or 'no category'})"
    )
    if category in REFUSED_FOR_GOOD:
        return PermanentError(message, status=207, body=json.dumps(error)[:2000])
    return TransientError(message)


EXISTING_ID = re.compile(r"Existing ID: (\d+)")


def existing_id(error_body: str) -> str:
    """The id a CONFLICT names ("Contact already exists. Existing ID: N"), "" when it names none."""
    try:
        error = json.loads(error_body or "{}")
    except ValueError:
        return ""
    if not isinstance(error, dict) or error.get("category") != "CONFLICT":
        return ""
    found = EXISTING_ID.search(str(error.get("message") or ""))
    return found.group(1) if found else ""


def by_trace(
    body: Mapping[str, Any], id_property: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A batch answer's (results by trace id, results by id property value, errors by trace id or
    id property value)."""
    traced: dict[str, Any] = {}
    keyed: dict[str, Any] = {}
    for result in body.get("results") or ():
        if result.get("objectWriteTraceId"):
            traced[str(result["objectWriteTraceId"])] = result
        value = (result.get("properties") or {}).get(id_property)
        if value:
            keyed[str(value)] = result
    errors: dict[str, Any] = {}
    for error in body.get("errors") or ():
        context = error.get("context") or {}
        for name in ("objectWriteTraceId", "ids", "id"):
            for value in context.get(name) or ():
                errors[str(value)] = error
    return traced, keyed, errors
