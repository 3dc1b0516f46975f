"""Waiting for you: what needs this person now, each with its count and where to act, on the home page.

Apps contribute sources (``register(WaitingSource(...))`` from their AppConfig.ready()): procurement
the purchase orders awaiting approval (for holders of ``procurement_approve``), the hub the
quarantined events, dead letters and open drifts (for readers of integrations). The kernel adds the
unread notifications. A source answers only what the user may act on, with a constant number of
queries (counts and one short list), whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from erp.models import Notification
from erp.workspace import HomeSection, register_section


@dataclass(frozen=True)
class WaitingLink:
    """One record behind an item, to act on it directly (a purchase order to approve)."""

    label: str
    url: str
    title: str = ""  # the full text, when ``label`` is cut


@dataclass(frozen=True)
class WaitingItem:
    key: str
    title: str  # "Purchase orders to approve"
    count: int
    url: str  # the list, filtered to what is waiting
    action: str = "Open"  # the link's words: "Review", "Resolve"
    detail: str = ""  # one line more: "Demo Shopify store"
    links: tuple[WaitingLink, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WaitingSource:
    key: str
    order: int
    items: Callable[[HttpRequest], list[WaitingItem]]


_sources: dict[str, WaitingSource] = {}


def register(source: WaitingSource) -> None:
    _sources[source.key] = source


def sources() -> list[WaitingSource]:
    return sorted(_sources.values(), key=lambda s: (s.order, s.key))


def items_for(request: HttpRequest) -> list[WaitingItem]:
    """Every item waiting for this user with a count above zero, in the sources' order."""
    if not request.user.is_authenticated:
        return []
    found: list[WaitingItem] = []
    for source in sources():
        found.extend(item for item in source.items(request) if item.count > 0)
    return found


def section_context(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.is_authenticated:
        return None
    items = items_for(request)
    return {"items": items, "total": sum(item.count for item in items)}


# --- the kernel's own source -------------------------------------------------------------------


def notifications_url() -> str | None:
    """The notifications page, when it is installed (another part of the kernel builds it)."""
    try:
        return reverse("notifications")
    except NoReverseMatch:
        return None


def unread_notifications(request: HttpRequest) -> list[WaitingItem]:
    url = notifications_url()
    if url is None:
        return []
    count = Notification.objects.filter(recipient_id=request.user.pk, read_at__isnull=True).count()
    return [WaitingItem("notifications", "Unread notifications", count, url, action="Read")]


def install() -> None:
    """Register the kernel's source and the home section (erp's AppConfig.ready())."""
    register(WaitingSource("notifications", 90, unread_notifications))
    register_section(
        HomeSection(key="waiting", order=20, template="erp/home/_waiting.html", context=section_context)
    )
