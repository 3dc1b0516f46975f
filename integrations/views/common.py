"""What every hub page shares: rights, fragment rendering, status tabs, the connection tabs; the
rest comes from erp.ui."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse

from erp.access import user_can
from erp.permissions import area_required
from erp.ui import query_with, read_write_required, render_fragment
from integrations import registry, selectors
from integrations.contract import Connector
from integrations.models import Connection

read = area_required("integrations")
write = area_required("integrations", "write")
read_write = read_write_required("integrations")


def can_write(request: HttpRequest) -> bool:
    return user_can(request.user, "integrations", "write")


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragments: Iterable[str] = ("rows",),
    status: int = 200,
) -> HttpResponse:
    """The fragment htmx targets (when the page has one by that name), else the whole page."""
    context.setdefault("can_write", can_write(request))
    return render_fragment(request, template, context, fragments=fragments, status=status)


def status_tabs(
    params: QueryDict,
    choices: Iterable[tuple[str, str]],
    counts: dict[str, int],
    *,
    param: str = "status",
    all_key: str = "",
) -> list[dict[str, Any]]:
    """Filter tabs (All + one per status) with their counts and their query strings.

    ``all_key``: the value that means "all" when the list's default is one status (drifts: open).
    """
    current = params.get(param, "")
    all_url = query_with(params, **{param: all_key or None})
    tabs = [{"key": all_key, "label": "All", "count": sum(counts.values()), "url": all_url}]
    for key, label in choices:
        tabs.append(
            {
                "key": key,
                "label": label,
                "count": counts.get(key, 0),
                "url": query_with(params, **{param: key}),
            }
        )
    for tab in tabs:
        tab["current"] = tab["key"] == current
    return tabs


def get_connection(pk: int) -> Connection:
    """The connection with its counters (one query), or a 404."""
    try:
        return selectors.connection_detail(pk)
    except Connection.DoesNotExist:
        raise Http404(f"No connection {pk}") from None


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url: str
    count: int | None = None
    alert: bool = False


def connection_tabs(connection: Connection) -> list[Tab]:
    """The tabs of a connection's pages, with the counters people act on."""
    pk = connection.pk
    c: Any = connection
    return [
        Tab("overview", "Overview", reverse("integrations:connection", args=[pk])),
        Tab("sync", "Sync log", reverse("integrations:connection-sync", args=[pk])),
        Tab(
            "events",
            "Inbound events",
            reverse("integrations:connection-events", args=[pk]),
            getattr(c, "failed_events", None) or None,
            alert=bool(getattr(c, "failed_events", 0)),
        ),
        Tab(
            "deliveries",
            "Deliveries",
            reverse("integrations:connection-deliveries", args=[pk]),
            getattr(c, "dead_letters", None) or None,
            alert=bool(getattr(c, "dead_letters", 0)),
        ),
        Tab(
            "quarantine",
            "Quarantine",
            reverse("integrations:connection-quarantine", args=[pk]),
            getattr(c, "quarantined", None) or None,
            alert=bool(getattr(c, "quarantined", 0)),
        ),
        Tab(
            "drifts",
            "Reconciliation",
            reverse("integrations:connection-drifts", args=[pk]),
            getattr(c, "open_drifts", None) or None,
            alert=bool(getattr(c, "open_drifts", 0)),
        ),
        Tab("mappings", "Mappings", reverse("integrations:connection-mappings", args=[pk])),
        Tab("settings", "Settings", reverse("integrations:connection-edit", args=[pk])),
    ]


@dataclass(frozen=True)
class ConnectorInfo:
    """What the pages show of a connector class (a template would call the class itself)."""

    key: str
    name: str
    doc: str
    capabilities: tuple[str, ...]
    settings: tuple[str, ...]
    secrets: tuple[str, ...]
    poll_object_types: tuple[str, ...]
    reconcile_object_types: tuple[str, ...]
    webhook_topics: tuple[str, ...]

    @classmethod
    def of(cls, connector: type[Connector]) -> ConnectorInfo:
        doc = (connector.__doc__ or "").strip()
        return cls(
            key=connector.key,
            name=connector.name,
            doc=doc.splitlines()[0] if doc else "",
            capabilities=tuple(sorted(c.value.replace("_", " ") for c in connector.capabilities)),
            settings=tuple(connector.settings_schema.model_fields),
            secrets=tuple(connector.secrets_schema.model_fields),
            poll_object_types=tuple(connector.poll_object_types),
            reconcile_object_types=tuple(connector.reconcile_object_types),
            webhook_topics=tuple(connector.webhook_topics),
        )


def connector_info(key: str) -> ConnectorInfo | None:
    try:
        return ConnectorInfo.of(registry.get(key))
    except registry.UnknownConnector:
        return None


def connection_context(request: HttpRequest, connection: Connection, active: str) -> dict[str, Any]:
    """What the header and tabs of every connection page need."""
    return {
        "connection": connection,
        "connector": connector_info(connection.connector),
        "tabs": connection_tabs(connection),
        "active": active,
        "can_write": can_write(request),
    }
