"""A connection's reconciliation report: its drifts, each with a link to both sides (our record's
page here, the tool's record in the tool's own web app, ``Connector.record_url``), and the heal
and resolve actions.

The links cost a constant number of queries whatever the page holds: one for the refs of the
drifts shown, then one per object type among them (a payment's page is its invoice's, a bill
payment's its bill's, a balance's its customer's or supplier's), never one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.ui import paginate
from integrations import reconcile, registry, selectors
from integrations.contract import Connector
from integrations.filters import DriftFilter
from integrations.models import Connection, Drift, DriftStatus, ExternalRef, SyncJob, SyncRun
from integrations.views.common import (
    connection_context,
    get_connection,
    read,
    render_page,
    status_tabs,
    write,
)
from integrations.views.tabs import ALL, _row_response, _status_counts
from procurement.models import Bill, Supplier, SupplierPayment
from sales.models import Customer, Invoice, InvoiceKind, Payment, Refund


@dataclass(frozen=True)
class OurPage:
    """Where a drift's record is seen here: the ref naming it, our model, and the page that shows
    it (its URL name, and the field naming the record whose page it is: a payment's invoice)."""

    ref_type: str
    model: type[models.Model]
    url_name: str
    via: str = ""


# a drift's object type -> our page of it
OUR_PAGES = {
    "customer": OurPage("customer", Customer, "sales:customer"),
    "customer_balance": OurPage("customer", Customer, "sales:customer"),
    "invoice": OurPage("invoice", Invoice, "sales:invoice-print"),
    "payment": OurPage("payment", Payment, "sales:invoice-print", via="invoice_id"),
    "refund": OurPage("refund", Refund, "sales:invoice-print", via="credit_note_id"),
    "vendor": OurPage("vendor", Supplier, "procurement:supplier"),
    "vendor_balance": OurPage("vendor", Supplier, "procurement:supplier"),
    "bill": OurPage("bill", Bill, "procurement:bill"),
    "bill_payment": OurPage("bill_payment", SupplierPayment, "procurement:bill", via="bill_id"),
}


@dataclass(frozen=True)
class Row:
    """A drift as the report shows it: with its links to our record and to the tool's ("": none)."""

    drift: Drift
    ours: str
    theirs: str


@read
def drift_list(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    shown = request.GET.copy()
    shown.setdefault("status", DriftStatus.OPEN)  # open drifts unless asked: they are what needs a person
    data = shown.copy()
    if data.get("status") == ALL:
        data.pop("status")
    filterset = DriftFilter(data, queryset=selectors.drift_list().filter(connection=connection))
    filterset.is_valid()
    others = data.copy()
    others.pop("status", None)
    counts = _status_counts(DriftFilter(others, queryset=Drift.objects.filter(connection=connection)).qs)
    tabs = status_tabs(shown, DriftStatus.choices, counts, all_key=ALL)
    context = connection_context(request, connection, "drifts")
    last_run = (
        SyncRun.objects.filter(connection=connection, job=SyncJob.RECONCILE)
        .order_by("-started_at", "-id")
        .first()
    )
    page = paginate(request, filterset.qs)
    context.update(
        filter=filterset,
        page=page,
        rows=rows(connection, list(page.object_list)),
        status_tabs=tabs,
        last_run=last_run,
        status=shown["status"],
        kind_summary=_kind_summary(filterset.qs),
    )
    return render_page(request, "integrations/drifts.html", context)


def rows(connection: Connection, drifts: list[Drift]) -> list[Row]:
    """The drifts of one connection with their links, in a constant number of queries."""
    try:
        connector: Connector | None = registry.connector_for(connection)
    except registry.UnknownConnector:  # its tool is no longer installed: no links there
        connector = None
    ours = our_pages(connection, drifts)
    found = []
    for drift in drifts:
        url, finer = ours.get((drift.object_type, drift.external_id), ("", ""))
        theirs = connector.record_url(finer or drift.object_type, drift.external_id) if connector else ""
        found.append(Row(drift, url, theirs))
    return found


def our_pages(connection: Connection, drifts: Iterable[Drift]) -> dict[tuple[str, str], tuple[str, str]]:
    """(drift object type, the tool's id) -> (our record's page, its type where finer than the
    drift's: a credit note's "credit_note"), for the drifts whose record is here: one query for
    their refs, one per object type for the records."""
    wanted = {(d.object_type, d.external_id) for d in drifts if d.object_type in OUR_PAGES and d.external_id}
    if not wanted:
        return {}
    condition = Q()
    for object_type, external_id in wanted:
        condition |= Q(object_type=OUR_PAGES[object_type].ref_type, external_id=external_id)
    refs = {
        (object_type, external_id): (content_type, object_id)
        for object_type, external_id, content_type, object_id in ExternalRef.objects.filter(
            condition, connection=connection
        ).values_list("object_type", "external_id", "content_type_id", "object_id")
    }
    ids: dict[str, dict[str, int]] = {}  # drift object type -> the tool's id -> our record's
    for object_type, external_id in wanted:
        page = OUR_PAGES[object_type]
        content_type, object_id = refs.get((page.ref_type, external_id), (0, 0))
        if object_id and content_type == ContentType.objects.get_for_model(page.model).pk:
            ids.setdefault(object_type, {})[external_id] = object_id
    pages = {}
    for object_type, ours in ids.items():
        page = OUR_PAGES[object_type]
        shown = _shown_by(page, set(ours.values()))
        for external_id, object_id in ours.items():
            if object_id in shown:
                target, finer = shown[object_id]
                pages[(object_type, external_id)] = (reverse(page.url_name, args=[target]), finer)
    return pages


def _shown_by(page: OurPage, ids: set[int]) -> dict[int, tuple[int, str]]:
    """Our record's id -> (the id of the record whose page shows it, the record's finer type), in
    one query; a record deleted here is left out."""
    fields = ["pk", *([page.via] if page.via else []), *(["kind"] if page.model is Invoice else [])]
    return {
        row["pk"]: (
            row[page.via] if page.via else row["pk"],
            "credit_note" if row.get("kind") == InvoiceKind.CREDIT_NOTE else "",
        )
        for row in page.model._default_manager.filter(pk__in=ids).values(*fields)
    }


def _kind_summary(queryset: QuerySet[Drift]) -> str:
    """How many drifts of each kind are listed, most first ("3 drifts: 2 total_mismatch,
    1 fulfilment_missing_here"), in one GROUP BY; "" when none are."""
    counts = sorted(
        queryset.order_by().values_list("kind").annotate(n=Count("pk")), key=lambda kn: (-kn[1], kn[0])
    )
    total = sum(n for _, n in counts)
    if not total:
        return ""
    return f"{total} drift{'s' if total != 1 else ''}: " + ", ".join(f"{n} {kind}" for kind, n in counts)


def _drift_action(request: HttpRequest, pk: int, action: Callable[..., Any], verb: str) -> HttpResponse:
    drift = get_object_or_404(Drift, pk=pk)
    try:
        action(drift=drift, user=request.user)
    except DomainError as exc:
        message, level = exc.message, "error"
    else:
        drift.refresh_from_db()
        message, level = f"{drift.label}: {verb}.", "success"
        if drift.status == DriftStatus.OPEN:
            message, level = f"{drift.label}: still open after the attempt.", "warning"
    drift = selectors.drift_list().get(pk=pk)
    [row] = rows(drift.connection, [drift])
    return _row_response(
        request,
        "integrations/drifts.html#row",
        {"row": row, "can_write": True},
        message,
        level,
        reverse("integrations:connection-drifts", args=[drift.connection_id]),
    )


@write
@require_POST
def drift_heal(request: HttpRequest, pk: int) -> HttpResponse:
    return _drift_action(request, pk, reconcile.drift_heal, "healed (the hub's value was pushed again)")


@write
@require_POST
def drift_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _drift_action(request, pk, reconcile.drift_resolve, "marked resolved")
