"""The global search box finds our records by the ids other tools give them (ExternalRef): a Shopify
order id, a QuickBooks invoice id, a HubSpot company id... typed with or without a leading "#".

The channel's human order number ("#1042") is the order's ``external_reference``, which the sales
order provider already matches; here, the tools' own ids. Results are grouped by who may open
them: sales records for sales readers, products for inventory readers, purchasing records for
procurement readers. Each group costs one query (the ref with its connection and content type);
on PostgreSQL a trigram index serves the prefix match (migration 0009).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse

from erp.search import SearchProvider, SearchResult, register
from integrations.models import ExternalRef


@dataclass(frozen=True)
class Target:
    """A kind of record a ref can point at, and the page that shows it."""

    label: str
    url: Callable[[int], str]


def _page(name: str) -> Callable[[int], str]:
    return lambda pk: reverse(name, args=[pk])


# (app label, model) -> what it is and where it is shown, per area.
TARGETS: dict[str, dict[tuple[str, str], Target]] = {
    "sales": {
        ("sales", "salesorder"): Target("order", _page("sales:order")),
        ("sales", "customer"): Target("customer", _page("sales:customer")),
        ("sales", "invoice"): Target("invoice", _page("sales:invoice")),
    },
    "inventory": {
        ("inventory", "product"): Target("product", _page("inventory:product")),
    },
    "procurement": {
        ("procurement", "purchaseorder"): Target("purchase order", _page("procurement:order")),
        ("procurement", "supplier"): Target("supplier", _page("procurement:supplier")),
    },
}


def _matching(query: str) -> Q:
    bare = query.strip().lstrip("#").strip() or query.strip()
    return Q(external_id__istartswith=bare)


def search_refs(area: str, query: str, limit: int) -> list[SearchResult]:
    targets = TARGETS[area]
    kinds = Q()
    for app_label, model in targets:
        kinds |= Q(content_type__app_label=app_label, content_type__model=model)
    refs = (
        ExternalRef.objects.select_related("connection", "content_type")
        .filter(kinds)
        .filter(_matching(query))
        .order_by("external_id", "id")[:limit]
    )
    results = []
    for ref in refs:
        target = targets[(ref.content_type.app_label, ref.content_type.model)]
        results.append(
            SearchResult(
                title=f"{ref.external_id} · {ref.connection.name}",
                url=target.url(ref.object_id),
                subtitle=f"{ref.connection.connector} {ref.object_type} → our {target.label}",
            )
        )
    return results


def _provider(area: str, label: str) -> SearchProvider:
    return SearchProvider(
        key=f"integrations.refs.{area}",
        label=label,
        area=area,
        search=lambda query, limit: search_refs(area, query, limit),
        hint="the id a connected tool gives it",
    )


for _p in (
    _provider("sales", "Orders, customers and invoices in connected tools"),
    _provider("inventory", "Products in connected tools"),
    _provider("procurement", "Purchasing in connected tools"),
):
    register(_p)
