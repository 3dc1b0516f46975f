"""The global search box. Each app registers what it can be searched by as it lands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser, AnonymousUser

from erp.access import user_can


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    subtitle: str = ""


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: str  # "Products", shown as the group heading
    area: str  # results are shown to users who can read this area
    search: Callable[[str, int], list[SearchResult]]  # (query, limit) -> results
    hint: str = ""  # what it matches: "SKU, barcode or name"


_providers: dict[str, SearchProvider] = {}


def register(provider: SearchProvider) -> None:
    _providers[provider.key] = provider


def providers_for(user: AbstractUser | AnonymousUser) -> list[SearchProvider]:
    return [p for p in _providers.values() if user_can(user, p.area, "read")]


def search(
    query: str, user: AbstractUser | AnonymousUser, *, limit: int = 8
) -> list[tuple[SearchProvider, list[SearchResult]]]:
    query = query.strip()
    if len(query) < 2:
        return []
    groups = []
    for provider in providers_for(user):
        results = provider.search(query, limit)
        if results:
            groups.append((provider, results))
    return groups
