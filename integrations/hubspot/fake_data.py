"""Constants, the portal's property definitions, pipelines, association types, error bodies and time
formats of the fake HubSpot. No Django, no I/O beyond the samples.

The samples (``samples/``, copied from the shared HubSpot payloads with ``FORMAT.md``) are the
source of truth for shapes and texts; what they do not show is marked [inferred] where it is built.
The app's ids are the samples' (portal 33, app 1160452, the OAuth client of
``oauth_refresh_request.form.json``), so a sample body reads as if this fake had sent it.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

HOST = "api.hubapi.com"
BASE_URL = f"https://{HOST}"
TOKEN_URL = f"{BASE_URL}/oauth/v1/token"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"

PORTAL_ID = 33  # webhook_events.json's portalId
APP_ID = 1160452  # webhook_events.json's appId: the app the connector is
CLIENT_ID = "5f2c1e9a-1111-2222-3333-444455556666"
CLIENT_SECRET = "7a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff"  # the app's: OAuth and webhook signatures
PRIVATE_APP_TOKEN = "pat-na1-7f3c2a10-5b6d-4e8f-9a0b-1c2d3e4f5a6b"  # a private app's: never expires
REFRESH_TOKEN = "na1-6a2b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"  # the sample's (HubSpot's do not rotate)
ACCESS_PREFIX = "CJSP5qf1KhICAQEY"  # HubSpot's access tokens are opaque; the sample's start
ACCESS_TTL = 1800  # seconds: the sample's expires_in
CODE_TTL = 600  # seconds an authorization code is good for [inferred]
SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read")
SALES_REP_ID = 45678  # webhook_events.json's "userId:45678": the rep who edits in the CRM
OWNER_ID = "52550153"  # the rep as a HubSpot owner (hubspot_owner_id)

TEN_SECONDLY_LIMIT = 100  # requests per 10 s (private apps on Free/Starter; the brief's figure)
DAILY_LIMIT = 500000  # response_headers_rate_limit_example.json's daily quota (private apps)
SEARCH_PER_SECOND = 5  # the search endpoints' own limit, per account
BATCH_LIMIT = 100  # inputs per batch request
HISTORY_BATCH_LIMIT = 50  # inputs of a batch read that asks for property histories
PAGE_LIMIT = 100  # objects per list page
SEARCH_PAGE_LIMIT = 200  # objects per search page
SEARCH_MAX_RESULTS = 10000  # a search pages no further than this

TIME_ZONE = "US/Eastern"
CURRENCY = "USD"

# Object types as paths and the v4 API name them, and their HubSpot ids.
OBJECT_TYPES = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}
TYPE_ALIASES = {
    **{name: name for name in OBJECT_TYPES},
    **{type_id: name for name, type_id in OBJECT_TYPES.items()},
    **{singular: name for name, singular in SINGULAR.items()},
}
LABEL = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL"}
# Where each type keeps its last-modified stamp (contacts' is named differently: the samples).
MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
# What a read without ``properties=`` answers.
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
}

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


@dataclass(frozen=True)
class Property:
    """A property defined in the portal: its type decides what a value must look like."""

    name: str
    type: str = "string"  # string | number | date | datetime | enumeration | bool
    unique: bool = False  # hasUniqueValue: usable as an idProperty
    read_only: bool = False  # HubSpot keeps it itself
    options: tuple[str, ...] = ()


def _properties(*defs: Property) -> dict[str, Property]:
    return {d.name: d for d in defs}


_KEPT = (
    Property("hs_object_id", "number", read_only=True),
    Property("createdate", "datetime", read_only=True),
    Property("hs_merged_object_ids", read_only=True),
    Property("hubspot_owner_id", "enumeration"),
)
_ADDRESS = tuple(Property(n) for n in ("phone", "address", "city", "state", "zip", "country"))
# Our custom properties (the connector's), with the samples' names for the same ideas.
_ERP_CUSTOMER = (
    Property("erp_customer_code", unique=True),
    Property("erp_customer_id", unique=True),
    Property("erp_tax_id"),
    Property("erp_payment_terms"),
    Property("erp_lifetime_value", "number"),
    Property("erp_last_order_date", "date"),
)

PROPERTIES: dict[str, dict[str, Property]] = {
    "contacts": _properties(
        *_KEPT,
        *_ADDRESS,
        *_ERP_CUSTOMER,
        Property("lastmodifieddate", "datetime", read_only=True),
        Property("email", unique=True),
        Property("hs_additional_emails", read_only=True),
        Property("firstname"),
        Property("lastname"),
        Property("company"),
        Property("jobtitle"),
        Property("lifecyclestage", "enumeration", options=LIFECYCLE_STAGES),
        Property("hs_marketable_status", "bool", options=("true", "false")),
    ),
    "companies": _properties(
        *_KEPT,
        *_ADDRESS,
        *_ERP_CUSTOMER,
        Property("hs_lastmodifieddate", "datetime", read_only=True),
        Property("name"),
        Property("domain"),
        Property("address2"),
        Property("industry"),
        Property("lifecyclestage", "enumeration", options=LIFECYCLE_STAGES),
    ),
    "deals": _properties(
        *_KEPT,
        Property("hs_lastmodifieddate", "datetime", read_only=True),
        Property("dealname"),
        Property("amount", "number"),
        Property("deal_currency_code", "enumeration", options=("USD", "EUR", "GBP", "CAD")),
        Property("pipeline", "enumeration"),
        Property("dealstage", "enumeration"),
        Property("closedate", "datetime"),
        Property("description"),
        Property("erp_order_number", unique=True),
        Property("erp_order_id", unique=True),
    ),
}

# The portal's deal pipelines: id -> (label, [(stage id, label, probability, closed)]).
PIPELINES: dict[str, tuple[str, tuple[tuple[str, str, str, bool], ...]]] = {
    "default": (
        "Sales Pipeline",
        (
            ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
            ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
            ("presentationscheduled", "Presentation Scheduled", "0.6", False),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
            ("contractsent", "Contract Sent", "0.9", False),
            ("closedwon", "Closed Won", "1.0", True),
            ("closedlost", "Closed Lost", "0.0", True),
        ),
    ),
    "orders": (
        "Sales orders",
        (
            ("order_confirmed", "Order confirmed", "1.0", False),
            ("order_shipped", "Order shipped", "1.0", False),
            ("order_invoiced", "Order invoiced", "1.0", False),
            ("order_paid", "Order paid", "1.0", True),
            ("order_cancelled", "Order cancelled", "0.0", True),
            ("order_closed", "Order closed", "1.0", True),
        ),
    ),
}

# HUBSPOT_DEFINED association types: (from, to, id) -> (v3 name, v4 label). A primary type
# implies the unlabeled one; the inverse of each is what the other side lists.
ASSOCIATION_TYPES: dict[tuple[str, str, int], tuple[str, str | None]] = {
    ("contacts", "companies", 1): ("contact_to_company", "Primary"),
    ("contacts", "companies", 279): ("contact_to_company_unlabeled", None),
    ("companies", "contacts", 2): ("company_to_contact", "Primary"),
    ("companies", "contacts", 280): ("company_to_contact_unlabeled", None),
    ("deals", "contacts", 3): ("deal_to_contact", None),
    ("contacts", "deals", 4): ("contact_to_deal", None),
    ("deals", "companies", 5): ("deal_to_company", "Primary"),
    ("deals", "companies", 341): ("deal_to_company_unlabeled", None),
    ("companies", "deals", 6): ("company_to_deal", "Primary"),
    ("companies", "deals", 342): ("company_to_deal_unlabeled", None),
}
INVERSE = {1: 2, 2: 1, 279: 280, 280: 279, 3: 4, 4: 3, 5: 6, 6: 5, 341: 342, 342: 341}
UNLABELED = {1: 279, 2: 280, 5: 341, 6: 342}  # a primary type -> the unlabeled one it implies
DEFAULT_TYPE = {  # what PUT .../associations/default/... makes
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
}


# --- samples, times, bodies ----------------------------------------------------------------------


def sample(name: str) -> Any:
    """A sample's JSON."""
    return json.loads((SAMPLES / name).read_text())


def sample_bytes(name: str) -> bytes:
    """A sample's exact bytes (what signatures cover)."""
    return (SAMPLES / name).read_bytes()


def stamp(moment: datetime.datetime) -> str:
    """HubSpot's ISO time: UTC, milliseconds, ``Z`` (``2026-03-14T14:22:10.512Z``)."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def error_body(category: str, message: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's error envelope (error_400_validation.json, error_409_conflict.json, ...)."""
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


def invalid_values(problems: list[dict[str, Any]]) -> str:
    """The "Property values were not valid" message, each problem as HubSpot words it."""
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))


def problem(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def unauthenticated_body() -> dict[str, Any]:
    """error_401.json with a fresh correlation id."""
    return {**sample("error_401.json"), "correlationId": str(uuid.uuid4())}


def rate_limit_body(policy: str, group: str) -> dict[str, Any]:
    """error_429_rate_limit.json for the bucket that refused (TEN_SECONDLY_ROLLING, DAILY,
    SECONDLY)."""
    words = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "DAILY": "daily", "SECONDLY": "secondly"}
    return {
        "status": "error",
        "message": f"You have reached your {words[policy]} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": group,
    }
