from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from erp import events
from erp.admin_readonly import HistoryAdmin, ReadOnlyAdmin
from erp.models import ApiKey, IdempotencyRecord, OutboxEvent
from erp.services import api_key_revoke


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "topic",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "created_at",
        "dispatched_at",
        "attempts",
    )
    list_filter = ("topic", "aggregate_type", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("=event_id", "topic", "aggregate_id")
    date_hierarchy = "created_at"
    actions = ("redispatch",)
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False

    @admin.action(description="Dispatch the selected pending events now")
    def redispatch(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        done = sum(events.dispatch_event(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Dispatched {done} event(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(HistoryAdmin):
    list_display = (
        "name",
        "prefix",
        "user",
        "rate_limit_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = (
        "user",
        "name",
        "prefix",
        "scopes",
        "rate_limit_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are issued by `manage.py create_api_key` (and the key page), which show the secret once.
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset)
        for key in keys:
            api_key_revoke(api_key=key)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Which Idempotency-Keys are remembered; the stored answers stay encrypted."""

    list_display = (
        "key",
        "principal",
        "method",
        "path",
        "state",
        "response_status",
        "created_at",
        "expires_at",
    )
    list_filter = ("state", "method")
    search_fields = ("=key", "=principal", "path")
    date_hierarchy = "created_at"
    exclude = ("response_body",)
