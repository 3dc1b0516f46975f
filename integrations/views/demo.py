"""The demo's fake Shopify, served here (DEBUG or ERP_DEMO_FAKES), and its "simulate an order" button;
every connector package's demo fake, and the demo actions its demo offers on its connection's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from erp.exceptions import DomainError
from erp.ui import flash
from integrations import demo
from integrations.models import Connection
from integrations.views.common import write
from integrations.views.connections import back, connector_demo, demo_card


def _enabled() -> None:
    if not demo.fakes_enabled():
        raise Http404("The demo fakes are off (DEBUG or ERP_DEMO_FAKES turns them on).")


@csrf_exempt
def fake_api(request: HttpRequest, rest: str) -> HttpResponse:
    """The fake shop's Admin API (authenticated by its own access token, as Shopify's is)."""
    _enabled()
    from integrations.shopify.fake import shared_fake

    headers = {k.lower(): v for k, v in request.headers.items()}
    status, response_headers, content = shared_fake().respond(
        request.method or "GET", request.build_absolute_uri(), headers, request.body
    )
    response = HttpResponse(content, status=status)
    for name, value in response_headers.items():
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            response[name] = value
    return response


def _connector_fake(key: str) -> Any:
    """The process's shared fake of a connector package that ships a demo (``integrations/<key>/demo.py``
    and a ``fake.shared_fake``); 404 otherwise."""
    import importlib
    from pathlib import Path

    import integrations

    root = Path(integrations.__file__).parent
    if (
        not key.isidentifier()
        or not (root / key / "demo.py").exists()
        or not (root / key / "fake.py").exists()
    ):
        raise Http404("No demo fake for this connector.")
    shared = getattr(importlib.import_module(f"integrations.{key}.fake"), "shared_fake", None)
    if shared is None:
        raise Http404("No demo fake for this connector.")
    return shared()


@csrf_exempt
def connector_fake_api(request: HttpRequest, key: str, rest: str) -> HttpResponse:
    """Any connector package's demo fake at /integrations/fake-<key>/... (its own auth, as the tool's)."""
    _enabled()
    headers = {k.lower(): v for k, v in request.headers.items()}
    status, response_headers, content = _connector_fake(key).respond(
        request.method or "GET", request.build_absolute_uri(), headers, request.body
    )
    response = HttpResponse(content, status=status)
    for name, value in response_headers.items():
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            response[name] = value
    return response


def install_connector_fakes_for_serving() -> None:
    """Each connector package's demo mounts its fake for a served app (as the demo Shopify's is)."""
    import importlib
    import pkgutil
    from pathlib import Path

    import integrations

    root = Path(integrations.__file__).parent
    for module in pkgutil.iter_modules([str(root)]):
        if module.ispkg and (root / module.name / "demo.py").exists():
            install = getattr(
                importlib.import_module(f"integrations.{module.name}.demo"), "install_fakes_for_serving", None
            )
            if install is not None:
                install()


@login_required
def fake_status(request: HttpRequest) -> HttpResponse:
    """What the fake shop holds: its products with their levels at the location, its orders, its webhooks."""
    _enabled()
    from integrations.shopify.fake import LOCATION_ID, shared_fake

    fake = shared_fake()
    variants = [
        {
            "product": product["title"],
            "title": variant["title"],
            "sku": variant["sku"],
            "id": variant["id"],
            "inventory_item_id": variant["inventory_item_id"],
            "available": fake.available(variant["inventory_item_id"], LOCATION_ID),
        }
        for product, variant in fake.variants()
    ]
    orders: list[dict[str, Any]] = sorted(
        fake.orders.values(), key=lambda o: o.get("order_number") or 0, reverse=True
    )
    context = {
        "shop": fake.shop,
        "variants": variants,
        "orders": orders[:50],
        "webhooks": list(fake.webhooks.values()),
        "requests": list(reversed(fake.requests[-30:])),
        "connection": Connection.objects.filter(name=demo.DEMO_NAME).first(),
        "base_url": demo.demo_base_url(),
    }
    return render(request, "integrations/fake_shopify.html", context)


@write
@require_POST
def simulate_order(request: HttpRequest, pk: int) -> HttpResponse:
    """The fake shop takes an order and sends its signed orders/create webhook to our hook endpoint."""
    _enabled()
    connection = get_object_or_404(Connection, pk=pk)
    if not demo.is_demo(connection):
        raise Http404("Only the demo connection talks to the fake shop.")
    try:
        result = demo.simulate_order(
            connection=connection, host=request.get_host(), unknown_sku=request.POST.get("unknown") == "1"
        )
    except DomainError as exc:
        flash(request, exc.message, "error")
        return back(request, reverse("integrations:connection", args=[pk]))
    number = result.order.get("name", "")
    lines = ", ".join(f"{line['quantity']} × {line['sku']}" for line in result.order.get("line_items", []))
    if result.status_code != 200:
        flash(
            request,
            f"Order {number} ({lines}): the hook answered {result.status_code}: {result.answer}",
            "error",
        )
    elif result.event is None:
        flash(request, f"Order {number} ({lines}) was delivered, but no event was stored.", "error")
    else:
        event = result.event
        event.refresh_from_db()
        level = "success" if event.status in ("processed", "received") else "warning"
        flash(
            request,
            f"Order {number} ({lines}) placed in the fake shop; "
            f"its webhook is {event.get_status_display().lower()}.",
            level,
        )
        return back(request, reverse("integrations:connection-events", args=[pk]))
    return back(request, reverse("integrations:connection", args=[pk]))


@write
@require_POST
def demo_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One demo action of a connector package's demo card (``integrations/<key>/demo.py``:
    ``demo_card`` names them, ``demo_act`` runs one); its message is flashed. 404 unless the fakes
    are on and the connection is that demo's."""
    _enabled()
    connection = get_object_or_404(Connection, pk=pk)
    card = demo_card(connection)
    module = connector_demo(connection)
    if card is None or module is None or name not in {a["name"] for a in card.get("actions", ())}:
        raise Http404("No such demo action on this connection.")
    try:
        level, message = module.demo_act(connection, name, request.get_host())
    except DomainError as exc:
        level, message = "error", exc.message
    if level == "info":
        messages.info(request, message)  # nothing to do, said plainly
    else:
        flash(request, message, level)
    return back(request, reverse("integrations:connection", args=[pk]))
