"""Admin of the hub: every table, searchable and filterable, read-only.

What the hub writes (refs, events, deliveries, runs, the request log, drifts) is a
log to look at; connections and subscriptions change through their services (the
hub's pages, the API, ``create_connection``), which validate settings and keep
secrets encrypted. Secrets are never shown here: a connection shows only the names
of the secrets it holds. The actions call the same services as the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from erp.admin_readonly import ReadOnlyAdmin, ReadOnlyHistoryAdmin, ReadOnlyInline
from erp.exceptions import DomainError
from integrations import connections, inbound, outbound, reconcile, webhooks_out
from integrations.models import (
    Connection,
    Delivery,
    Drift,
    ExternalRef,
    InboundEvent,
    OwnershipRule,
    RequestLog,
    SyncRun,
    WebhookSubscription,
)


def _each(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    act: Callable[[Any], Any],
    verb: str,
) -> None:
    done, failed = 0, []
    for obj in queryset:
        try:
            act(obj)
        except DomainError as exc:
            failed.append(f"{obj}: {exc.message}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} {verb}.", messages.SUCCESS)
    for message in failed:
        modeladmin.message_user(request, message, messages.ERROR)


# --- connections -------------------------------------------------------------------------------


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "connector",
        "status",
        "warehouse",
        "sales_channel",
        "last_success_at",
        "updated_at",
    )
    list_filter = ("connector", "status")
    search_fields = ("name",)
    list_select_related = ("warehouse", "sales_channel")
    actions = ("pause", "resume")
    fields = (
        "name",
        "connector",
        "status",
        "settings",
        "secrets_set",
        "api_version",
        "warehouse",
        "sales_channel",
        "cursors",
        "token_expires_at",
        "throttled_until",
        "last_success_at",
        "last_failure_at",
        "last_error",
        "webhooks_checked_at",
        "webhooks_missing",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    readonly_fields = fields

    @admin.display(description="Secrets")
    def secrets_set(self, obj: Connection) -> str:
        names = obj.secret_names
        return f"set: {', '.join(names)} (values are never shown)" if names else "none"

    @admin.action(description="Pause the selected connections")
    def pause(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda c: connections.connection_pause(connection=c, user=request.user),
            "paused",
        )

    @admin.action(description="Resume the selected connections")
    def resume(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda c: connections.connection_resume(connection=c, user=request.user),
            "resumed",
        )


@admin.register(OwnershipRule)
class OwnershipRuleAdmin(ReadOnlyHistoryAdmin):
    """Who owns what, with who changed it when; set on the connection's page or through the API
    (``ownership_rule_set`` checks the rule against the connector)."""

    list_display = ("connection", "data_type", "warehouse", "owner", "updated_at", "updated_by")
    list_filter = ("data_type", "owner", "connection")
    list_select_related = ("connection", "warehouse", "updated_by")


@admin.register(ExternalRef)
class ExternalRefAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "object_type", "connection", "content_type", "object_id", "synced_at")
    list_filter = ("object_type", "connection")
    search_fields = ("external_id",)
    list_select_related = ("connection", "content_type")


# --- inbound ----------------------------------------------------------------------------------


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "connection", "topic", "source", "external_id", "status", "attempts")
    list_filter = ("status", "source", "connection")
    search_fields = ("external_id", "topic")
    list_select_related = ("connection",)
    date_hierarchy = "received_at"
    exclude = ("body",)
    readonly_fields = ("raw_body",)
    actions = ("replay",)

    @admin.display(description="Body")
    def raw_body(self, obj: InboundEvent) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.body_text())

    @admin.action(description="Replay the selected events")
    def replay(self, request: HttpRequest, queryset: QuerySet[InboundEvent]) -> None:
        _each(
            self, request, queryset, lambda e: inbound.inbound_replay(event=e, user=request.user), "replayed"
        )


# --- outbound ---------------------------------------------------------------------------------


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "topic",
        "target_label",
        "status",
        "attempts",
        "last_status_code",
        "delivered_at",
    )
    list_filter = ("status", "connection")
    search_fields = ("topic", "coalesce_key", "delivery_id")
    list_select_related = ("connection", "subscription")
    date_hierarchy = "created_at"
    actions = ("retry",)

    @admin.action(description="Retry the selected dead or failed deliveries")
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda d: outbound.delivery_retry(delivery=d, user=request.user),
            "retried",
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("url", "user", "topic_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "user__username")
    list_select_related = ("user",)
    exclude = ("secret_encrypted",)
    actions = ("deactivate", "activate")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="Topics")
    def topic_list(self, obj: WebhookSubscription) -> str:
        return " ".join(obj.topics)

    def _set_active(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription], active: bool
    ) -> None:
        _each(
            self,
            request,
            queryset,
            lambda s: webhooks_out.subscription_update(subscription=s, is_active=active, user=request.user),
            "activated" if active else "deactivated",
        )

    @admin.action(description="Deactivate the selected subscriptions")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        self._set_active(request, queryset, False)

    @admin.action(description="Activate the selected subscriptions")
    def activate(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        self._set_active(request, queryset, True)


# --- sync runs, the request log, reconciliation ------------------------------------------------


class RequestLogInline(ReadOnlyInline):
    model = RequestLog
    fk_name = "sync_run"
    fields = ("created_at", "method", "url", "status_code", "duration_ms", "error")
    select_related = ("sync_run",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "connection",
        "job",
        "object_type",
        "status",
        "created",
        "updated",
        "skipped",
        "failed",
    )
    list_filter = ("job", "status", "connection")
    list_select_related = ("connection",)
    date_hierarchy = "started_at"
    inlines = (RequestLogInline,)


@admin.register(RequestLog)
class RequestLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "connection", "method", "url", "status_code", "duration_ms")
    list_filter = ("method", "status_code", "connection")
    search_fields = ("url", "error")
    list_select_related = ("connection",)
    date_hierarchy = "created_at"


@admin.register(Drift)
class DriftAdmin(ReadOnlyAdmin):
    list_display = (
        "detected_at",
        "connection",
        "object_type",
        "label",
        "kind",
        "hub_value",
        "tool_value",
        "status",
    )
    list_filter = ("status", "object_type", "kind", "connection")
    search_fields = ("label", "external_id")
    list_select_related = ("connection",)
    actions = ("heal", "resolve")

    @admin.action(description="Heal the selected drifts (push the hub's value again)")
    def heal(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        _each(self, request, queryset, lambda d: reconcile.drift_heal(drift=d, user=request.user), "healed")

    @admin.action(description="Mark the selected drifts resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        _each(
            self, request, queryset, lambda d: reconcile.drift_resolve(drift=d, user=request.user), "resolved"
        )
