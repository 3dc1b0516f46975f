"""Reads of the hub: querysets with what the pages and the API show, at a constant number of queries.

Counters of a connection (open deliveries, dead letters, quarantined events,
open drifts, the last sync) are correlated subqueries, so a list of connections
costs one query however many there are and however much each holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    DateTimeField,
    IntegerField,
    Max,
    Min,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from erp.models import User
from integrations.models import (
    Connection,
    Delivery,
    DeliveryStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    RequestLog,
    SyncRun,
    WebhookSubscription,
)
from inventory.models import Product

OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
FAILED_INBOUND_STATUSES = (InboundStatus.FAILED, InboundStatus.DEAD)


def _count(model: type[Model], field: str = "connection", **filters: Any) -> Coalesce:
    rows = (
        model._default_manager.filter(**{field: OuterRef("pk")}, **filters)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


class ConnectionCounters(TypedDict):
    open_deliveries: int
    dead_letters: int
    quarantined: int
    failed_events: int
    open_drifts: int


if TYPE_CHECKING:  # django-stubs-ext is a development dependency: type checking only
    from django_stubs_ext import WithAnnotations

    # A connection as connection_list() reads it: with its live counters, typed.
    CountedConnection = WithAnnotations[Connection, ConnectionCounters]


def connection_list() -> QuerySet[CountedConnection]:
    """Connections with their warehouse, channel and live counters."""
    last_run = SyncRun.objects.filter(connection=OuterRef("pk"), finished_at__isnull=False).order_by(
        "-finished_at", "-pk"
    )
    return Connection.objects.select_related("warehouse", "sales_channel").annotate(
        open_deliveries=_count(Delivery, status__in=OPEN_DELIVERY_STATUSES),
        dead_letters=_count(Delivery, status=DeliveryStatus.DEAD),
        quarantined=_count(InboundEvent, status=InboundStatus.QUARANTINED),
        failed_events=_count(InboundEvent, status__in=FAILED_INBOUND_STATUSES),
        open_drifts=_count(Drift, status=DriftStatus.OPEN),
        last_sync_at=Subquery(last_run.values("finished_at")[:1], output_field=DateTimeField()),
        last_sync_status=Subquery(last_run.values("status")[:1]),
        last_sync_job=Subquery(last_run.values("job")[:1]),
    )


def connection_detail(pk: int) -> Connection:
    return connection_list().get(pk=pk)


def delivery_list() -> QuerySet[Delivery]:
    return Delivery.objects.select_related("connection", "subscription", "event").order_by(
        "-created_at", "-id"
    )


def inbound_event_list() -> QuerySet[InboundEvent]:
    """Inbound events without their raw body and headers (a detail reads those)."""
    return (
        InboundEvent.objects.select_related("connection")
        .defer("body", "headers")
        .order_by("-received_at", "-id")
    )


def drift_list() -> QuerySet[Drift]:
    return Drift.objects.select_related("connection", "resolved_by", "sync_run").order_by(
        "-detected_at", "-id"
    )


def sync_run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("connection").annotate(
        request_count=_count(RequestLog, field="sync_run")
    )


def request_log_list() -> QuerySet[RequestLog]:
    return RequestLog.objects.select_related("connection").order_by("-id")


def _product_label(field: str) -> Subquery:
    return Subquery(Product.objects.filter(pk=OuterRef("object_id")).values(field)[:1])


def ref_list(connection: Connection | None = None) -> QuerySet[ExternalRef]:
    """External refs with their internal record: a product's SKU and name inline (one query),
    other records through the generic relation (one query per content type)."""
    refs = ExternalRef.objects.select_related("connection", "content_type").annotate(
        product_sku=_product_label("sku"), product_name=_product_label("name")
    )
    if connection is not None:
        refs = refs.filter(connection=connection)
    return refs.order_by("object_type", "external_id", "pk")


def product_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Product)


@dataclass(frozen=True)
class QuarantineGroup:
    """Quarantined events of a connection waiting for the same thing (a SKU)."""

    connection_id: int
    connection_name: str
    kind: str
    value: str
    events: int
    first_received_at: datetime
    last_received_at: datetime


def quarantine_groups(connection: Connection | None = None) -> list[QuarantineGroup]:
    """What quarantined events wait for, grouped (one query), the most waiting first."""
    events = InboundEvent.objects.filter(status=InboundStatus.QUARANTINED)
    if connection is not None:
        events = events.filter(connection=connection)
    rows = (
        events.annotate(kind=KeyTextTransform("kind", "missing"), value=KeyTextTransform("value", "missing"))
        .order_by()
        .values("connection_id", "connection__name", "kind", "value")
        .annotate(n=Count("pk"), first=Min("received_at"), last=Max("received_at"))
        .order_by("-n", "connection__name", "kind", "value")
    )
    return [
        QuarantineGroup(
            connection_id=row["connection_id"],
            connection_name=row["connection__name"],
            kind=row["kind"] or "",
            value=row["value"] or "",
            events=row["n"],
            first_received_at=row["first"],
            last_received_at=row["last"],
        )
        for row in rows
    ]


def quarantined_events(connection: Connection) -> QuerySet[InboundEvent]:
    return inbound_event_list().filter(connection=connection, status=InboundStatus.QUARANTINED)


@dataclass(frozen=True)
class HubTotals:
    connections: int
    active: int
    open_deliveries: int
    dead_letters: int
    quarantined: int
    open_drifts: int


def hub_totals(connections: Sequence[CountedConnection]) -> HubTotals:
    """Sums of the counters of connection_list() rows (no query)."""
    return HubTotals(
        connections=len(connections),
        active=sum(1 for c in connections if c.is_active),
        open_deliveries=sum(c.open_deliveries for c in connections),
        dead_letters=sum(c.dead_letters for c in connections),
        quarantined=sum(c.quarantined for c in connections),
        open_drifts=sum(c.open_drifts for c in connections),
    )


# --- outbound webhook subscriptions ---------------------------------------------------------------


def subscription_list(user: User | None = None) -> QuerySet[WebhookSubscription]:
    """Subscriptions (of one user, or all) with their delivery counters."""
    subscriptions = WebhookSubscription.objects.select_related("user").annotate(
        open_deliveries=_count(Delivery, field="subscription", status__in=OPEN_DELIVERY_STATUSES),
        dead_letters=_count(Delivery, field="subscription", status=DeliveryStatus.DEAD),
        succeeded=_count(Delivery, field="subscription", status=DeliveryStatus.SUCCEEDED),
        last_delivered_at=Subquery(
            Delivery.objects.filter(subscription=OuterRef("pk"), delivered_at__isnull=False)
            .order_by("-delivered_at", "-pk")
            .values("delivered_at")[:1],
            output_field=DateTimeField(),
        ),
    )
    if user is not None:
        subscriptions = subscriptions.filter(user=user)
    return subscriptions.order_by("-created_at", "-id")


def subscription_deliveries(subscription: WebhookSubscription) -> QuerySet[Delivery]:
    return delivery_list().filter(subscription=subscription)
