"""Where tools deliver their webhooks.

* POST /integrations/hooks/<connection id>/: a connection's own address.
* POST /integrations/hooks/app/<connector>/: the one address of a tool that sends every
  account's events to one URL (QuickBooks, HubSpot); each event goes to the connection of the
  account it names (``inbound.webhook_receive_for_app``).

Thin: the whole request (method, the URL as called, headers, the raw body the signature is over,
the time it arrived) goes to ``inbound``; the answer is 200 once the delivery's events are stored
(duplicates too, so the tool stops redelivering), 401 for a bad signature (nothing stored), 404
for an unknown connection or connector, 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE. No
session, no CSRF: the signature is the authentication. A paused connection still accepts and
stores events; they are processed on resume.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from erp.exceptions import ValidationFailed
from erp.problems import problem_response, too_large_response
from integrations import inbound, registry
from integrations.contract import WebhookRequest
from integrations.errors import InvalidSignature
from integrations.models import Connection, InboundEvent
from integrations.registry import UnknownConnector


def _delivery(request: HttpRequest) -> WebhookRequest:
    """The request as the tool sent it (RequestDataTooBig for a body over the limit)."""
    return WebhookRequest(
        method=request.method or "POST",
        url=request.build_absolute_uri(),
        headers=httpx.Headers(dict(request.headers)),
        body=request.body,
        received_at=timezone.now(),
    )


def _answer(stored: list[tuple[InboundEvent, bool]], **extra: object) -> JsonResponse:
    new = sum(created for _, created in stored)
    first = stored[0] if stored else None
    return JsonResponse(
        {
            # one event: "received" or "duplicate"; several: "received" when any was new
            "status": "received" if new else "duplicate",
            "event": first[0].pk if first else None,
            "events": [event.pk for event, _ in stored],
            "received": new,
            "duplicates": len(stored) - new,
            **extra,
        }
    )


@csrf_exempt
def receive(request: HttpRequest, connection_id: int) -> HttpResponse:
    if request.method != "POST":
        return problem_response(405, "Webhooks are delivered with POST.", headers={"Allow": "POST"})
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return problem_response(404, f"No connection {connection_id}.")
    try:
        delivery = _delivery(request)
    except RequestDataTooBig:
        return too_large_response()
    try:
        stored = inbound.webhook_receive(connection=connection, request=delivery)
    except InvalidSignature as exc:
        return problem_response(401, str(exc), title=exc.title)
    except UnknownConnector as exc:
        return problem_response(404, str(exc))
    except ValidationFailed as exc:
        return problem_response(400, str(exc))
    return _answer(stored)


@csrf_exempt
def receive_for_app(request: HttpRequest, connector: str) -> HttpResponse:
    if request.method != "POST":
        return problem_response(405, "Webhooks are delivered with POST.", headers={"Allow": "POST"})
    try:
        delivery = _delivery(request)
    except RequestDataTooBig:
        return too_large_response()
    try:
        result = inbound.webhook_receive_for_app(connector_key=connector, request=delivery)
    except InvalidSignature as exc:
        return problem_response(401, str(exc), title=exc.title)
    except UnknownConnector as exc:
        return problem_response(404, str(exc))
    except ValidationFailed as exc:
        return problem_response(400, str(exc))
    return _answer(result.stored, unrouted=result.unrouted)


def post_in_process(
    connection: Connection, headers: Mapping[str, str], body: bytes, host: str, *, query: str = ""
) -> tuple[int, str]:
    """Hand a delivery to the connection's hook endpoint in this process, as the tool's POST would
    arrive (the demo's "Simulate an order", the simulated day): (status, body of the answer). A
    connector whose tool sends every account's events to one address (``app_webhooks``:
    QuickBooks) gets it at the app's endpoint, routed by the account the body names."""
    app = registry.get(connection.connector).app_webhooks
    path = (
        reverse("integrations:hook-app", args=[connection.connector])
        if app
        else reverse("integrations:hook", args=[connection.pk])
    )
    name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": name or "localhost",
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.get("Content-Type", "application/json"),
        "HTTP_HOST": host,
    }
    for key, value in headers.items():
        if key.lower() != "content-type":
            environ["HTTP_" + key.upper().replace("-", "_")] = value
    request = WSGIRequest(environ)
    response = receive_for_app(request, connection.connector) if app else receive(request, connection.pk)
    return response.status_code, response.content.decode(errors="replace")


def deliver_in_process(connection: Connection, fake: Any, host: str) -> list[int]:
    """Every webhook a tool's ``fake`` has queued, handed to the connection's hook in this process
    (the demos' buttons), its address's query along (ShipStation's token): the hook's answers."""

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        return post_in_process(connection, headers, body, host, query=urlsplit(url).query)[0]

    return [d.attempts[-1].status or 0 for d in fake.deliver_webhooks(send)]
