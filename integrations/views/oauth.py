"""OAuth 2.0 sign-in from a connection's page: "Connect to <tool>" and the tool's way back.

Both need ``integrations:write``. The sign-in itself is ``integrations.oauth``; these views turn
its answers into a redirect and a message (every failure says what happened and that nothing
changed).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from erp.exceptions import DomainError
from erp.ui import flash
from integrations import oauth
from integrations.models import Connection, ConnectionStatus
from integrations.views.common import write


def callback_uri(request: HttpRequest) -> str:
    """Our address the tool sends the browser back to (register it with the tool's app)."""
    return request.build_absolute_uri(reverse("integrations:oauth-callback"))


@write
@require_POST
def oauth_connect(request: HttpRequest, pk: int) -> HttpResponse:
    """To the tool's consent page, with a state bound to this session and this connection."""
    connection = get_object_or_404(Connection, pk=pk)
    try:
        url = oauth.start(connection=connection, session=request.session, redirect_uri=callback_uri(request))
    except DomainError as exc:
        flash(request, exc.message, "error")
        return redirect("integrations:connection", pk=pk)
    return HttpResponseRedirect(url)


@write
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """The tool sends the browser back here with a code (or an error) and our state."""
    try:
        connection = oauth.finish(session=request.session, params=request.GET.dict(), user=request.user)
    except oauth.SignInRefused as exc:
        flash(request, exc.message, "error")
        if exc.connection is not None:
            return redirect("integrations:connection", pk=exc.connection.pk)
        return redirect("integrations:index")
    info = oauth.page_info(connection, callback_uri(request))
    tool = info.tool if info is not None else connection.connector
    message = f"Connected to {tool}: the new tokens are stored."
    if info is not None and info.reauth_text:
        message = f"Connected to {tool}: the new tokens are stored ({info.reauth_text})."
    if connection.status == ConnectionStatus.PAUSED:
        message += " The connection is still paused: resume it to sync."
    flash(request, message)
    return redirect("integrations:connection", pk=connection.pk)
