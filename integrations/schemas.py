"""Schemas of the integrations and webhooks APIs: what comes in (``*In``) and goes out (``*Out``).

Secrets are write-only: they come in (``ConnectionIn.secrets``) and never go out; a
connection's answer lists only the NAMES of the secrets it holds (``secret_names``).
A webhook subscription's signing secret goes out once, in the answer that created it
(or rotated it): ``SubscriptionSecretOut``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from integrations.models import (
    Connection,
    Delivery,
    Drift,
    ExternalRef,
    InboundEvent,
    SyncRun,
    WebhookSubscription,
)

SHOPIFY_SETTINGS = {"shop_domain": "example.myshopify.com", "api_version": "2025-07", "location_id": 1}
SHOPIFY_SECRETS = {"access_token": "shpat_0123456789abcdef", "client_secret": "shpss_0123456789abcdef"}


# --- connectors -----------------------------------------------------------------------------------


class ConnectorOut(Schema):
    key: str = Field(examples=["shopify"])
    name: str = Field(examples=["Shopify"])
    capabilities: list[str] = Field(examples=[["inventory_out", "orders_in"]])
    gives: list[str] = Field(description="the canonical records it brings in", examples=[["OrderRecord"]])
    takes: list[str] = Field(description="the canonical records it sends out", examples=[["InventoryOut"]])
    settings_schema: dict[str, Any] = Field(description="JSON Schema of the connection settings")
    secrets: list[str] = Field(
        description="names of the secrets a connection needs", examples=[["access_token"]]
    )
    topics: list[str] = Field(description="outbox topics it pushes", examples=[["inventory.level_changed"]])
    api_versions: dict[str, str | None] = Field(
        description="API version -> its sunset date (null: not announced)",
        examples=[{"2025-07": "2026-07-01"}],
    )
    poll_object_types: list[str] = Field(examples=[["order"]])
    reconcile_object_types: list[str] = Field(examples=[["inventory", "order"]])
    webhook_topics: list[str] = Field(description="the tool's webhook topics kept subscribed")


# --- connections ----------------------------------------------------------------------------------


class WarehouseRefOut(Schema):
    id: int
    code: str = Field(examples=["MAIN"])


class ChannelRefOut(Schema):
    id: int
    code: str = Field(examples=["shopify"])
    name: str


class ConnectionOut(Schema):
    id: int
    connector: str = Field(examples=["shopify"])
    name: str = Field(examples=["EU web store"])
    status: str = Field(description="active, paused, needs_reauth or failing", examples=["active"])
    settings: dict[str, Any] = Field(examples=[SHOPIFY_SETTINGS])
    secret_names: list[str] = Field(
        description="which secrets are set; their values are never returned",
        examples=[["access_token", "client_secret"]],
    )
    api_version: str = Field(examples=["2025-07"])
    warehouse: WarehouseRefOut | None
    sales_channel: ChannelRefOut | None
    cursors: dict[str, Any]
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str
    token_expires_at: datetime | None
    webhooks_missing: list[str]
    open_deliveries: int = Field(0, description="deliveries pending or retrying")
    dead_letters: int = Field(0, description="deliveries that gave up: retry them by hand")
    quarantined: int = Field(0, description="inbound events waiting for a mapping")
    failed_events: int = Field(0, description="inbound events failed or dead")
    open_drifts: int = Field(0)
    last_sync_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_secret_names(obj: Connection) -> list[str]:
        return obj.secret_names

    @staticmethod
    def resolve_warehouse(obj: Connection) -> dict[str, Any] | None:
        w = obj.warehouse
        return {"id": w.pk, "code": w.code} if w is not None else None

    @staticmethod
    def resolve_sales_channel(obj: Connection) -> dict[str, Any] | None:
        c = obj.sales_channel
        return {"id": c.pk, "code": c.code, "name": c.name} if c is not None else None


class ConnectionFilterIn(Schema):
    q: str | None = Field(None, description="part of the name")
    connector: str | None = Field(None, examples=["shopify"])
    status: str | None = Field(None, examples=["active"])
    ordering: str | None = Field(None, description="name, created_at, updated_at; '-' for descending")
    updated_since: datetime | None = Field(
        None, description="only connections changed at or after this moment"
    )


class ConnectionIn(Schema):
    connector: str = Field(max_length=40, examples=["shopify"])
    name: str = Field(max_length=100, examples=["EU web store"])
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="validated against the connector's settings_schema",
        examples=[SHOPIFY_SETTINGS],
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="write-only: stored encrypted, never returned",
        examples=[SHOPIFY_SECRETS],
    )
    api_version: str = Field("", max_length=20, description="the connector's default when empty")
    warehouse: int | None = Field(None, description="id of the warehouse it maps to")
    sales_channel: int | None = Field(None, description="id of the sales channel it maps to")


class ConnectionPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    settings: dict[str, Any] | None = Field(
        None, description="partial: the keys given replace the stored ones", examples=[{"location_id": 2}]
    )
    secrets: dict[str, str] | None = Field(
        None,
        description="only the secrets given replace the stored ones; an empty value keeps it",
        examples=[{"access_token": "shpat_new0123456789"}],
    )
    api_version: str | None = Field(None, max_length=20)
    warehouse: int | None = Field(None, description="null unmaps")
    sales_channel: int | None = Field(None, description="null unmaps")


class OwnershipRuleOut(Schema):
    """One line of who owns what: a rule someone set, or the connector's default."""

    data_type: str = Field(description="inventory, customer, order or product", examples=["inventory"])
    warehouse: int | None = Field(description="the warehouse's id; null: every (other) location")
    location: str = Field(examples=["WH1 · Main warehouse"])
    owner: str = Field(description="hub or tool", examples=["tool"])
    owner_label: str = Field(examples=["ShipBob (3PL)"])
    default: bool = Field(description="the connector's default, not a rule someone set")


class OwnershipRuleIn(Schema):
    data_type: str = Field(
        description="one the connector sends or takes: inventory, customer, order or product",
        examples=["inventory"],
    )
    warehouse: int | None = Field(
        None, description="id of the warehouse (inventory only); null: every location"
    )
    owner: str = Field(description="hub or tool", examples=["tool"])


class ObjectTypeIn(Schema):
    object_type: str | None = Field(
        None, description="one of the connector's types; all of them when left out"
    )


# --- sync runs and the request log ----------------------------------------------------------------


class RequestLogOut(Schema):
    id: int
    method: str = Field(examples=["POST"])
    url: str
    status_code: int | None = Field(examples=[200])
    duration_ms: int
    request_headers: dict[str, Any] = Field(description="secrets redacted")
    request_body: str = Field(description="an excerpt, secrets redacted")
    response_headers: dict[str, Any]
    response_body: str
    error: str
    created_at: datetime


class SyncRunOut(Schema):
    id: int
    connection: int
    job: str = Field(examples=["poll"])
    object_type: str = Field(examples=["order"])
    status: str = Field(examples=["succeeded"])
    started_at: datetime
    finished_at: datetime | None
    created: int
    updated: int
    skipped: int
    failed: int
    errors: list[Any] = Field(description='messages: {"level": "error"|"warning"|"info", "message": …}')
    cursor_before: str
    cursor_after: str
    request_count: int = 0

    @staticmethod
    def resolve_connection(obj: SyncRun) -> int:
        return obj.connection_id


class SyncRunDetailOut(SyncRunOut):
    requests: list[RequestLogOut]


class SyncRunFilterIn(Schema):
    connection: int | None = None
    job: str | None = Field(None, examples=["reconcile"])
    status: str | None = Field(None, examples=["failed"])
    object_type: str | None = None
    ordering: str | None = Field(None, description="started_at; '-' for descending (default: newest first)")


# --- deliveries -----------------------------------------------------------------------------------


class DeliveryOut(Schema):
    id: int
    delivery_id: UUID
    event_id: UUID = Field(description="the outbox event's stable id (webhook-id for subscriptions)")
    topic: str = Field(examples=["inventory.level_changed"])
    connection: int | None
    subscription: int | None
    status: str = Field(description="pending, succeeded, failed (retrying), dead, superseded, skipped")
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    response_excerpt: str
    coalesce_key: str
    created_at: datetime
    delivered_at: datetime | None

    @staticmethod
    def resolve_event_id(obj: Delivery) -> UUID:
        return obj.event.event_id

    @staticmethod
    def resolve_connection(obj: Delivery) -> int | None:
        return obj.connection_id

    @staticmethod
    def resolve_subscription(obj: Delivery) -> int | None:
        return obj.subscription_id


class DeliveryFilterIn(Schema):
    connection: int | None = None
    subscription: int | None = None
    status: str | None = Field(
        None, description="open (pending or retrying), or one status", examples=["dead"]
    )
    topic: str | None = Field(None, description="topic prefix", examples=["inventory."])
    ordering: str | None = Field(None, description="created_at; '-' for descending (default: newest first)")


class SubscriptionDeliveryFilterIn(Schema):
    status: str | None = Field(None, examples=["dead"])
    topic: str | None = None


# --- inbound events and the quarantine ------------------------------------------------------------


class InboundEventOut(Schema):
    id: int
    connection: int
    external_id: str = Field(description="the tool's event or delivery id")
    source: str = Field(examples=["webhook"])
    topic: str = Field(examples=["orders/create"])
    status: str = Field(examples=["processed"])
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    missing: dict[str, Any] = Field(
        description='what a quarantined event waits for: {"kind": "sku", "value": …}'
    )
    result: dict[str, Any]
    received_at: datetime
    processed_at: datetime | None

    @staticmethod
    def resolve_connection(obj: InboundEvent) -> int:
        return obj.connection_id


class InboundEventDetailOut(InboundEventOut):
    headers: dict[str, Any]
    body: str = Field(description="the raw body as received")

    @staticmethod
    def resolve_body(obj: InboundEvent) -> str:
        return obj.body_text()


class InboundEventFilterIn(Schema):
    connection: int | None = None
    status: str | None = Field(None, examples=["failed"])
    source: str | None = None
    topic: str | None = Field(None, description="topic prefix")
    q: str | None = Field(None, description="event id prefix")
    ordering: str | None = Field(None, description="received_at; '-' for descending (default: newest first)")


class QuarantineOut(Schema):
    connection: int
    connection_name: str
    kind: str = Field(examples=["sku"])
    value: str = Field(examples=["STOVE-TI-01"])
    events: int = Field(description="how many events wait for it")
    first_received_at: datetime
    last_received_at: datetime

    @staticmethod
    def resolve_connection(obj: Any) -> int:
        return int(obj.connection_id)


class QuarantineFilterIn(Schema):
    connection: int | None = None


class MapSkuIn(Schema):
    connection: int
    sku: str = Field(max_length=255, examples=["STOVE-TI-01"], description="the SKU in the tool")
    product: int = Field(description="id of the product it is here")


class MapSkuOut(Schema):
    connection: int
    sku: str
    product: int
    product_sku: str
    replayed: int = Field(description="events that waited for it, now processed again")


# --- reconciliation -------------------------------------------------------------------------------


class DriftOut(Schema):
    id: int
    connection: int
    sync_run: int | None
    object_type: str = Field(examples=["inventory"])
    external_id: str
    label: str = Field(examples=["TENT-2P-GRN"])
    kind: str = Field(examples=["quantity_mismatch"])
    hub_value: str = Field(examples=["40"])
    tool_value: str = Field(examples=["12"])
    healable: bool
    status: str = Field(examples=["open"])
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @staticmethod
    def resolve_connection(obj: Drift) -> int:
        return obj.connection_id

    @staticmethod
    def resolve_sync_run(obj: Drift) -> int | None:
        return obj.sync_run_id

    @staticmethod
    def resolve_resolved_by(obj: Drift) -> str | None:
        return obj.resolved_by.get_username() if obj.resolved_by is not None else None


class DriftFilterIn(Schema):
    connection: int | None = None
    status: str | None = Field(None, examples=["open"])
    object_type: str | None = None
    kind: str | None = None


# --- health ---------------------------------------------------------------------------------------


class ConnectionHealthOut(Schema):
    connection: int
    status: str
    level: str = Field(description="ok, warning or error")
    problems: list[str] = Field(examples=[["2 dead deliveries."]])
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str
    error_rate: float = Field(description="failed runs and deliveries / all of them, last 24 h")
    runs_24h: int
    runs_failed_24h: int
    deliveries_24h: int
    deliveries_failed_24h: int
    pending_deliveries: int
    dead_deliveries: int
    quarantined_events: int
    failed_events: int
    open_drifts: int
    webhooks_missing: list[str]
    webhooks_checked_at: datetime | None
    token_expires_at: datetime | None
    token_expiring: bool
    api_version: str
    api_version_sunset: date | None
    api_version_sunsetting: bool
    hook_url: str = Field(description="where the tool delivers this connection's webhooks")


# --- external refs (mappings) ---------------------------------------------------------------------


class RefOut(Schema):
    id: int
    object_type: str = Field(examples=["sku"])
    external_id: str = Field(examples=["TENT-2P-GRN"])
    internal_type: str = Field(examples=["inventory.product"])
    internal_id: int
    product_sku: str | None = Field(None, description="for refs to products")
    external_updated_at: datetime | None
    external_version: str
    extra: dict[str, Any]
    synced_at: datetime

    @staticmethod
    def resolve_internal_type(obj: ExternalRef) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    @staticmethod
    def resolve_internal_id(obj: ExternalRef) -> int:
        return obj.object_id


class RefFilterIn(Schema):
    object_type: str | None = Field(None, examples=["sku"])
    q: str | None = Field(None, description="external id prefix")


class SkuMappingIn(Schema):
    sku: str = Field(max_length=255, examples=["TENT-2P-GRN"], description="the SKU in the tool")
    product: int = Field(description="id of the product here")


# --- webhook subscriptions ------------------------------------------------------------------------


class SubscriptionOut(Schema):
    id: int
    url: str = Field(examples=["https://example.com/hooks/erp"])
    topics: list[str] = Field(examples=[["sales.*", "inventory.level_changed"]])
    description: str
    is_active: bool
    user: str = Field(description="the owner's username")
    open_deliveries: int = 0
    dead_letters: int = 0
    succeeded: int = 0
    last_delivered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_user(obj: WebhookSubscription) -> str:
        return obj.user.get_username()


class SubscriptionSecretOut(SubscriptionOut):
    secret: str = Field(
        description="the signing secret (Standard Webhooks, whsec_…): shown in this answer only",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class SubscriptionIn(Schema):
    url: str = Field(max_length=500, examples=["https://example.com/hooks/erp"])
    topics: list[str] = Field(min_length=1, examples=[["sales.*", "inventory.level_changed"]])
    description: str = Field("", max_length=200)
    secret: str | None = Field(None, description="your own whsec_… secret; generated when left out")


class SubscriptionPatchIn(Schema):
    url: str | None = Field(None, max_length=500)
    topics: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class SubscriptionFilterIn(Schema):
    is_active: bool | None = None
    q: str | None = Field(None, description="part of the URL or description")
    all: bool = Field(False, description="integration admins: everyone's subscriptions, not only yours")


# --- value mappings (our warehouses, taxes, accounts... -> the tool's) ------------------------------


class ValueMappingOut(Schema):
    id: int
    kind: str = Field(examples=["tax_code"])
    our_value: str = Field(examples=["VAT 20%"])
    tool_value: str = Field(description="the tool's id or code (several: comma-separated)", examples=["4"])
    tool_label: str = Field(description="what the tool calls it", examples=["Standard rate 20%"])
    updated_at: datetime


class MappingChoiceOut(Schema):
    value: str = Field(examples=["4"])
    label: str = Field(examples=["Standard rate 20%"])


class MappingKindOut(Schema):
    """A kind of value the connector needs the tool's own for, with the connection's mappings."""

    key: str = Field(examples=["tax_code"])
    label: str = Field(examples=["tax code"])
    ours: str = Field(
        description="what our values are: warehouse, tax, account, payment_method, carrier, service, "
        "channel, pipeline_stage or property",
        examples=["tax"],
    )
    several: bool = Field(description="one of our values may map to several of the tool's")
    help: str
    mappings: list[ValueMappingOut]


class MappingKindDetailOut(MappingKindOut):
    our_choices: list[MappingChoiceOut] = Field(description="our values of the kind, to map")
    tool_choices: list[MappingChoiceOut] = Field(
        description="the tool's values, read from it now; empty where it lists none (any value goes)"
    )
    tool_choices_error: str = Field(description="why the tool's values could not be read, if so")
    waiting: list[str] = Field(
        description="our values that events or deliveries wait for (quarantined until mapped)",
        examples=[["VAT 20%"]],
    )


class ValueMappingIn(Schema):
    our_value: str = Field(max_length=255, examples=["VAT 20%"])
    tool_value: str = Field(
        max_length=255,
        description="one of the tool's values where it lists them (several: comma-separated)",
        examples=["4"],
    )
    tool_label: str = Field("", max_length=255, description="its label, where the tool lists none")


class ValueMappingSavedOut(Schema):
    mapping: ValueMappingOut
    created: bool
    replayed_events: int = Field(description="quarantined events that waited for it, replayed")
    replayed_deliveries: int = Field(description="dead deliveries that waited for it, retried")
