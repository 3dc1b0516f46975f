"""POST /integrations/hooks/<connection id>/: where tools deliver their webhooks.

Thin: the raw body (the signature is over these exact bytes) and the headers go to
``inbound.webhook_receive``; the answer is 200 once the event is stored (a duplicate
too, so the tool stops redelivering), 401 for a bad signature (nothing stored), 404
for an unknown connection, 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE. No session,
no CSRF: the signature is the authentication.
A paused connection still accepts and stores events; they are processed on resume.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from erp.exceptions import ValidationFailed
from erp.problems import problem_response, too_large_response
from integrations import inbound
from integrations.errors import InvalidSignature
from integrations.models import Connection
from integrations.registry import UnknownConnector


@csrf_exempt
def receive(request: HttpRequest, connection_id: int) -> HttpResponse:
    if request.method != "POST":
        return problem_response(405, "Webhooks are delivered with POST.", headers={"Allow": "POST"})
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return problem_response(404, f"No connection {connection_id}.")
    try:
        body = request.body
    except RequestDataTooBig:
        return too_large_response()
    try:
        event, created = inbound.webhook_receive(
            connection=connection, headers=dict(request.headers), body=body
        )
    except InvalidSignature as exc:
        return problem_response(401, str(exc), title=exc.title)
    except UnknownConnector as exc:
        return problem_response(404, str(exc))
    except ValidationFailed as exc:
        return problem_response(400, str(exc))
    return JsonResponse({"status": "received" if created else "duplicate", "event": event.pk})
