"""The shared kernel's tables: outbox events, API keys, area permissions, audit bases."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from erp.access import area_permissions
from erp.money import CurrencyField


class User(AbstractUser):
    """The project's user: Django's, kept swappable-in-place from day one."""

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"


class AreaAccess(models.Model):
    """Holds the area permissions (erp.<area>_read / erp.<area>_write); has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = area_permissions()  # type: ignore[assignment]
        verbose_name = "area access"

    def __str__(self) -> str:
        return "area access"


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ApiKeyHistory(models.Model):
    """What every change-history row records besides its user: the API key the change came
    through (null for a browser session, a task or a command). Filled by erp.history."""

    history_api_key = models.ForeignKey(
        "erp.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The API key the change was made with.",
    )

    class Meta:
        abstract = True


class AuditHistory(HistoricalRecords):
    """simple-history's records, with an index only where a history is read from.

    A history table is read by its record's id (a record's history, newest first: the admin's
    history page, ``integrations.outbound_crm``), by ``history_date`` and through its user and API
    key (set to null when they are deleted). simple-history also indexes its copy of every other
    indexed field of the record (its foreign keys, ``created_at``, ``updated_at``, a unique
    number): no query reads those, and every save of an audited record wrote to each of them.
    """

    def copy_fields(self, model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


def audit_history(**kwargs: Any) -> HistoricalRecords:
    """The change history of a model: who changed what, when, and through which API key."""
    return AuditHistory(bases=[ApiKeyHistory], **kwargs)


class AuditedModel(TimeStampedModel):
    """Who and when on every document and master record.

    Subclasses also declare ``history = audit_history()`` for the change history.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True


class AggregateSequence(models.Model):
    """The last event sequence number handed out per aggregate (see erp.events)."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    last_sequence = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="erp_aggregate_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id}@{self.last_sequence}"


class NumberSequence(models.Model):
    """Gapless document numbers per key (see erp.numbering)."""

    key = models.CharField(max_length=64, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}@{self.last_value}"


class OutboxEvent(models.Model):
    """Something that happened, written in the transaction that made it happen."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=100)  # lower case, dotted: "sales.order_created"
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    sequence = models.PositiveBigIntegerField()
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Who made it happen (erp.actor): a person in the browser, an API key, a connector, or the
    # system (blank). ``actor`` is the name as it was then, kept when the user or key goes.
    actor = models.CharField(max_length=150, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"],
                name="erp_outbox_aggregate_sequence_unique",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="erp_outbox_sequence_positive"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="erp_outbox_pending_idx",
                condition=Q(dispatched_at__isnull=True),
            ),
            # A topic, or topics by prefix (the events list's filter): one index serves both.
            models.Index(fields=["topic"], name="erp_outbox_topic_idx", opclasses=["varchar_pattern_ops"]),
            # An aggregate's events: the unique (aggregate_type, aggregate_id, sequence) index serves.
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate_type}:{self.aggregate_id} #{self.sequence}"

    @property
    def is_dispatched(self) -> bool:
        return self.dispatched_at is not None

    def as_message(self) -> dict[str, Any]:
        """The envelope every subscriber and webhook receives."""
        return {
            "id": str(self.event_id),
            "topic": self.topic,
            "aggregate": {"type": self.aggregate_type, "id": self.aggregate_id},
            "sequence": self.sequence,
            "occurred_at": self.created_at.isoformat(),
            "data": self.payload,
        }


def default_rate_limit() -> int:
    """The rate limit a new key gets: settings.API_RATE_LIMIT_PER_MINUTE (0 = unlimited)."""
    return int(settings.API_RATE_LIMIT_PER_MINUTE)


class ApiKey(TimeStampedModel):
    """A key for external tools: stored as a SHA-256 hash, shown once at creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys", db_index=False
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        help_text="The key this one was created with through the API; revoking it revokes this one.",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        default=default_rate_limit,
        help_text="Requests per minute this key may make (0 = unlimited).",
    )
    history = audit_history(excluded_fields=["last_used_at", "updated_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="erp_apikey_user_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RateLimitWindow(models.Model):
    """Requests one API key made in one minute (see erp.ratelimit): a fixed-window counter.

    Incremented by one atomic upsert per request; rows of past minutes are purged.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+", db_index=False)
    minute = models.PositiveBigIntegerField(help_text="Minutes since the Unix epoch.")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "minute"], name="erp_ratelimit_key_minute_unique"),
        ]

    def __str__(self) -> str:
        return f"key {self.api_key_id} @ minute {self.minute}: {self.hits}"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one caller: the request it was first used with and its answer.

    Inserted, and committed, before the operation acts; the unique constraint on
    (principal, key) decides which of several concurrent requests acts (see erp.idempotency).
    """

    class State(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"

    principal = models.CharField(max_length=64, help_text="'key:<api key id>' or 'user:<user id>'.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROCESSING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, help_text="The answer's body, encrypted (erp.crypto).")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "idempotency record"
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="erp_idempotency_principal_key_unique"),
            models.CheckConstraint(
                condition=Q(state="processing", response_status__isnull=True)
                | Q(state="completed", response_status__isnull=False),
                name="erp_idempotency_completed_has_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key!r} ({self.state})"


class Notification(models.Model):
    """Something a person should know or do: shown under the bell, optionally mailed.

    ``key`` names what it is about ("po-approval:42"); while one is unread, the same key for the
    same person is not notified twice.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(
        max_length=40, help_text="approval_requested, dead_letter, drift, stock_out, mention, ..."
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="where to act on it")
    key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=Q(read_at__isnull=True) & ~Q(key=""),
                name="erp_notification_unread_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="erp_notification_recent_idx"),
            models.Index(
                fields=["recipient"], name="erp_notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"


class Comment(models.Model):
    """A person's note on a document (any app's: ``document_type`` is its model's label)."""

    document_type = models.CharField(max_length=64, help_text="app_label.model: sales.salesorder")
    document_id = models.CharField(max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["document_type", "document_id", "created_at"], name="erp_comment_document_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="erp_comment_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.document_type}:{self.document_id}"


class Job(models.Model):
    """Long work run in the background (an import, MRP, a reconciliation, the simulated day), with
    its progress for the page that shows it: done of total, and what it is doing now."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(
        max_length=40, help_text="csv_import, mrp, reconcile, product_import, simulate_day"
    )
    label = models.CharField(max_length=200, help_text="what a person sees: 'Import products.csv'")
    area = models.CharField(max_length=20, help_text="whose area may see it (erp.access.AREAS)")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
        db_index=False,
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    step = models.CharField(max_length=300, blank=True, help_text="what it is doing now")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_url = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="erp_job_user_recent_idx"),
            models.Index(fields=["kind", "-created_at"], name="erp_job_kind_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(done__lte=models.F("total")),
                name="erp_job_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def counts(self) -> list[tuple[str, Any]]:
        """The result's counts as (label, number), in the order the runner gave them."""
        counts = (self.result or {}).get("counts") or {}
        order = [label for label in (self.result or {}).get("counts_order", []) if label in counts]
        return [(label, counts[label]) for label in order + [k for k in counts if k not in order]]


def validate_timezone(value: str) -> None:
    """An IANA time zone name (Europe/Paris), or blank."""
    import zoneinfo

    from django.core.exceptions import ValidationError

    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            "'%(value)s' is not a time zone name (e.g. Europe/Paris).",
            code="timezone",
            params={"value": value},
        )


class CompanyProfile(AuditedModel):
    """The company's own details: one row at most (pk 1), edited on Settings → Company (erp.company).

    Without a row, erp.company.profile() answers from settings (COMPANY_NAME, COMPANY_ADDRESS,
    ERP_BASE_CURRENCY).
    """

    SINGLETON_PK = 1

    name = models.CharField(max_length=200)
    address = models.TextField(blank=True, help_text="The legal address, one line per line.")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    tax_id = models.CharField(max_length=50, blank=True, help_text="VAT number, EIN, ...")
    base_currency = CurrencyField(help_text="ISO 4217: what stock is valued and amounts are reported in.")
    timezone = models.CharField(
        max_length=64, blank=True, validators=[validate_timezone], help_text="IANA name, e.g. Europe/Paris."
    )
    history = audit_history()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="erp_company_profile_singleton"),
            models.CheckConstraint(condition=~Q(name=""), name="erp_company_profile_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name
