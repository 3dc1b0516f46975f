"""Constants, seed lists, samples, fault bodies and time formats of the fake QuickBooks Online.

The samples (``samples/``, copied byte-exact from the shared QuickBooks Online payloads, with
``FORMAT.md``) are the source of truth for shapes. No Django, no I/O beyond the samples.

Times: QuickBooks writes ``MetaData`` times in the company's time zone to the second
(``2026-03-14T07:25:13-07:00``, ``qbo_time``) and the envelope's ``time`` with milliseconds
(``2026-03-14T07:25:13.402-07:00``, ``envelope_time``); webhooks use UTC with ``Z``.

Faults (``QBOFault``) answer HTTP 400 with ``{"Fault": {"Error": [{"Message", "Detail", "code",
"element"?}], "type": "ValidationFault"}, "time"}``; the texts of 6240, 610, 5010 and 2020 are the
samples'. Codes the samples do not show are marked [inferred] where they are built.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

PRODUCTION_HOST = "quickbooks.api.intuit.com"
SANDBOX_HOST = "sandbox-quickbooks.api.intuit.com"
BASE_URL = f"https://{PRODUCTION_HOST}/v3"
SANDBOX_URL = f"https://{SANDBOX_HOST}/v3"
OAUTH_HOST = "oauth.platform.intuit.com"
TOKEN_URL = f"https://{OAUTH_HOST}/oauth2/v1/tokens/bearer"
CONSENT_URL = "https://appcenter.intuit.com/connect/oauth2"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
SCOPE = "com.intuit.quickbooks.accounting"

# The company of the samples, the app and the fixed access token of the tests and the demo.
REALM_ID = "9341455123456789"
COMPANY_NAME = "Trailhead Outfitters LLC"
CLIENT_ID = "ABfakeQuickBooksClientId0123456789abcdefghijklmn"
CLIENT_SECRET = "fakeQuickBooksClientSecret0123456789abcd"
VERIFIER_TOKEN = "test-verifier-token-5b1e"  # the samples' signatures are keyed by it
ACCESS_TOKEN = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..fake-static-access-token"
TOKEN_PREFIX = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.."
REFRESH_PREFIX = "AB1"

# Minor versions below 75 are no longer served since 2025-08-01: a request without one, or with
# an older one, is answered as 75 (Intuit's announcement of 2025-01-21) [docs].
MIN_MINOR_VERSION = 75
LATEST_MINOR_VERSION = 75

ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # x_refresh_token_expires_in of the sample (101 days)
ROTATE_AFTER = 24 * 3600  # a refresh token older than this is replaced on its next use
CODE_TTL = 300  # seconds an authorization code is good for [inferred]
CDC_LOOKBACK = datetime.timedelta(days=30)
CDC_MAX_OBJECTS = 1000
QUERY_MAX_RESULTS = 1000
QUERY_DEFAULT_RESULTS = 100
RATE_LIMIT = 500  # requests a minute per realm
CONCURRENCY_LIMIT = 10  # requests in flight per realm
# The CloudEvents webhook body is mandatory from this day (blogs.intuit.com, 2025-11-12); the
# fake's ``webhook_format="auto"`` sends the legacy body before it and CloudEvents from then on.
CLOUDEVENTS_FROM = datetime.datetime(2026, 5, 15, tzinfo=datetime.UTC)
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"

USD = {"value": "USD", "name": "United States Dollar"}
COMPANY_TZ = zoneinfo.ZoneInfo("America/Los_Angeles")

# The seeded chart of accounts: id -> (Name, AccountType, AccountSubType, Classification).
ACCOUNTS: dict[str, tuple[str, str, str, str]] = {
    "4": ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    "33": ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability"),
    "35": ("Checking", "Bank", "Checking", "Asset"),
    "42": ("Company Credit Card", "Credit Card", "CreditCard", "Liability"),
    "77": ("Freight & Delivery", "Cost of Goods Sold", "ShippingFreightDeliveryCos", "Expense"),
    "79": ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    "80": ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    "81": ("Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
    "82": ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    "83": ("Shipping Income", "Income", "OtherPrimaryIncome", "Revenue"),
    "84": ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    "85": ("Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
    "86": ("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity"),
    "87": ("Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense"),
}
AR_ACCOUNT_ID = "84"
AP_ACCOUNT_ID = "33"
UNDEPOSITED_FUNDS_ID = "4"
BANK_ACCOUNT_ID = "35"
CREDIT_CARD_ACCOUNT_ID = "42"
# TaxCode id -> (Name, TaxRate id or None, Taxable); TaxRate id -> (Name, RateValue, AgencyRef).
TAX_CODES: dict[str, tuple[str, str | None, bool]] = {
    "TAX": ("TAX", None, True),
    "NON": ("NON", None, False),
    "3": ("KY Sales Tax", "3", True),
    "4": ("Exempt", None, False),
}
TAX_RATES: dict[str, tuple[str, float, str]] = {"3": ("KY Sales Tax", 6.0, "1")}
DEFAULT_TAX_CODE = "3"  # the company's sales tax (TxnTaxCodeRef of the sample invoice)
PAYMENT_METHODS: dict[str, tuple[str, str]] = {
    "1": ("Cash", "NON_CREDIT_CARD"),
    "2": ("Check", "NON_CREDIT_CARD"),
    "3": ("Visa", "CREDIT_CARD"),
    "4": ("MasterCard", "CREDIT_CARD"),
    "5": ("Shopify Payments", "NON_CREDIT_CARD"),
}
TERMS: dict[str, tuple[str, int]] = {"1": ("Due on receipt", 0), "2": ("Net 15", 15), "3": ("Net 30", 30)}
CLASSES: dict[str, str] = {"1": "Retail", "2": "Wholesale"}
DEPARTMENTS: dict[str, str] = {"1": "Louisville Store", "2": "Online"}

# First ids the company hands out (the samples': customer 58, item 31, invoice 1207, ...).
FIRST_IDS = {"Customer": 58, "Vendor": 56, "Item": 31, "Account": 90, "Class": 3, "Department": 3}
FIRST_LIST_ID = 10  # PaymentMethod, Term and other small lists
FIRST_TXN_ID = 1207  # transactions share one sequence
FIRST_ADDRESS_ID = 112


class QBOFault(Exception):
    """A fault QuickBooks answers (HTTP ``status``, its ``Fault`` body without ``time``)."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        *,
        element: str | None = None,
        status: int = 400,
        kind: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        error: dict[str, Any] = {"Message": message, "Detail": detail, "code": code}
        if element is not None:
            error["element"] = element
        self.status = status
        self.body: dict[str, Any] = {"Fault": {"Error": [error], "type": kind}}


def duplicate_name(entity: str) -> QBOFault:
    """6240 (the sample's text for customers, vendors and employees)."""
    who = {
        "Item": "Another product or service is already using this name.",
        "Account": "Another account is already using this name.",
    }.get(entity, "Another customer, vendor or employee is already using this name.")
    return QBOFault("6240", "Duplicate Name Exists Error", f"The name supplied already exists. : {who}")


def not_found(element: str | None = None) -> QBOFault:
    """610, for a missing object and for a reference to a missing or inactive one (the sample)."""
    return QBOFault(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields "
        "with accounts, customers, items, vendors or employees.",
        element=element,
    )


def stale(entity: str) -> QBOFault:
    """5010 (the sample's text, naming the entity)."""
    return QBOFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and Intuit QuickBooks Online Accounting edited the same {entity} "
        "at the same time. Please try again.",
    )


def required(element: str) -> QBOFault:
    """2020 (the sample's text)."""
    return QBOFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element=element,
    )


def business(detail: str, *, code: str = "6000", element: str | None = None) -> QBOFault:
    """A business validation fault (6000 family) [inferred texts]."""
    return QBOFault(
        code,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def invalid_value(element: str, detail: str) -> QBOFault:
    """2050 / 2500-style: a value QuickBooks does not take [inferred]."""
    return QBOFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        detail,
        element=element,
    )


def unsupported(detail: str) -> QBOFault:
    return QBOFault("500", "Unsupported Operation", detail, kind="ValidationFault")


def bad_request(detail: str) -> QBOFault:
    """A body that is not the entity's JSON [inferred text]."""
    return QBOFault("2010", "Request has invalid or unsupported property", detail)


def query_error(detail: str, *, code: str = "4000") -> QBOFault:
    """4000 a query that does not parse, 4001 one that asks for what is not there [inferred]."""
    message = "Error parsing query" if code == "4000" else "Invalid query"
    return QBOFault(code, message, detail)


def system_fault(status: int) -> dict[str, Any]:
    """QuickBooks' answer to a failure on its side (a 5xx) [inferred]."""
    return {
        "Fault": {
            "Error": [
                {
                    "Message": "An application error has occurred while processing your request",
                    "Detail": "System Failure Error: An unexpected error occurred while accessing or "
                    "saving your data. Please wait a few minutes and try again.",
                    "code": "10000",
                }
            ],
            "type": "SystemFault",
        }
    }


def throttle_body() -> dict[str, Any]:
    """The 429's ``Fault`` (error_429_throttle.json, without ``time``)."""
    body = sample("error_429_throttle.json")
    body.pop("time", None)
    return dict(body)


def authentication_body(detail: str, epoch_ms: int) -> dict[str, Any]:
    """The lowercase 401 envelope (error_401_authentication.json) with ``detail`` and ``time``."""
    body = sample("error_401_authentication.json")
    body["fault"]["error"][0]["detail"] = detail
    body["time"] = epoch_ms
    return dict(body)


def authorization_body(detail: str, epoch_ms: int) -> dict[str, Any]:
    """The lowercase 403 envelope (AuthorizationFailed, 3100), as the 401's [issue]."""
    body = authentication_body(detail, epoch_ms)
    body["fault"]["error"][0]["message"] = "message=AuthorizationFailed; errorCode=003100; statusCode=403"
    body["fault"]["error"][0]["code"] = "3100"
    body["fault"]["type"] = "AUTHORIZATION"
    return body


# --- time -----------------------------------------------------------------------------------------


def local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(COMPANY_TZ)


def qbo_time(moment: datetime.datetime) -> str:
    """``MetaData`` times: the company's zone, to the second (``2026-03-14T07:25:13-07:00``)."""
    return local(moment).replace(microsecond=0).isoformat()


def envelope_time(moment: datetime.datetime) -> str:
    """The envelope's ``time``: milliseconds and the company's offset."""
    return local(moment).isoformat(timespec="milliseconds")


def utc_z(moment: datetime.datetime, *, millis: bool = True) -> str:
    stamp = moment.astimezone(datetime.UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{stamp.microsecond // 1000:03d}" if millis else "") + "Z"


def today(moment: datetime.datetime) -> str:
    """The company's date now (``TxnDate`` when none is given)."""
    return local(moment).date().isoformat()


def parse_moment(text: str) -> datetime.datetime:
    """An ISO date or date-time; without an offset it is the company's local time."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=COMPANY_TZ)
    return parsed


# --- samples --------------------------------------------------------------------------------------


def sample_bytes(name: str) -> bytes:
    """A sample's exact bytes."""
    return (SAMPLES / name).read_bytes()


def sample(name: str) -> Any:
    """A sample, parsed."""
    return json.loads(sample_bytes(name))


def sample_webhook_headers(kind: str) -> dict[str, str]:
    """The recorded headers of a sample delivery (``kind``: "legacy" or "cloudevents")."""
    return dict(sample("webhook_headers.json")[kind])
