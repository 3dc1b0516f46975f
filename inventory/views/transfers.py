"""Transfers from a scanner: bin to bin (or warehouse to warehouse, in one or two steps)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp import formatting
from erp.exceptions import DomainError
from erp.ui import htmx_of
from inventory import selectors, services
from inventory.models import Location, LocationKind, Transfer
from inventory.views.common import active_bins, int_or_none, read, render_page, trigger, write
from inventory.views.scanner import (
    Message,
    ScanSession,
    bin_or_none,
    existing_lot,
    line_action,
    resolve_code,
    scan_product,
    scanner_response,
    unknown_code,
)

TRANSFER_DEFAULTS = {"from": None, "to": None, "two_step": False}


def _transfer_context(session: ScanSession, message: Message | None) -> dict[str, Any]:
    from_bin, to_bin = bin_or_none(session.data["from"]), bin_or_none(session.data["to"])
    lines = session.lines(at=from_bin)
    return {
        "session": session.data,
        "bins": active_bins(),
        "from_bin": from_bin,
        "to_bin": to_bin,
        "lines": lines,
        "units": [(line.quantity, line.product.stock_unit.code) for line in lines],  # never kg + pcs
        "cross_warehouse": bool(from_bin and to_bin and from_bin.warehouse_id != to_bin.warehouse_id),
        "message": message,
        "can_write": True,
    }


def _transfer_done(request: HttpRequest, session: ScanSession) -> tuple[Message, bool]:
    """Move (or ship) every scanned line at once; says whether it did."""
    lines = session.lines()
    from_bin, to_bin = bin_or_none(session.data["from"]), bin_or_none(session.data["to"])
    if not lines:
        return Message("Nothing scanned yet.", "bad"), False
    if from_bin is None:
        return Message("Choose or scan the bin the goods come from.", "bad"), False
    if to_bin is None:
        return Message("Choose or scan the bin the goods go to.", "bad"), False
    try:
        specs = [
            services.Line(product=ln.product, quantity=ln.quantity, lot=existing_lot(ln)) for ln in lines
        ]
        if session.data["two_step"] and from_bin.warehouse_id != to_bin.warehouse_id:
            transfer = services.transfer_ship(
                from_location=from_bin, to_location=to_bin, lines=specs, user=request.user
            )
            text = f"{transfer.number} shipped: {len(specs)} line(s) in transit to {to_bin}."
        else:
            services.stock_transfer(
                from_location=from_bin, to_location=to_bin, lines=specs, user=request.user
            )
            units = formatting.quantities_by_unit((ln.quantity, ln.product.stock_unit.code) for ln in lines)
            text = f"Moved {units} of {len(specs)} product(s) from {from_bin} to {to_bin}."
    except DomainError as exc:
        return Message(exc.message, "bad"), False
    session.clear_lines()
    session.data["to"] = None  # the next transfer often starts from the same bin
    return Message(text), True


@write
def transfer(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "transfer", TRANSFER_DEFAULTS)
    if request.method == "GET":
        context = _transfer_context(session, session.pop_message())
        session.save()
        context["in_transit"] = selectors.transfers_in_transit()[:50]
        return render_page(request, "inventory/transfer.html", context, fragments=("panel", "intransit"))
    action = request.POST.get("action", "update")
    done = False
    htmx = bool(htmx_of(request))
    if action == "bins" or (not htmx and action in ("update", "done")):
        session.data["from"] = int_or_none(request.POST.get("from"))
        session.data["to"] = int_or_none(request.POST.get("to"))
        session.data["two_step"] = request.POST.get("two_step") == "1"
    finish, message = line_action(request, session, action)
    if finish:
        message, done = _transfer_done(request, session)
    return scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:transfer"),
        template="inventory/transfer.html",
        context=_transfer_context,
        events={"transfers-changed": True} if done else None,
    )


@write
@require_POST
def transfer_scan(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "transfer", TRANSFER_DEFAULTS)
    code = request.POST.get("code", "").strip()
    scanned = resolve_code(code) if code else None
    if scanned is None:
        message = unknown_code(code)
    elif scanned.location is not None:
        message = _scan_bin(session, scanned.location)
    else:
        message = scan_product(session, scanned, request.POST.get("lot", "").strip())
    return scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:transfer"),
        template="inventory/transfer.html",
        context=_transfer_context,
    )


def _scan_bin(session: ScanSession, location: Location) -> Message:
    """The first bin scanned is where goods come from; any later one, where they go."""
    if location.kind != LocationKind.INTERNAL:
        return Message(f"{location} is a zone: scan one of its bins.", "bad")
    if session.data["from"] is None:
        session.data["from"] = location.pk
        return Message(f"From {location}. Now scan the items.")
    if location.pk == session.data["from"]:
        return Message(f"{location} is already the source bin.", "info")
    session.data["to"] = location.pk
    return Message(f"To {location}. Press Done when everything is scanned.")


@write
@require_POST
def transfer_receive(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = Transfer.objects.filter(pk=pk).first()
    if transfer is None:
        raise Http404("No such transfer")
    level = "success"
    try:
        services.transfer_receive(transfer=transfer, user=request.user)
        text = f"{transfer.number} received."
    except DomainError as exc:
        text, level = exc.message, "error"
    if htmx_of(request):
        in_transit = selectors.transfers_in_transit()[:50]
        response = render(
            request, "inventory/transfer.html#intransit", {"in_transit": in_transit, "can_write": True}
        )
        return trigger(response, text, level)
    messages.add_message(request, messages.SUCCESS if level == "success" else messages.ERROR, text)
    if request.POST.get("from") == "detail":
        return redirect("inventory:transfer-detail", pk=transfer.pk)
    return redirect("inventory:transfer")


def _transfer_detail(pk: int) -> Transfer | None:
    return selectors.transfer_list().select_related("created_by", "updated_by").filter(pk=pk).first()


@read
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One transfer: where from and to, its lines, when it left and arrived, and its timeline."""
    transfer = _transfer_detail(pk)
    if transfer is None:
        raise Http404("No such transfer")
    return render_page(request, "inventory/transfer_detail.html", {"transfer": transfer}, fragments=())
