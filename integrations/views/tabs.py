"""The tabs of a connection: sync log, inbound events, deliveries, quarantine, reconciliation, mappings.

Every list is one selector with a FilterSet (integrations.filters, shared with the
API), paged, at a constant number of queries. Row actions (replay, retry, heal,
resolve) answer an htmx request with the updated row and a toast, and any other
request with a redirect back to the list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.ui import flash, is_htmx, paginate, toast
from integrations import connections as services
from integrations import inbound, outbound, retention, selectors
from integrations import mappings as value_mappings
from integrations.contract import MappingKind
from integrations.filters import (
    DeliveryFilter,
    ExternalRefFilter,
    InboundEventFilter,
    SyncRunFilter,
)
from integrations.forms import MappingTargetsForm, SkuMappingForm, ValueMappingForm, add_domain_errors
from integrations.models import (
    Delivery,
    DeliveryStatus,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncJob,
    SyncRunStatus,
    ValueMapping,
)
from integrations.views.common import (
    connection_context,
    get_connection,
    read,
    read_write,
    render_page,
    status_tabs,
    write,
)
from integrations.views.connections import back
from inventory.filters import search_products
from inventory.models import Product

PICKER_LIMIT = 12
ALL = "all"


def _status_counts(queryset: QuerySet[Any]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))


def _filtered(filter_class: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    filterset = filter_class(request.GET, queryset=queryset)
    filterset.is_valid()
    return filterset


# --- sync log -------------------------------------------------------------------------------------


@read
def sync_log(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    runs = selectors.sync_run_list().filter(connection=connection).order_by("-started_at", "-id")
    filterset = _filtered(SyncRunFilter, request, runs)
    context = connection_context(request, connection, "sync")
    context.update(
        filter=filterset,
        page=paginate(request, filterset.qs),
        jobs=SyncJob.choices,
        statuses=SyncRunStatus.choices,
    )
    return render_page(request, "integrations/sync_log.html", context)


@read
def sync_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.sync_run_list(), pk=pk)
    connection = get_connection(run.connection_id)
    context = connection_context(request, connection, "sync")
    requests = selectors.request_log_list().filter(sync_run=run).order_by("id")
    context.update(run=run, page=paginate(request, requests))
    return render_page(request, "integrations/sync_run.html", context)


# --- inbound events -------------------------------------------------------------------------------


@read
def event_list(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    events = selectors.inbound_event_list().filter(connection=connection)
    filterset = _filtered(InboundEventFilter, request, events)
    others = request.GET.copy()
    others.pop("status", None)
    counts = _status_counts(
        InboundEventFilter(others, queryset=InboundEvent.objects.filter(connection=connection)).qs
    )
    context = connection_context(request, connection, "events")
    context.update(
        filter=filterset,
        page=paginate(request, filterset.qs),
        status_tabs=status_tabs(request.GET, InboundStatus.choices, counts),
    )
    return render_page(request, "integrations/events.html", context)


@read
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(InboundEvent.objects.select_related("connection"), pk=pk)
    connection = get_connection(event.connection_id)
    context = connection_context(request, connection, "events")
    context.update(event=event, body=_pretty(event.body_text()), purged=retention.purge_note(event))
    return render_page(request, "integrations/event.html", context, fragments=())


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _row_response(
    request: HttpRequest, template: str, context: dict[str, Any], message: str, level: str, default: str
) -> HttpResponse:
    if is_htmx(request):
        return toast(render_page(request, template, context, fragments=()), message, level)
    flash(request, message, level)
    return back(request, default)


@write
@require_POST
def event_replay(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(InboundEvent, pk=pk)
    try:
        inbound.inbound_replay(event=event, user=request.user)
    except DomainError as exc:
        message, level = exc.message, "error"
    else:
        event.refresh_from_db()
        message = f"Event {event.external_id} replayed: {event.get_status_display().lower()}."
        level = "success" if event.status in (InboundStatus.PROCESSED, InboundStatus.SKIPPED) else "warning"
        if event.status == InboundStatus.RECEIVED:
            message, level = f"Event {event.external_id} queued for processing.", "success"
    row = selectors.inbound_event_list().get(pk=pk)
    return _row_response(
        request,
        "integrations/events.html#row",
        {"e": row, "can_write": True},
        message,
        level,
        reverse("integrations:connection-events", args=[event.connection_id]),
    )


# --- deliveries -----------------------------------------------------------------------------------


DELIVERY_TABS = (
    ("open", "Open"),
    (DeliveryStatus.DEAD, "Dead letters"),
    (DeliveryStatus.SUCCEEDED, "Succeeded"),
    (DeliveryStatus.SUPERSEDED, "Superseded"),
    (DeliveryStatus.SKIPPED, "Skipped"),
)


@read
def delivery_list(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    deliveries = selectors.delivery_list().filter(connection=connection)
    filterset = _filtered(DeliveryFilter, request, deliveries)
    others = request.GET.copy()
    others.pop("status", None)
    counts = _status_counts(
        DeliveryFilter(others, queryset=Delivery.objects.filter(connection=connection)).qs
    )
    counts["open"] = counts.pop(DeliveryStatus.PENDING, 0) + counts.pop(DeliveryStatus.FAILED, 0)
    context = connection_context(request, connection, "deliveries")
    context.update(
        filter=filterset,
        page=paginate(request, filterset.qs),
        status_tabs=status_tabs(request.GET, DELIVERY_TABS, counts),
    )
    return render_page(request, "integrations/deliveries.html", context)


@read
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.delivery_list(), pk=pk)
    if delivery.connection_id is None:
        raise Http404("A webhook subscription's delivery: see My webhooks.")
    connection = get_connection(delivery.connection_id)
    context = connection_context(request, connection, "deliveries")
    requests = selectors.request_log_list().filter(delivery=delivery).order_by("id")
    context.update(
        delivery=delivery,
        message=json.dumps(delivery.event.as_message(), indent=2, ensure_ascii=False),
        page=paginate(request, requests),
    )
    return render_page(request, "integrations/delivery.html", context)


@write
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk, connection__isnull=False)
    try:
        outbound.delivery_retry(delivery=delivery, user=request.user)
    except DomainError as exc:
        message, level = exc.message, "error"
    else:
        delivery.refresh_from_db()
        if delivery.status == DeliveryStatus.SUCCEEDED:
            message, level = f"Delivered: {delivery.topic}.", "success"
        elif delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            message, level = f"Retry scheduled: {delivery.topic}.", "success"
        else:
            message, level = f"Retried: {delivery.get_status_display().lower()}.", "warning"
    row = selectors.delivery_list().get(pk=pk)
    return _row_response(
        request,
        "integrations/deliveries.html#row",
        {"d": row, "can_write": True},
        message,
        level,
        reverse("integrations:connection-deliveries", args=[delivery.connection_id]),
    )


# --- quarantine -----------------------------------------------------------------------------------


@read
def quarantine(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    context = connection_context(request, connection, "quarantine")
    context.update(
        groups=_waiting_rows(connection),
        page=paginate(request, selectors.quarantined_events(connection)),
    )
    return render_page(request, "integrations/quarantine.html", context)


@dataclass(frozen=True)
class WaitingRow:
    """What quarantined events or dead deliveries wait for, and, when it is a value to map, the
    mapping kind with the tool's choices (the page's "map it" form)."""

    source: str  # "events" or "deliveries"
    kind: str
    value: str
    count: int
    first_at: datetime
    last_at: datetime
    mapping: MappingKind | None = None
    offered: value_mappings.ToolChoices | None = None

    @property
    def events(self) -> int:  # the SKU and replay forms' wording
        return self.count


def _waiting_rows(connection: Any) -> list[WaitingRow]:
    """Inbound events and deliveries waiting for a person (two grouped queries), each "map X" with
    the tool's choices of that kind (read once per kind)."""
    by_waiting = value_mappings.kinds_waited_for(connection)
    offered: dict[str, value_mappings.ToolChoices] = {}

    def row(source: str, kind: str, value: str, count: int, first: Any, last: Any) -> WaitingRow:
        mapping = by_waiting.get(kind)
        if mapping is not None and kind not in offered:
            offered[kind] = value_mappings.tool_choices(connection, mapping)
        return WaitingRow(source, kind, value, count, first, last, mapping, offered.get(kind))

    rows = [
        row("events", g.kind, g.value, g.events, g.first_received_at, g.last_received_at)
        for g in selectors.quarantine_groups(connection)
    ]
    rows += [
        row("deliveries", d.kind, d.value, d.deliveries, d.first_created_at, d.last_created_at)
        for d in value_mappings.waiting_deliveries(connection)
    ]
    return rows


@write
@require_POST
def quarantine_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Map a waiting SKU to a product, then replay the events that waited for it."""
    connection = get_connection(pk)
    form = SkuMappingForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(request, f"Nothing mapped: {errors}", "error")
        return back(request, reverse("integrations:connection-quarantine", args=[pk]))
    sku, product = form.cleaned_data["sku"], form.cleaned_data["product"]
    try:
        replayed = inbound.quarantine_map_sku(
            connection=connection, sku=sku, product=product, user=request.user
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
    else:
        flash(
            request,
            f"SKU {sku} mapped to {product.sku}; {replayed} event{'s' if replayed != 1 else ''} replayed.",
        )
    return back(request, reverse("integrations:connection-quarantine", args=[pk]))


@write
@require_POST
def quarantine_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Replay the events waiting for one cause, once a person has fixed it."""
    connection = get_connection(pk)
    kind, value = request.POST.get("kind", "").strip(), request.POST.get("value", "").strip()
    if not kind:
        flash(request, "Nothing replayed: say which waiting events.", "error")
        return back(request, reverse("integrations:connection-quarantine", args=[pk]))
    replayed = inbound.quarantine_replay(connection=connection, kind=kind, value=value, user=request.user)
    flash(request, f"{replayed} event{'s' if replayed != 1 else ''} replayed.")
    return back(request, reverse("integrations:connection-quarantine", args=[pk]))


@read
def product_options(request: HttpRequest, pk: int) -> HttpResponse:
    """Products matching what is typed (SKU prefix, barcode, name): the picker's options."""
    get_connection(pk)
    query = request.GET.get("q", "").strip()
    products: list[Product] = []
    if query:
        products = list(
            search_products(
                Product.objects.filter(is_active=True).select_related("stock_unit"), query
            ).order_by("sku")[:PICKER_LIMIT]
        )
    context = {"products": products, "query": query, "action": request.GET.get("action", "Map")}
    return render_page(request, "integrations/_product_options.html", context, fragments=())


# --- mappings -------------------------------------------------------------------------------------


@read_write
def mappings(request: HttpRequest, pk: int) -> HttpResponse:
    """The warehouse and channel the connection maps to, its SKU mappings and every other external id."""
    connection = get_connection(pk)
    targets = MappingTargetsForm(
        request.POST or None,
        initial={"warehouse": connection.warehouse_id, "sales_channel": connection.sales_channel_id},
    )
    if request.method == "POST" and targets.is_valid():
        try:
            services.connection_update(
                connection=connection,
                warehouse=targets.cleaned_data["warehouse"],
                sales_channel=targets.cleaned_data["sales_channel"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(targets, exc)
        else:
            flash(request, "Warehouse and channel mapping saved.")
            return back(request, reverse("integrations:connection-mappings", args=[pk]))
    refs = selectors.ref_list(connection)
    filterset = _filtered(ExternalRefFilter, request, refs)
    types = list(
        ExternalRef.objects.filter(connection=connection)
        .order_by()
        .values_list("object_type")
        .annotate(n=Count("pk"))
        .order_by("object_type")
    )
    page = paginate(request, filterset.qs.prefetch_related("internal"))
    context = connection_context(request, connection, "mappings")
    context.update(
        value_sections=_value_sections(connection),
        targets=targets,
        sku_form=SkuMappingForm(),
        filter=filterset,
        page=page,
        object_types=types,
        product_type_id=selectors.product_content_type().pk,
    )
    return render_page(request, "integrations/mappings.html", context)


@write
@require_POST
def sku_mapping_add(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection(pk)
    form = SkuMappingForm(request.POST)
    default = reverse("integrations:connection-mappings", args=[pk]) + "?object_type=sku"
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(request, f"Nothing mapped: {errors}", "error")
        return back(request, default)
    try:
        services.sku_mapping_create(
            connection=connection,
            sku=form.cleaned_data["sku"],
            product=form.cleaned_data["product"],
            user=request.user,
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"SKU {form.cleaned_data['sku']} mapped to {form.cleaned_data['product'].sku}.")
    return back(request, default)


@write
@require_POST
def sku_mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    ref = get_object_or_404(ExternalRef, pk=pk)
    try:
        services.sku_mapping_delete(ref=ref, user=request.user)
    except DomainError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"SKU mapping {ref.external_id} removed.")
    return back(
        request, reverse("integrations:connection-mappings", args=[ref.connection_id]) + "?object_type=sku"
    )


# --- value mappings (our warehouses, taxes, accounts... -> the tool's) ------------------------------


@dataclass(frozen=True)
class KindSection:
    """One mapping kind of the connection's connector, as the Mappings tab shows it."""

    kind: MappingKind
    rows: list[tuple[ValueMapping, str]]  # each mapping with our label of its value
    form: ValueMappingForm
    offered: value_mappings.ToolChoices
    waiting: int  # events and deliveries waiting for a value of this kind


def _ours(connection: Any, kind: MappingKind, mapped: list[ValueMapping], waiting: list[str]) -> list[Any]:
    """Our values of a kind to pick from: what we have (a fixed list stays fixed), what waits for a
    mapping, and what is mapped already."""
    ours = value_mappings.our_choices(kind)
    if kind.ours in value_mappings.FIXED:
        return ours
    known = {value for value, _ in ours}
    extra = [v for v in [*waiting, *(m.our_value for m in mapped)] if v not in known]
    return ours + [(v, v) for v in dict.fromkeys(extra)]


def _value_sections(connection: Any) -> list[KindSection]:
    """A section per declared kind: its mappings (one query for all), our choices (a query per
    kind), the tool's (a call to the tool per kind), what waits (two grouped queries)."""
    kinds = value_mappings.kinds_of(connection)
    if not kinds:
        return []
    by_kind = value_mappings.mappings_of(connection)
    waiting: dict[str, list[str]] = {}
    for waited, value in [(g.kind, g.value) for g in selectors.quarantine_groups(connection)] + [
        (d.kind, d.value) for d in value_mappings.waiting_deliveries(connection)
    ]:
        waiting.setdefault(waited, []).append(value)
    sections = []
    for kind in kinds:
        mapped = by_kind.get(kind.key, [])
        waits = waiting.get(value_mappings.waiting_kind(kind), [])
        ours = _ours(connection, kind, mapped, waits)
        offered = value_mappings.tool_choices(connection, kind)
        form = ValueMappingForm(
            prefix=kind.key,
            ours=ours,
            theirs=offered.choices,
            several=kind.several,
            form_id=f"map-{kind.key}-form",
            label=kind.label,
            tool=connection.name,
            ours_label=kind.ours.replace("_", " "),
        )
        labels = dict(ours)
        rows = [(m, labels.get(m.our_value, m.our_value)) for m in mapped]
        sections.append(KindSection(kind, rows, form, offered, len(waits)))
    return sections


def _mappings_url(pk: int, kind: str = "") -> str:
    url = reverse("integrations:connection-mappings", args=[pk])
    return f"{url}#map-{kind}" if kind else url


@write
@require_POST
def value_mapping_set(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Map one of our values of ``kind`` to the tool's, then replay what waited for it."""
    connection = get_connection(pk)
    default = _mappings_url(pk, kind)
    try:
        declared = value_mappings.kind_of(connection, kind)
    except DomainError as exc:
        flash(request, exc.message, "error")
        return back(request, default)
    offered = value_mappings.tool_choices(connection, declared)
    # a fixed list of ours (account roles) is a choice; any other value of ours is the service's to check
    ours = value_mappings.our_choices(declared) if declared.ours in value_mappings.FIXED else []
    form = ValueMappingForm(
        request.POST, prefix=kind, ours=ours, theirs=offered.choices, several=declared.several
    )
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        flash(request, f"Nothing mapped: {errors}", "error")
        return back(request, default)
    try:
        saved = value_mappings.mapping_set(
            connection=connection,
            kind=kind,
            our_value=form.cleaned_data["our_value"],
            tool_value=form.cleaned_data["tool_value"],
            choices=offered,
            user=request.user,
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
        return back(request, default)
    mapping = saved.mapping
    theirs = f"{mapping.tool_label} ({mapping.tool_value})" if mapping.tool_label else mapping.tool_value
    replayed = [
        f"{n} {one if n == 1 else many}"
        for n, one, many in (
            (saved.deliveries, "delivery", "deliveries"),
            (saved.events, "event", "events"),
        )
        if n
    ]
    labels = dict(value_mappings.our_choices(declared)) if declared.ours in value_mappings.FIXED else {}
    message = (
        f"{declared.label.capitalize()} for {labels.get(mapping.our_value, mapping.our_value)}: {theirs}"
    )
    if replayed:
        message += f"; {' and '.join(replayed)} replayed"
    flash(request, message + ".")
    return back(request, default)


@write
@require_POST
def value_mapping_delete(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    connection = get_connection(pk)
    our_value = request.POST.get("our_value", "")
    try:
        value_mappings.mapping_delete(
            connection=connection, kind=kind, our_value=our_value, user=request.user
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Mapping of {our_value} removed: what needs it waits for a person again.")
    return back(request, _mappings_url(pk, kind))
