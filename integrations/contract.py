"""The connector contract: what a connector is, and what it gives and takes.

A connector maps one tool's wire format to the hub's canonical records
(``integrations.records``) and back, and nothing else: persisting, de-duplicating,
retrying, rate limiting, ordering by dependency and logging belong to the hub. A
connector lives in ``integrations/<key>/connector.py``, subclasses ``Connector``,
declares its ``capabilities`` (which records it gives and takes, ``RECORDS``) and is
registered with ``integrations.registry.register``; it never imports another connector.

Inbound, a connector turns a webhook (or a page of a pull) into ``InboundItem``s
carrying records (``OrderRecord``, ``ShipmentRecord``, ``PaymentRecord``…). Outbound,
the hub hands ``push`` a record (``InventoryOut``, ``OrderOut``, ``InvoiceOut``…) already
resolved to the tool's ids through ExternalRefs, with a ``PushContext``.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import httpx
from pydantic import BaseModel

from integrations.errors import PermanentError
from integrations.grants import OAuth, TokenGrant
from integrations.records import (
    BillOut,
    BillPaymentOut,
    CustomerOut,
    CustomerRecord,
    DealOut,
    FulfilmentOut,
    InboundRecord,
    InventoryJournalOut,
    InventoryLevelRecord,
    InventoryOut,
    InvoiceOut,
    ItemOut,
    OrderCancelOut,
    OrderOut,
    OrderRecord,
    OutboundItem,
    PaymentOut,
    PaymentRecord,
    ProductRecord,
    ReceiptRecord,
    ReceivingCancelOut,
    ReceivingOut,
    ShipmentRecord,
    VendorOut,
)

if TYPE_CHECKING:
    from integrations.field_owners import Owner
    from integrations.models import Connection


class Capability(StrEnum):
    """What a connector does, each naming the records it gives (in) or takes (out)."""

    # a sales channel
    ORDERS_IN = "orders_in"
    PRODUCTS_IN = "products_in"
    PRODUCTS_OUT = "products_out"
    INVENTORY_OUT = "inventory_out"
    FULFILMENT_OUT = "fulfilment_out"
    # a shipping tool or a 3PL
    ORDERS_OUT = "orders_out"
    SHIPMENTS_IN = "shipments_in"
    INVENTORY_IN = "inventory_in"
    # a 3PL: purchase orders delivered to its warehouse as receiving orders, and what it received
    RECEIVING_OUT = "receiving_out"
    RECEIPTS_IN = "receipts_in"
    # accounting
    CUSTOMERS_OUT = "customers_out"
    ITEMS_OUT = "items_out"
    INVOICES_OUT = "invoices_out"
    PAYMENTS_OUT = "payments_out"
    PAYMENTS_IN = "payments_in"
    VENDORS_OUT = "vendors_out"
    BILLS_OUT = "bills_out"
    BILL_PAYMENTS_OUT = "bill_payments_out"
    INVENTORY_JOURNAL_OUT = "inventory_journal_out"  # a closed day of the ledger as a journal entry
    # a CRM
    CUSTOMERS_IN = "customers_in"
    DEALS_OUT = "deals_out"


# The records each capability gives (in) or takes (out).
RECORDS: Mapping[Capability, tuple[type[Any], ...]] = {
    Capability.ORDERS_IN: (OrderRecord,),
    Capability.PRODUCTS_IN: (ProductRecord,),
    Capability.PRODUCTS_OUT: (ItemOut,),
    Capability.INVENTORY_OUT: (InventoryOut,),
    Capability.FULFILMENT_OUT: (FulfilmentOut,),
    Capability.ORDERS_OUT: (OrderOut, OrderCancelOut),
    Capability.SHIPMENTS_IN: (ShipmentRecord,),
    Capability.INVENTORY_IN: (InventoryLevelRecord,),
    Capability.RECEIVING_OUT: (ReceivingOut, ReceivingCancelOut),
    Capability.RECEIPTS_IN: (ReceiptRecord,),
    Capability.CUSTOMERS_OUT: (CustomerOut,),
    Capability.ITEMS_OUT: (ItemOut,),
    Capability.INVOICES_OUT: (InvoiceOut,),
    Capability.PAYMENTS_OUT: (PaymentOut,),
    Capability.PAYMENTS_IN: (PaymentRecord,),
    Capability.VENDORS_OUT: (VendorOut,),
    Capability.BILLS_OUT: (BillOut,),
    Capability.BILL_PAYMENTS_OUT: (BillPaymentOut,),
    Capability.INVENTORY_JOURNAL_OUT: (InventoryJournalOut,),
    Capability.CUSTOMERS_IN: (CustomerRecord,),
    Capability.DEALS_OUT: (DealOut,),
}
INBOUND = frozenset(
    {
        Capability.ORDERS_IN,
        Capability.PRODUCTS_IN,
        Capability.SHIPMENTS_IN,
        Capability.INVENTORY_IN,
        Capability.RECEIPTS_IN,
        Capability.PAYMENTS_IN,
        Capability.CUSTOMERS_IN,
    }
)


class Action(StrEnum):
    UPSERT = "upsert"
    CANCEL = "cancel"
    DELETE = "delete"


@dataclass(frozen=True)
class InboundItem:
    """One thing a tool told us: a whole record, or (thin) only that something changed."""

    object_type: str  # "order", "product", "shipment", "customer", "inventory_level", "payment"
    external_id: str
    action: Action = Action.UPSERT
    updated_at: datetime.datetime | None = None
    record: InboundRecord | None = None  # None for a thin event: the hub calls fetch()
    # A thin event that says where to read what changed (ShipStation's resource_url): the hub calls
    # fetch_url() instead of fetch(), and only when the URL is on one of the connector's hosts.
    url: str = ""


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook delivery as the hub received it: everything a tool's signature may cover.

    HubSpot's v3 signature covers the method, the URL and a timestamp; Standard Webhooks
    (BigCommerce, ShipBob) the id, a timestamp and the body; QuickBooks and Shopify the body; an
    unsigned tool (ShipStation) is secured by a secret token in the URL's query.
    """

    method: str
    url: str  # absolute, as the tool called it: scheme, host, path and query
    headers: httpx.Headers  # case-insensitive
    body: bytes  # the exact bytes received
    received_at: datetime.datetime

    @classmethod
    def of(
        cls,
        headers: Mapping[str, str],
        body: bytes,
        *,
        method: str = "POST",
        url: str = "https://erp.invalid/integrations/hooks/",
        received_at: datetime.datetime | None = None,
    ) -> WebhookRequest:
        return cls(
            method=method.upper(),
            url=url,
            headers=httpx.Headers(dict(headers)),
            body=body,
            received_at=received_at or datetime.datetime.now(datetime.UTC),
        )

    @property
    def query(self) -> Mapping[str, str]:
        return dict(httpx.URL(self.url).params)


@dataclass(frozen=True)
class WebhookEnvelope:
    """One event of a delivery: a delivery may carry several (HubSpot and QuickBooks send arrays)."""

    event_id: str  # the tool's id of this event: what makes a duplicate a duplicate
    topic: str
    # The account the event says it comes from (shop domain, store hash, seller id, realm id,
    # portal id); None when the tool names none. Compared by the hub with account_id(), and
    # what routes an event that arrives at the app-level endpoint to its connection.
    account: str | None = None
    # This event's own bytes, stored and later parsed on their own; None: the whole delivery.
    body: bytes | None = None


@dataclass(frozen=True)
class PullPage:
    items: tuple[InboundItem, ...]
    next_page: str | None  # opaque; None when this was the last page


# --- outbound -------------------------------------------------------------------------


@dataclass(frozen=True)
class PushContext:
    """What the hub tells a push besides the item.

    ``idempotency_key`` is the same for every attempt of one delivery (and new for a replay): a
    connector sends it as the tool's own idempotency field (QuickBooks ``requestid``, ShipStation
    ``orderKey``, ShipBob ``reference_id``, Shopify's ``@idempotent`` key), so an attempt retried
    after a lost answer or a killed worker never creates a second invoice or shipment order.
    """

    idempotency_key: str
    attempt: int = 1  # 1 for the first attempt of the delivery


@dataclass(frozen=True)
class PushResult:
    external_id: str = ""  # the id the tool gave the pushed thing, if any
    detail: str = ""
    version: str = ""  # the tool's version of it now (QuickBooks SyncToken), kept on the ExternalRef
    # The tool took it as an asynchronous job (an Amazon feed, a HubSpot import): the hub polls
    # ``Connector.job_status`` until it is done, and records the result then.
    job_id: str = ""
    # What else of the tool the hub keeps with its link (ExternalRef.extra): a CRM contact's company
    # id ("company_id"), for instance.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobStatus:
    """Where an asynchronous job of the tool stands."""

    done: bool
    # Per item, by its push's idempotency key: what became of it (a PushResult, or the error the
    # tool reported for it). An item the finished job does not name went through.
    results: Mapping[str, PushResult | Exception] = field(default_factory=dict)
    # The same by the pushed item's external id (``InventoryOut.external_id``), for a tool whose
    # job report names its items rather than our keys (Amazon's feed report names each SKU).
    by_external_id: Mapping[str, PushResult | Exception] = field(default_factory=dict)
    error: str = ""  # the whole job failed: every item of it is dead, with this message
    wait_seconds: float = 30.0  # when to ask again, while not done


@dataclass(frozen=True)
class RateLimitHint:
    """What a response says about the tool's limits; the hub's token bucket obeys it."""

    wait_seconds: float = 0.0  # wait at least this long before the next request
    used: int | None = None
    limit: int | None = None
    # When the tool's window starts afresh (ShipStation's X-Rate-Limit-Reset, BigCommerce's
    # X-Rate-Limit-Time-Reset-Ms in seconds): waited for once ``used`` reaches ``limit``, and on a 429.
    reset_seconds: float | None = None
    # The bucket the hint is about, when not the request's own (a daily quota named apart).
    bucket: str | None = None


@dataclass(frozen=True)
class Bucket:
    """One of a tool's rate limits (``Connector.rate_buckets``): a token bucket refilled at ``rate``
    requests a second holding up to ``burst``, and optionally at most ``concurrency`` requests in
    flight at once and ``daily`` requests a UTC day. HubSpot's 100 per 10 s is ``Bucket(10, 100)``;
    QuickBooks' 500 a minute and 10 at once ``Bucket(500 / 60, 500, concurrency=10)``; Amazon's
    getOrders ``Bucket(0.0167, 20)``; ShipStation's 40 a minute ``Bucket(40 / 60, 40)``."""

    rate: float  # requests a second (0: no rate, only the other limits)
    burst: int
    concurrency: int | None = None
    daily: int | None = None


class HttpClient(Protocol):
    """The hub's one HTTP client, bound to a connection (integrations.http.HubHttp)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, Any] | None = None,  # a form-encoded body
        auth: Mapping[str, str] | None = None,  # this request's credentials instead of the connection's
        credentials: bool = True,  # False: none at all (a pre-signed URL, on any host)
        bucket: str | None = None,  # the connector's rate-limit bucket it counts against
    ) -> httpx.Response: ...


# --- mappings -----------------------------------------------------------------------------


# What our values of a mapping kind are (``MappingKind.ours``): the hub lists them
# (integrations.mappings.our_choices).
OURS = {
    "warehouse": "our warehouse codes",
    "tax": 'our taxes, by name and rate ("VAT 20%"; "No tax" for a line of none)',
    "account": "the accounts the books need, by role: income, COGS, inventory asset, goods received not "
    "billed, inventory adjustments, receivables, payables, bank, undeposited funds, credit card, discounts",
    "payment_terms": "our customers' payment terms",
    "payment_method": "the payment methods we record",
    "carrier": "the carriers we ship with",
    "service": "the carriers' services we ship with",
    "channel": "our sales channels, by code",
    "pipeline_stage": "the stages of our orders",
    "property": "our fields of a customer",
}


@dataclass(frozen=True)
class MappingKind:
    """A kind of value a connector needs the tool's own for: our warehouse -> its location, our tax
    -> its tax code, an account role -> its account. A person maps them per connection (the
    connection's Mappings tab, ``/connections/{id}/mappings/{kind}``); a push or an event needing a
    value with no mapping waits in the quarantine ("map tax code") and is replayed once it is mapped
    (``integrations.mappings.value_for``)."""

    key: str  # "tax_code"
    label: str  # "tax code": what the quarantine says ("map tax code")
    ours: str  # what our values are: a key of OURS ("warehouse", "tax", "account", ...)
    several: bool = False  # one of our values may map to several of the tool's (comma-separated)
    help: str = ""


# --- the contract -------------------------------------------------------------------


class Connector(ABC):
    """One tool. Subclasses declare what they are and map wire formats; the hub does the rest."""

    key: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    settings_schema: ClassVar[type[BaseModel]]
    secrets_schema: ClassVar[type[BaseModel]]
    # Outbox topic patterns this connector pushes ("inventory.level_changed", "sales.shipment_shipped").
    topics: ClassVar[tuple[str, ...]] = ()
    # Object types pulled on a schedule and compared by reconciliation ("order", "inventory").
    poll_object_types: ClassVar[tuple[str, ...]] = ()
    reconcile_object_types: ClassVar[tuple[str, ...]] = ()
    # The tool's webhook topics the hub keeps subscribed for this connection.
    webhook_topics: ClassVar[tuple[str, ...]] = ()
    # API version -> its sunset date (None: not announced). The first is the default.
    api_versions: ClassVar[Mapping[str, datetime.date | None]] = {}
    # The kind of sales channel a new connection of this tool sells through (ORDERS_IN only).
    channel_kind: ClassVar[str] = "web_store"
    # The data types ("inventory", "customer"…) whose truth is the tool's at the connection's
    # warehouse unless the connection's ownership rules say otherwise: a 3PL owns its on-hand.
    # Everything else is the hub's (integrations.ownership).
    tool_owns: ClassVar[frozenset[str]] = frozenset()
    # The tool's stock update can say "only if the count is still N" (Shopify's changeFromQuantity):
    # the hub then pushes against the tool's count. Without it, the hub subtracts the sales it
    # has been told of but not imported yet (integrations.in_flight).
    compare_and_set: ClassVar[bool] = False
    # How many items ``push_batch`` takes in one request (1: the tool has no batch endpoint).
    batch_size: ClassVar[int] = 1
    # The token bucket the hub keeps per connection: the bucket named "default".
    rate_limit_per_second: ClassVar[float] = 2.0
    rate_limit_burst: ClassVar[int] = 40
    # Named buckets of the tool's own limits, per operation (Amazon's getOrders, getOrderItems) or
    # with a concurrency cap or a daily quota; a request counts against the bucket it names
    # (``bucket=``), else ``bucket_for(method, url)``'s, else "default" (declare "default" here to
    # give it a concurrency cap or a daily quota).
    rate_buckets: ClassVar[Mapping[str, Bucket]] = {}
    # Header names whose values the request log redacts (besides those auth_headers() sets).
    secret_header_names: ClassVar[frozenset[str]] = frozenset({"authorization"})
    # JSON keys (and header or query names) whose values are personal data ("BuyerName",
    # "AddressLine1", "email", "phone"): the request log and stored webhook headers redact them;
    # stored bodies keep them for the appliers until the retention purge (integrations.retention).
    personal_fields: ClassVar[frozenset[str]] = frozenset()
    # Request headers kept with a stored webhook (lower case), besides content-type and
    # user-agent: what webhook_envelope() and parse_webhook() read when an event is processed
    # or replayed, and the tool's ids worth seeing. Anything else (a tool's custom auth
    # header, cookies) is never stored.
    webhook_headers: ClassVar[frozenset[str]] = frozenset()
    settle_seconds: ClassVar[float] = 0.0  # a webhook waits this long: its burst arrives whole (bursts.py)
    # The values a person maps per connection: our warehouses to its locations, our taxes to its tax
    # codes, account roles to its accounts (``mapping_choices`` lists the tool's side).
    mapping_kinds: ClassVar[tuple[MappingKind, ...]] = ()

    def __init__(self, connection: Connection, http: HttpClient) -> None:
        self.connection = connection
        self.http = http
        self.settings = self.settings_schema.model_validate(connection.settings)

    # --- configuration -------------------------------------------------------------

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "key": cls.key,
            "name": cls.name,
            "capabilities": sorted(c.value for c in cls.capabilities),
            "gives": sorted({r.__name__ for c in cls.capabilities & INBOUND for r in RECORDS[c]}),
            "takes": sorted({r.__name__ for c in cls.capabilities - INBOUND for r in RECORDS[c]}),
            "settings_schema": cls.settings_schema.model_json_schema(),
            "secrets": sorted(cls.secrets_schema.model_fields),
            "topics": list(cls.topics),
            "api_versions": {v: (d.isoformat() if d else None) for v, d in cls.api_versions.items()},
        }

    @abstractmethod
    def base_url(self) -> str:
        """Where the tool's API lives for this connection (settings may point it at a local fake)."""

    def hosts(self) -> frozenset[str]:
        """The hosts this connection's requests may carry its credentials to: the base URL's host,
        and more where a tool serves its API from several (a token endpoint, a regional host).
        The hub sends nothing to another host, and follows a URL a tool gave (a thin webhook's
        resource URL) only to one of these."""
        host = httpx.URL(self.base_url()).host
        return frozenset({host.lower()}) if host else frozenset()

    @abstractmethod
    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        """Headers that authenticate a request with the connection's current secrets."""

    def token_rejected(self, response: httpx.Response) -> bool:
        """Whether the tool refused the request's access token (expired or revoked): the hub then
        refreshes it once (``refresh_token``) and sends the request again. By default a 401; Amazon
        answers an expired token with 403 "Unauthorized"."""
        return response.status_code == 401

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """Exchange a refresh token for new secrets. None: this tool's tokens do not expire."""
        return None

    # The tool's OAuth 2.0 sign-in: the connection's page offers "Connect to <tool>" (the consent
    # page at the tool, then ``exchange_code``). None: the secrets are entered in the form.
    oauth: ClassVar[OAuth | None] = None

    def authorize_url(self) -> str:
        """Where the sign-in sends the person: ``oauth.authorize_url`` (relative to the API's base
        URL where the tool has one per account, as a Shopify shop). A connector whose consent page
        lives on another host overrides it to point a connection at a local fake's."""
        spec = self.oauth
        if spec is None:
            raise NotImplementedError(f"{self.key} has no OAuth sign-in")
        return spec.url(spec.authorize_url, self.base_url())

    def exchange_code(
        self, code: str, redirect_uri: str, callback: Mapping[str, str] | None = None
    ) -> TokenGrant:
        """Trade the code the consent page gave for tokens. By default: a form POST of
        ``grant_type=authorization_code`` to ``oauth.token_url`` with the client's credentials as the
        spec says, read as a standard token answer (``OAuth.grant``). ``callback`` is the whole query
        the tool sent back (QuickBooks adds ``realmId``): a connector that needs more of it returns
        it in ``TokenGrant.settings``."""
        spec = self.oauth
        if spec is None:
            raise NotImplementedError(f"{self.key} has no OAuth sign-in")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        data, headers = spec.token_request(self.connection.get_secrets(), form)
        response = self.http.request(
            "POST", spec.url(spec.token_url, self.base_url()), data=data, auth=headers
        )
        try:
            return spec.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            raise PermanentError(f"The token endpoint's answer cannot be read: {exc}") from exc

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        """Read the tool's rate-limit headers. The hub handles 429 + Retry-After itself."""
        return None

    def bucket_for(self, method: str, url: str) -> str | None:
        """The ``rate_buckets`` name a request counts against when it names none (by the URL's
        path: Amazon's /orders/v0/orders is getOrders). None: the "default" bucket."""
        return None

    # --- inbound -----------------------------------------------------------------------

    # The tool sends every account's events to one address (QuickBooks, HubSpot): they arrive at
    # POST /integrations/hooks/app/<key>/ and each goes to the connection whose account_id() it names.
    app_webhooks: ClassVar[bool] = False

    @abstractmethod
    def verify_webhook(self, request: WebhookRequest) -> bool:
        """True if the delivery is authentic: its signature (over what the tool signs: the body,
        the method and URL, a timestamp within the tool's window, checked against
        ``request.received_at``) or its secret token. Compare in constant time."""

    @abstractmethod
    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        """The events of a verified delivery, each with its own id, topic and claimed account
        (and its own bytes when the delivery carries several). Raises ValueError on a delivery
        it cannot read."""

    def account_id(self) -> str | None:
        """The tool's account this connection is for, as webhooks name it (normalised like
        ``WebhookEnvelope.account``). None: the tool's webhooks name no account.

        One app secret often signs the webhooks of every account that installed the app
        (Shopify does), so a valid signature alone does not say the event is this
        connection's: the hub refuses a webhook whose account is not this one.
        """
        return None

    @abstractmethod
    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        """The items a stored webhook carries. Raises ValueError on a body it cannot read."""

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        """Re-read one record's current state (for thin events and replays)."""
        raise NotImplementedError(f"{self.key} cannot fetch {object_type}")

    def fetch_url(self, object_type: str, url: str) -> list[InboundItem]:
        """Read what a thin event's URL points at (one record or a batch). The hub has checked that
        the URL is on one of ``hosts()``."""
        raise NotImplementedError(f"{self.key} cannot read a resource URL")

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        """One page of records of ``object_type`` changed since ``since``."""
        raise NotImplementedError(f"{self.key} does not pull {object_type}")

    # --- outbound ----------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        """Send one resolved outbound item to the tool, with ``context.idempotency_key`` as the
        tool's idempotency field where it has one."""
        raise NotImplementedError(f"{self.key} does not push {type(item).__name__}")

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """Push up to ``batch_size`` items in one request (HubSpot's batch upsert, ShipStation's
        createorders): one result per item, in order, each a PushResult or the error the tool gave
        for that item (a 207's partial failures). An error of the whole request (throttled,
        refused credentials, a timeout) is raised, and counts for every item."""
        raise NotImplementedError(f"{self.key} has no batch endpoint")

    def job_status(self, job_id: str) -> JobStatus:
        """Where a job the tool accepted (``PushResult.job_id``) stands."""
        raise NotImplementedError(f"{self.key} runs no jobs")

    def read_version(self, object_type: str, external_id: str) -> str:
        """The tool's current version of a record (after a StaleVersion conflict)."""
        raise NotImplementedError(f"{self.key} keeps no versions of {object_type}")

    # --- reconciliation and health -------------------------------------------------------

    def inventory_snapshot(self, items: list[InventoryOut]) -> dict[str, int | None]:
        """The tool's available quantity per variant external id (None: the tool has no level)."""
        raise NotImplementedError(f"{self.key} cannot read inventory")

    def read_back(self, object_type: str, external_ids: list[str]) -> dict[str, Mapping[str, str] | None]:
        """The tool's current values of records the hub pushed there ("customer", "invoice",
        "payment"), per external id, in the hub's words: the fields of the out-record by name
        (``CustomerOut.name``, ``.email``; ``InvoiceOut.total``, ``.customer_external_id``,
        ``.voided``; ``PaymentOut.amount``, ``.document_external_id``), as strings (amounts as the
        tool has them, booleans "true"/"false"). None: the tool has no such record (deleted there).
        Reconciliation compares them with what the hub would push now."""
        raise NotImplementedError(f"{self.key} cannot read back {object_type}")

    def record_url(self, object_type: str, external_id: str) -> str:
        """Where a person sees one of the tool's records in the tool's own web app (an invoice, a
        customer: the object types of ``read_back`` and of drifts), for the reconciliation report's
        link to the tool's side. "": the tool has no page for it (the default)."""
        return ""

    def field_owners(self) -> Mapping[str, Owner]:
        """Who owns each customer field the tool keeps (``integrations.field_owners``: our field
        names -> hub, tool or latest), usually ``field_owners.rules(<the connection's settings>)``
        narrowed to the fields the tool has. {} (the default): no field rules, the hub sends every
        field and takes a tool's name, email, phone and tax id as they come (an accounting tool)."""
        return {}

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        """The tool's values of a mapping kind, read from the tool: (its id or code, its label), e.g.
        QuickBooks' tax codes or chart of accounts. [] where the tool has no list (free text)."""
        return []

    def list_webhooks(self) -> list[str]:
        """The webhook topics currently subscribed at the tool for this connection."""
        return []

    def register_webhook(self, topic: str, address: str) -> None:
        """Subscribe ``address`` to ``topic`` at the tool."""
        raise NotImplementedError(f"{self.key} cannot register webhooks")

    @abstractmethod
    def test(self) -> str:
        """Make one cheap authenticated call; return what it says (a shop name). Raise on failure."""
