"""Admin bases: the change history (every app), and rows that services write (documents, ledgers,
results): view, never edit here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


class ReadOnlyMixin:
    """Rows the services write: view, never add, change or delete here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A read-only changelist and change page."""


class HistoryAdmin(SimpleHistoryAdmin):
    """The change history, naming the API key of each change made through the API."""

    history_list_display = ["history_api_key"]


class ReadOnlyHistoryAdmin(ReadOnlyMixin, HistoryAdmin):
    """Read-only, with the change history."""


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    """Read-only lines under a document, fetched with ``select_related``."""

    extra = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset
