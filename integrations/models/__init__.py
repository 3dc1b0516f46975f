"""The integration hub's tables.

A Connection is one configured instance of a connector. Everything the hub
knows about the outside world hangs off it: the ids of other systems
(ExternalRef, the only place they live), the raw inbound events, the outbound
deliveries, the sync runs with their HTTP request log, and the drifts found by
reconciliation. API users' outbound webhook subscriptions share the Delivery
machinery with connections.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from erp import crypto
from erp.models import AuditedModel, OutboxEvent, audit_history


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
    FAILING = "failing", "Failing"


class Connection(AuditedModel):
    """One configured instance of a connector: two Shopify stores are two connections."""

    connector = models.CharField(max_length=40, db_index=True, help_text="The connector's registry key.")
    name = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE, db_index=True
    )
    settings = models.JSONField(
        default=dict, blank=True, help_text="Validated against the connector's schema."
    )
    secrets_encrypted = models.TextField(blank=True, editable=False)
    api_version = models.CharField(max_length=20, blank=True)
    cursors = models.JSONField(default=dict, blank=True, help_text="Sync cursors per object type.")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sales_channel = models.ForeignKey(
        "sales.SalesChannel", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Auth state kept by the hub (one refresh at a time, under the refresh lease below: tokens.py).
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # When the refresh token itself runs out (QuickBooks: 100 days, renewed by every refresh): the
    # connection must be re-authorised before then.
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    # One refresh at a time per connection, without holding a row lock across the call to the
    # token endpoint: a worker that refreshes holds this lease until then.
    refreshing_until = models.DateTimeField(null=True, blank=True)
    # Rate limiting: a token bucket per connection, and the tool's own "wait until".
    rate_tokens = models.FloatField(default=0)
    rate_refilled_at = models.DateTimeField(null=True, blank=True)
    throttled_until = models.DateTimeField(null=True, blank=True)
    # Health.
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    webhooks_checked_at = models.DateTimeField(null=True, blank=True)
    webhooks_missing = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # Secrets are write-only from the outside: set as a whole, read only by the hub.
    def get_secrets(self) -> dict[str, Any]:
        if not self.secrets_encrypted:
            return {}
        loaded: dict[str, Any] = json.loads(crypto.decrypt(self.secrets_encrypted))
        return loaded

    def set_secrets(self, secrets: dict[str, Any]) -> None:
        self.secrets_encrypted = crypto.encrypt(json.dumps(secrets, sort_keys=True)) if secrets else ""

    @property
    def secret_names(self) -> list[str]:
        return sorted(self.get_secrets())

    @property
    def is_active(self) -> bool:
        return self.status == ConnectionStatus.ACTIVE


class ExternalRef(models.Model):
    """(connection, object type, external id) -> an internal record; the only home of foreign ids."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="refs", db_index=False)
    object_type = models.CharField(max_length=40, help_text="order, variant, sku, customer, location…")
    external_id = models.CharField(max_length=255)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    internal = GenericForeignKey("content_type", "object_id")
    external_updated_at = models.DateTimeField(null=True, blank=True)
    external_version = models.CharField(max_length=64, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="Of the content last synced in.")
    pushed_hash = models.CharField(max_length=64, blank=True, help_text="Of the content we last pushed out.")
    extra = models.JSONField(default=dict, blank=True, help_text="Connector-specific ids (inventory item…).")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "object_type", "external_id"], name="integrations_externalref_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["connection", "object_type", "content_type", "object_id"],
                name="integrations_ref_internal_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.object_type}:{self.external_id}"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    SKIPPED = "skipped", "Skipped"  # stale or no change
    FAILED = "failed", "Failed (retrying)"
    QUARANTINED = "quarantined", "Quarantined"
    DEAD = "dead", "Dead"


class InboundEvent(models.Model):
    """A raw event from a tool, stored before we answer; processed by a task."""

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Poll"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="inbound_events", db_index=False
    )
    external_id = models.CharField(max_length=255, help_text="The tool's event/delivery id.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEBHOOK)
    topic = models.CharField(max_length=100)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField()
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    missing = models.JSONField(
        default=dict, blank=True, help_text='What a quarantined event waits for: {"kind": "sku", "value": …}.'
    )
    result = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="integrations_inbound_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["connection", "status", "received_at"], name="integrations_inbound_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="integrations_inbound_retry_idx",
                condition=Q(status__in=["received", "failed"]),
            ),
            # What the retention purge has still to do (integrations.retention): a purged body
            # leaves the index, so the daily run never reads the purged history again.
            models.Index(
                fields=["processed_at"],
                name="integrations_inbound_purge_idx",
                condition=Q(status__in=["processed", "skipped"]) & ~Q(body=b""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.external_id}"

    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(bytes(self.body))


class WebhookSubscription(AuditedModel):
    """An API user's outbound webhook: signed per the Standard Webhooks spec."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=500)
    topics = models.JSONField(
        default=list, help_text='Topic patterns: ["sales.*", "inventory.level_changed"].'
    )
    secret_encrypted = models.TextField(editable=False)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def get_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retrying)"
    DEAD = "dead", "Dead letter"
    SUPERSEDED = "superseded", "Superseded"  # coalesced into a later delivery
    SKIPPED = "skipped", "Skipped"  # nothing to do (no mapping, echo of our own change)


class Delivery(models.Model):
    """One outbox event pushed to one target: a connection or a webhook subscription."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    topic = models.CharField(max_length=100)
    coalesce_key = models.CharField(
        max_length=100,
        blank=True,
        help_text="Deliveries with the same key and target collapse into one push.",
    )
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A worker attempting the delivery holds it until then (a lease: a crashed worker's claim expires).
    claimed_until = models.DateTimeField(null=True, blank=True)
    # What a delivery dead for want of a person waits for ({"kind": "tax code", "value": "VAT20"}):
    # retried together once it is there (a value mapped).
    missing = models.JSONField(default=dict, blank=True)
    # The tool took the push as an asynchronous job (an Amazon feed): polled until it is done.
    job_id = models.CharField(max_length=200, blank=True)
    # A replay is a new delivery of the same event to the same target; the log keeps both.
    # Waiting for another delivery to land first (a customer before its invoice): attempted again
    # as soon as that one succeeds.
    blocked_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="blocking"
    )
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=(Q(connection__isnull=False) & Q(subscription__isnull=True))
                | (Q(connection__isnull=True) & Q(subscription__isnull=False)),
                name="integrations_delivery_one_target",
            ),
            models.UniqueConstraint(
                fields=["event", "connection"],
                name="integrations_delivery_event_connection_unique",
                condition=Q(connection__isnull=False, replay_of__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["event", "subscription"],
                name="integrations_delivery_event_subscription_unique",
                condition=Q(subscription__isnull=False, replay_of__isnull=True),
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="integrations_delivery_due_idx",
                condition=Q(status__in=["pending", "failed"]),
            ),
            models.Index(
                fields=["connection", "status", "created_at"], name="integrations_delivery_conn_idx"
            ),
            models.Index(
                fields=["subscription", "status", "created_at"], name="integrations_delivery_sub_idx"
            ),
            models.Index(
                fields=["connection", "coalesce_key", "status"],
                name="integrations_delivery_coal_idx",
                condition=~Q(coalesce_key=""),
            ),
            models.Index(
                fields=["connection", "job_id"],
                name="integrations_delivery_job_idx",
                condition=~Q(job_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.connection or self.subscription} ({self.status})"

    @property
    def target_label(self) -> str:
        return str(self.connection or self.subscription)


class SyncJob(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Poll"
    PUSH = "push", "Push"
    RECONCILE = "reconcile", "Reconcile"
    IMPORT = "import", "Import"
    TEST = "test", "Test connection"
    HEALTH = "health", "Health check"


class SyncRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """One unit of sync work for a connection, with its counts and errors."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="sync_runs", db_index=False
    )
    job = models.CharField(max_length=12, choices=SyncJob.choices)
    object_type = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=SyncRunStatus.choices, default=SyncRunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    cursor_before = models.CharField(max_length=100, blank=True)
    cursor_after = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "job", "started_at"], name="integrations_syncrun_idx")]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.job} {self.status}"


class RequestLog(models.Model):
    """One outbound HTTP request, secrets redacted, tied to its sync run or delivery."""

    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="request_logs",
        db_index=False,
    )
    sync_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    method = models.CharField(max_length=10)
    url = models.CharField(max_length=1000)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["connection", "created_at"], name="integrations_reqlog_idx"),
            models.Index(  # the retention purge's (see InboundEvent)
                fields=["created_at"],
                name="integrations_reqlog_purge_idx",
                condition=~Q(response_body="[body purged]"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url} {self.status_code}"


class DriftStatus(models.TextChoices):
    OPEN = "open", "Open"
    HEALED = "healed", "Healed"
    RESOLVED = "resolved", "Resolved by a person"


class Drift(models.Model):
    """A difference between the tool's state and the hub's, found by reconciliation."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="drifts", db_index=False
    )
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_type = models.CharField(max_length=40)
    external_id = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=255, help_text="What a person recognises: a SKU, an order number.")
    kind = models.CharField(max_length=40, help_text="quantity_mismatch, missing_here, duplicate_here, …")
    hub_value = models.CharField(max_length=255, blank=True)
    tool_value = models.CharField(max_length=255, blank=True)
    healable = models.BooleanField(default=False, help_text="The hub is the source of truth and can re-push.")
    status = models.CharField(
        max_length=10, choices=DriftStatus.choices, default=DriftStatus.OPEN, db_index=True
    )
    detected_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "status", "object_type"], name="integrations_drift_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.label}"


class OwnershipRule(AuditedModel):
    """Who owns one kind of data of a connection at a location: the hub, or the tool.

    A 3PL's on-hand at its warehouse is the tool's truth; the hub's stock everywhere else is the
    hub's. Reconciliation heals toward the owner, and what a tool sends about data it does not own
    is compared, never applied (integrations.ownership reads these rules). ``warehouse`` null: every
    location of the connection. Without a rule, the connector's ``tool_owns`` decides.
    """

    class DataType(models.TextChoices):
        INVENTORY = "inventory", "Inventory"
        CUSTOMER = "customer", "Customers"
        ORDER = "order", "Orders"
        PRODUCT = "product", "Products"

    class Owner(models.TextChoices):
        HUB = "hub", "The hub"
        TOOL = "tool", "The tool"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="ownership_rules", db_index=False
    )
    data_type = models.CharField(max_length=20, choices=DataType.choices)
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every location of the connection.",
    )
    owner = models.CharField(max_length=10, choices=Owner.choices)
    history = audit_history()

    class Meta:
        ordering = ["connection", "data_type", "id"]
        constraints = [
            # Two partial constraints rather than nulls_distinct=False, which only PostgreSQL 15+ has.
            models.UniqueConstraint(
                fields=["connection", "data_type", "warehouse"],
                condition=Q(warehouse__isnull=False),
                name="integrations_ownership_unique_at",
            ),
            models.UniqueConstraint(
                fields=["connection", "data_type"],
                condition=Q(warehouse__isnull=True),
                name="integrations_ownership_unique_everywhere",
            ),
        ]
        indexes = [models.Index(fields=["connection", "data_type"], name="integrations_ownership_idx")]

    def __str__(self) -> str:
        where = self.warehouse_id if self.warehouse_id is not None else "every location"
        return f"{self.connection_id}:{self.data_type}@{where} -> {self.owner}"


class RateBucket(models.Model):
    """The state of one of a connection's rate-limit buckets (``Connector.rate_buckets``): tokens
    refilled at the bucket's rate, what the tool said to wait for, requests in flight (a
    concurrency cap) and the day's count (a daily quota). Taken under this row's lock, never the
    Connection's; with a broker configured the state may live in Redis instead."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="rate_buckets", db_index=False
    )
    name = models.CharField(max_length=60)
    tokens = models.FloatField(default=0)
    refilled_at = models.DateTimeField(null=True, blank=True)
    throttled_until = models.DateTimeField(null=True, blank=True)
    in_flight = models.PositiveIntegerField(default=0)
    day = models.DateField(null=True, blank=True)
    used_today = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["connection", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "name"], name="integrations_ratebucket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.name}"


class ValueMapping(AuditedModel):
    """Our value of a kind -> the tool's, per connection: a warehouse to a tool location, an account,
    a tax code, a payment method, a carrier and service, a store, a pipeline stage. The kinds are
    the connector's (``Connector.mapping_kinds``); a record needing a value with no mapping waits
    for a person ("map X") and is replayed once it is mapped."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="value_mappings", db_index=False
    )
    kind = models.CharField(max_length=40)
    our_value = models.CharField(max_length=255, help_text="ours: a warehouse code, a tax rate name, ...")
    tool_value = models.CharField(max_length=255, help_text="the tool's id or code for it")
    tool_label = models.CharField(max_length=255, blank=True, help_text="what the tool calls it")
    history = audit_history()

    class Meta:
        ordering = ["connection", "kind", "our_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "our_value"], name="integrations_valuemapping_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.our_value} -> {self.tool_value}"


from integrations.models.routing import FulfilmentRule  # noqa: E402, F401  (tables of their own module)
