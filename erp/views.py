"""Pages of the kernel: dashboard, area home pages, search, the event log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from erp import search as global_search
from erp import workspace
from erp.access import user_can
from erp.filters import OutboxEventFilter
from erp.health import check_broker, check_database
from erp.http import HtmxHttpRequest
from erp.navigation import AREA_PAGE_BY_KEY
from erp.permissions import area_required
from erp.selectors import outbox_event_list, outbox_stats

PAGE_SIZE = 50


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home: the kernel's sections (getting started, waiting for you), then each of the user's
    role homes (figures linking to their lists, charts), then the system's health for those who run
    it (operations, integration admins). A constant number of queries whatever the data."""
    homes = workspace.homes_of(request.user)
    show_health = bool(workspace.HEALTH_HOMES.intersection(homes))
    can_see_events = show_health and user_can(request.user, "integrations", "read")
    context = {
        "sections": workspace.render_sections(request),
        "homes": workspace.role_homes(request, homes),
        "show_health": show_health,
        "stats": outbox_stats() if can_see_events else None,
        "database": check_database() if show_health else None,
        "broker": check_broker() if show_health else None,
    }
    return render(request, "erp/dashboard.html", context)


def area_home(request: HttpRequest, area: str) -> HttpResponse:
    """The page an area opens on until the area's own pages land."""
    page = AREA_PAGE_BY_KEY.get(area)
    if page is None:
        raise Http404(area)

    @area_required(area)
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "erp/area_empty.html", {"page": page})

    return view(request)


@login_required
def search(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    groups = global_search.search(query, request.user)
    context = {
        "query": query,
        "groups": groups,
        "providers": global_search.providers_for(request.user),
    }
    template = "erp/search.html#results" if request.htmx else "erp/search.html"
    return render(request, template, context)


@area_required("integrations")
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    filterset = OutboxEventFilter(request.GET, queryset=outbox_event_list())
    paginator = Paginator(filterset.qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "stats": outbox_stats()}
    template = "erp/event_list.html#rows" if request.htmx else "erp/event_list.html"
    return render(request, template, context)


# The same mark as base.html's <link rel="icon">, for what asks /favicon.ico itself (a browser on a
# page that has no link: an error page, a JSON answer, the API's docs).
FAVICON = (
    b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
    b"<rect width='16' height='16' rx='3' fill='#2456c8'/></svg>"
)


def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
