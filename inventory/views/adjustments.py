"""Adjustments and scrap from a scanner: set, add to or remove from what a bin holds."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.ui import htmx_of
from inventory import services
from inventory.models import LocationKind, Lot, Tracking
from inventory.views.common import active_bins, int_or_none, render_page, write
from inventory.views.scanner import (
    Message,
    ScanLine,
    ScanSession,
    bin_or_none,
    existing_lot,
    line_action,
    resolve_code,
    scan_product,
    scanner_response,
    unknown_code,
)

ADJUST_DEFAULTS = {"bin": None, "mode": "set", "reason": ""}
ADJUST_MODES = {
    "set": "Set the new quantity (counted)",
    "delta": "Add or remove (+/-)",
    "scrap": "Scrap (damaged, expired)",
}


def _adjust_context(session: ScanSession, message: Message | None) -> dict[str, Any]:
    location = bin_or_none(session.data["bin"])
    return {
        "session": session.data,
        "bins": active_bins(),
        "bin": location,
        "lines": session.lines(at=location),
        "modes": ADJUST_MODES,
        "message": message,
        "can_write": True,
    }


def _adjust_done(request: HttpRequest, session: ScanSession) -> Message:
    location = bin_or_none(session.data["bin"])
    lines = session.lines()
    mode, reason = session.data["mode"], session.data["reason"].strip()
    if not lines:
        return Message("Nothing scanned yet.", "bad")
    if location is None:
        return Message("Choose or scan the bin first.", "bad")
    if not reason:
        return Message("Give a reason: it is kept on every move.", "bad")
    changed = 0
    try:
        with transaction.atomic():  # all lines or none
            for line in lines:
                lot = _adjust_lot(line, mode)
                if mode == "scrap":
                    services.stock_scrap(
                        product=line.product,
                        location=location,
                        quantity=line.quantity,
                        reason=reason,
                        lot=lot,
                        user=request.user,
                    )
                    changed += 1
                else:
                    move = services.stock_adjust(
                        product=line.product,
                        location=location,
                        reason=reason,
                        lot=lot,
                        quantity=line.quantity if mode == "set" else None,
                        delta=line.quantity if mode == "delta" else None,
                        user=request.user,
                    )
                    changed += move is not None
    except DomainError as exc:
        return Message(exc.message, "bad")
    session.clear_lines()
    verb = "Scrapped" if mode == "scrap" else "Adjusted"
    text = f"{verb} {changed} of {len(lines)} line(s) at {location}."
    if changed < len(lines):
        text += " The others already had that quantity."
    return Message(text)


def _adjust_lot(line: ScanLine, mode: str) -> Lot | None:
    """Stock found of a new lot creates the lot; taking stock away needs one that exists."""
    if line.product.tracking == Tracking.NONE:
        return None
    if mode == "scrap" or (mode == "delta" and line.quantity < 0):
        return existing_lot(line)
    return services.lot_get_or_create(product=line.product, code=line.lot)


@write
def adjust(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "adjust", ADJUST_DEFAULTS)
    if request.method == "GET":
        context = _adjust_context(session, session.pop_message())
        session.save()
        return render_page(request, "inventory/adjust.html", context, fragments=("panel",))
    action = request.POST.get("action", "update")
    htmx = bool(htmx_of(request))
    if action == "settings" or (not htmx and action in ("update", "done")):
        session.data["bin"] = int_or_none(request.POST.get("bin"))
        if request.POST.get("mode") in ADJUST_MODES:
            session.data["mode"] = request.POST["mode"]
        session.data["reason"] = request.POST.get("reason", "").strip()[:255]
    finish, message = line_action(request, session, action)
    if finish:
        message = _adjust_done(request, session)
    return scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:adjust"),
        template="inventory/adjust.html",
        context=_adjust_context,
    )


@write
@require_POST
def adjust_scan(request: HttpRequest) -> HttpResponse:
    session = ScanSession(request, "adjust", ADJUST_DEFAULTS)
    code = request.POST.get("code", "").strip()
    scanned = resolve_code(code) if code else None
    if scanned is None:
        message = unknown_code(code)
    elif scanned.location is not None:
        if scanned.location.kind != LocationKind.INTERNAL:
            message = Message(f"{scanned.location} is a zone: scan one of its bins.", "bad")
        else:
            session.data["bin"] = scanned.location.pk
            message = Message(f"Bin {scanned.location}. Now scan the items.")
    else:
        message = scan_product(session, scanned, request.POST.get("lot", "").strip())
    return scanner_response(
        request,
        session,
        message,
        page=reverse("inventory:adjust"),
        template="inventory/adjust.html",
        context=_adjust_context,
    )
