"""The notifications page (the bell's), and posting a comment under a document's timeline."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from erp import comments, notifications, timeline
from erp.access import AREAS, user_can
from erp.exceptions import DomainError, NotFound
from erp.templatetags.erp_timeline import render_timeline
from erp.ui import flash, is_htmx, paginate, toast

PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, notifications.for_user(request.user), size=PAGE_SIZE)
    return render(
        request,
        "erp/notifications.html",
        {
            "page": page,
            "items": list(page.object_list),
            "unread": notifications.unread(request.user).exists(),
        },
    )


def _safe(request: HttpRequest, url: str) -> str:
    ok = url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
    return url if ok else ""


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Opening a notification marks it read and goes where it points."""
    try:
        found = notifications.notification_read(user=request.user, pk=pk)
    except LookupError:
        raise Http404("No such notification") from None
    return HttpResponseRedirect(_safe(request, found.url) or "/notifications/")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notifications_read_all(user=request.user)
    flash(
        request,
        f"{count} notification{'s' if count != 1 else ''} marked read." if count else "Nothing unread.",
    )
    return redirect("notifications")


@login_required
@require_POST
def comment_add(request: HttpRequest, document: str) -> HttpResponse:
    """Post a comment; htmx gets the refreshed timeline, a plain POST goes back to the document."""
    body = request.POST.get("body", "")
    try:
        doc, obj = timeline.load(document)
    except LookupError as exc:
        raise Http404(str(exc)) from None
    if not user_can(request.user, doc.area, "read"):  # nor see its timeline
        missing = f"{AREAS[doc.area]} (read)"
        return render(request, "403.html", {"missing": missing}, status=403)
    try:
        comments.comment_add(user=request.user, document=document, body=body)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except DomainError as exc:
        if is_htmx(request):
            html = render_timeline(request, obj, body=body, error=exc.message)
            return toast(HttpResponse(html), exc.message, "error")
        flash(request, exc.message, "error")
        return HttpResponseRedirect(_safe(request, doc.url_of(obj)) or "/")
    if is_htmx(request):
        return toast(HttpResponse(render_timeline(request, obj)), "Comment posted.")
    flash(request, "Comment posted.")
    return HttpResponseRedirect((_safe(request, doc.url_of(obj)) or "/") + "#timeline")
