"""Cycle counts: the sheets, counting by scanning or typing, applying and cancelling."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp import formatting
from erp.exceptions import DomainError, ValidationFailed
from erp.money import ZERO
from erp.ui import htmx_of
from inventory import selectors, services
from inventory.filters import CountSheetFilter
from inventory.forms import CountSheetForm, add_domain_errors
from inventory.models import CountSheet, CountStatus, Tracking
from inventory.views.common import (
    active_bins,
    friendly_filters,
    int_or_none,
    or_404,
    paginate,
    parse_qty,
    read,
    render_page,
    trigger,
    write,
)
from inventory.views.scanner import Message, resolve_code, unknown_code


@read
def count_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.count_sheet_list().annotate(
        line_count=Count("lines"),
        counted=Count("lines", filter=Q(lines__counted_quantity__isnull=False)),
    )
    filterset = friendly_filters(CountSheetFilter(request.GET, queryset=queryset))
    context = {"filter": filterset, "page": paginate(request, filterset.qs)}
    return render_page(request, "inventory/count_list.html", context)


@write
def count_create(request: HttpRequest) -> HttpResponse:
    bins = active_bins()
    initial = {"location": int_or_none(request.GET.get("location"))}
    form = CountSheetForm(request.POST or None, bins=bins, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sheet = services.count_sheet_create(
                location=data["location"], note=data["note"], prefill=data["prefill"], user=request.user
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            return redirect("inventory:count", pk=sheet.pk)
    return render_page(request, "inventory/count_new.html", {"form": form}, fragments=())


def _count_context(
    sheet: CountSheet, message: Message | None = None, last: int | None = None
) -> dict[str, Any]:
    lines = sorted(sheet.lines.all(), key=lambda ln: (ln.product.sku, ln.lot.code if ln.lot else ""))
    rows = []
    for line in lines:
        diff = None if line.counted_quantity is None else line.counted_quantity - line.expected_quantity
        rows.append({"line": line, "diff": diff})
    return {
        "sheet": sheet,
        "rows": rows,
        "counted": sum(1 for r in rows if r["diff"] is not None),
        "differences": sum(1 for r in rows if r["diff"]),
        "message": message,
        "last": last,
        "open": sheet.status == CountStatus.OPEN,
    }


def _count_response(
    request: HttpRequest, pk: int, message: Message | None, *, last: int | None = None, toast: str = ""
) -> HttpResponse:
    sheet = selectors.count_sheet_detail(pk)
    if htmx_of(request):
        context = _count_context(sheet, message, last) | {"can_write": True}
        response = render(request, "inventory/count_detail.html#panel", context)
        events = {"scanned": {"ok": message.level == "ok"}} if message and message.level != "info" else {}
        return trigger(response, toast, events=events)
    if message:
        messages.add_message(
            request, messages.ERROR if message.level == "bad" else messages.INFO, message.text
        )
    return redirect("inventory:count", pk=pk)


@read
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = or_404(selectors.count_sheet_detail, pk)
    return render_page(request, "inventory/count_detail.html", _count_context(sheet), fragments=("panel",))


@write
@require_POST
def count_scan(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = or_404(selectors.count_sheet_detail, pk)
    code = request.POST.get("code", "").strip()
    lot_code = request.POST.get("lot", "").strip()
    scanned = resolve_code(code) if code else None
    last = None
    if scanned is None or scanned.product is None:
        message = unknown_code(code)
        if scanned is not None and scanned.location is not None:
            message = Message(f"{scanned.location} is a bin: this sheet counts {sheet.location}.", "bad")
    else:
        product = scanned.product
        try:
            with transaction.atomic():
                lot = None
                if product.tracking != Tracking.NONE and lot_code:
                    lot = services.lot_get_or_create(product=product, code=lot_code)
                line = services.count_line_set(
                    sheet=sheet, product=product, lot=lot, counted=scanned.factor, add=True
                )
        except DomainError as exc:
            message = Message(exc.message, "bad")
        else:
            last = line.pk
            box = f" (1 {scanned.unit})" if scanned.unit else ""
            counted = formatting.quantity(line.counted_quantity or ZERO, product.stock_unit.code)
            added = formatting.number(scanned.factor)
            message = Message(f"+{added} {product.sku}{box} · {product.name} → {counted} counted")
    return _count_response(request, pk, message, last=last)


@write
@require_POST
def count_line(request: HttpRequest, pk: int) -> HttpResponse:
    """Counted quantities typed in: one field (htmx) or all of them (the form without JavaScript)."""
    sheet = or_404(selectors.count_sheet_detail, pk)
    lines = {line.pk: line for line in sheet.lines.all()}
    trigger = htmx_of(request).trigger_name
    names = [trigger] if trigger else [name for name in request.POST if name.startswith("counted:")]
    message = None
    last = None
    try:
        with transaction.atomic():
            for name in names:
                line = lines.get(int_or_none(name.removeprefix("counted:")) or 0)
                raw = request.POST.get(name, "").strip()
                if line is None or (raw == "" and line.counted_quantity is None):
                    continue
                if raw == "":
                    raise ValidationFailed(f"Type what was counted of {line.product.sku} (0 if none).")
                counted = parse_qty(raw)
                if counted is None:
                    raise ValidationFailed(f"“{raw}” is not a number ({line.product.sku}).")
                services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=counted)
                last = line.pk
    except DomainError as exc:
        message = Message(exc.message, "bad")
    return _count_response(request, pk, message, last=last)


@write
@require_POST
def count_apply(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = or_404(selectors.count_sheet_detail, pk)
    try:
        services.count_sheet_apply(
            sheet=sheet, user=request.user, zero_uncounted=request.POST.get("zero_uncounted") == "1"
        )
    except DomainError as exc:
        return _count_response(request, pk, Message(exc.message, "bad"))
    return _count_finished(request, sheet, f"{sheet.number} applied: the differences are in the ledger.")


@write
@require_POST
def count_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = or_404(selectors.count_sheet_detail, pk)
    try:
        services.count_sheet_cancel(sheet=sheet, user=request.user)
    except DomainError as exc:
        return _count_response(request, pk, Message(exc.message, "bad"))
    return _count_finished(request, sheet, f"{sheet.number} cancelled; nothing was adjusted.")


def _count_finished(request: HttpRequest, sheet: CountSheet, text: str) -> HttpResponse:
    """The sheet is read-only now: load it whole (htmx follows HX-Redirect), with the news as a toast."""
    messages.success(request, text)
    url = reverse("inventory:count", kwargs={"pk": sheet.pk})
    return HttpResponseClientRedirect(url) if htmx_of(request) else redirect(url)
