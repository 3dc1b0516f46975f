"""Reads of the kernel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from erp.models import ApiKey, OutboxEvent


def api_key_list(*, user: Any | None = None) -> QuerySet[ApiKey]:
    qs = ApiKey.objects.select_related("user").order_by("-created_at")
    return qs.filter(user=user) if user is not None else qs


def outbox_event_list() -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.order_by("-id")


def outbox_stats() -> dict[str, int]:
    """Counts for the dashboard, in one query."""
    since = timezone.now() - timedelta(hours=24)
    return OutboxEvent.objects.aggregate(
        pending=Count("id", filter=Q(dispatched_at__isnull=True, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS)),
        failing=Count("id", filter=Q(dispatched_at__isnull=True, attempts__gt=0)),
        last_24h=Count("id", filter=Q(created_at__gte=since)),
    )
