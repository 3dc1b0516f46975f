from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from erp.models import OutboxEvent


class OutboxEventFilter(django_filters.FilterSet):
    STATUS_CHOICES = (("pending", "Pending"), ("dispatched", "Dispatched"), ("failing", "Failing"))

    topic = django_filters.CharFilter(method="filter_topic", label="Topic")
    aggregate_type = django_filters.CharFilter(label="Aggregate type")
    aggregate_id = django_filters.CharFilter(label="Aggregate id")
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", label="Status")

    class Meta:
        model = OutboxEvent
        fields = ["topic", "aggregate_type", "aggregate_id", "status"]

    def filter_topic(self, queryset: QuerySet[OutboxEvent], name: str, value: str) -> QuerySet[OutboxEvent]:
        """Topics starting with the value, in any case: topics are lower case, so the prefix is
        compared lower-cased, which the topic index serves (``istartswith`` would scan)."""
        return queryset.filter(topic__startswith=value.strip().lower())

    def filter_status(self, queryset: QuerySet[OutboxEvent], name: str, value: str) -> QuerySet[OutboxEvent]:
        if value == "pending":
            return queryset.filter(dispatched_at__isnull=True)
        if value == "dispatched":
            return queryset.filter(dispatched_at__isnull=False)
        if value == "failing":
            return queryset.filter(dispatched_at__isnull=True, attempts__gt=0)
        return queryset
