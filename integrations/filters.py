"""Filters of the hub's lists, shared by the pages and the API.

Each filter that narrows a long list (connection + status) rides an index of
integrations.models (``integrations_delivery_conn_idx``, ``integrations_inbound_idx``,
``integrations_drift_idx``, ``integrations_syncrun_idx``).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    Drift,
    DriftStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRun,
    SyncRunStatus,
    WebhookSubscription,
)

OPEN_DELIVERY = "open"  # pending or failed (retrying): what is still to be delivered


class ConnectionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name")
    connector = django_filters.CharFilter(label="Connector")
    status = django_filters.ChoiceFilter(choices=ConnectionStatus.choices, label="Status")

    class Meta:
        model = Connection
        fields = ["q", "connector", "status"]


class DeliveryFilter(django_filters.FilterSet):
    STATUS_CHOICES = ((OPEN_DELIVERY, "Open (pending or retrying)"), *DeliveryStatus.choices)

    connection = django_filters.NumberFilter(field_name="connection_id", label="Connection")
    subscription = django_filters.NumberFilter(field_name="subscription_id", label="Subscription")
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", label="Status")
    topic = django_filters.CharFilter(lookup_expr="istartswith", label="Topic")

    class Meta:
        model = Delivery
        fields = ["connection", "subscription", "status", "topic"]

    def filter_status(self, queryset: QuerySet[Delivery], name: str, value: str) -> QuerySet[Delivery]:
        if value == OPEN_DELIVERY:
            return queryset.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
        return queryset.filter(status=value)


class InboundEventFilter(django_filters.FilterSet):
    connection = django_filters.NumberFilter(field_name="connection_id", label="Connection")
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices, label="Status")
    source = django_filters.ChoiceFilter(choices=InboundEvent.Source.choices, label="Source")
    topic = django_filters.CharFilter(lookup_expr="istartswith", label="Topic")
    q = django_filters.CharFilter(method="filter_q", label="Event id")

    class Meta:
        model = InboundEvent
        fields = ["connection", "status", "source", "topic", "q"]

    def filter_q(self, queryset: QuerySet[InboundEvent], name: str, value: str) -> QuerySet[InboundEvent]:
        value = value.strip()
        return queryset.filter(external_id__istartswith=value) if value else queryset


class DriftFilter(django_filters.FilterSet):
    connection = django_filters.NumberFilter(field_name="connection_id", label="Connection")
    status = django_filters.ChoiceFilter(choices=DriftStatus.choices, label="Status")
    object_type = django_filters.CharFilter(label="Object type")
    kind = django_filters.CharFilter(label="Kind")

    class Meta:
        model = Drift
        fields = ["connection", "status", "object_type", "kind"]


class SyncRunFilter(django_filters.FilterSet):
    connection = django_filters.NumberFilter(field_name="connection_id", label="Connection")
    job = django_filters.ChoiceFilter(choices=SyncJob.choices, label="Job")
    status = django_filters.ChoiceFilter(choices=SyncRunStatus.choices, label="Status")
    object_type = django_filters.CharFilter(label="Object type")

    class Meta:
        model = SyncRun
        fields = ["connection", "job", "status", "object_type"]


class ExternalRefFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter(label="Object type")
    q = django_filters.CharFilter(method="filter_q", label="External id")

    class Meta:
        model = ExternalRef
        fields = ["object_type", "q"]

    def filter_q(self, queryset: QuerySet[ExternalRef], name: str, value: str) -> QuerySet[ExternalRef]:
        value = value.strip()
        return queryset.filter(external_id__istartswith=value) if value else queryset


class SubscriptionFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(label="Active")
    q = django_filters.CharFilter(method="filter_q", label="URL or description")

    class Meta:
        model = WebhookSubscription
        fields = ["is_active", "q"]

    def filter_q(
        self, queryset: QuerySet[WebhookSubscription], name: str, value: str
    ) -> QuerySet[WebhookSubscription]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(url__icontains=value) | Q(description__icontains=value))
