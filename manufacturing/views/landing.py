"""The landing page of manufacturing, and the work centres the operations run on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from erp.exceptions import DomainError
from erp.navigation import AREA_PAGE_BY_KEY
from erp.ui import flash
from manufacturing import selectors, services
from manufacturing.forms import WorkCentreForm
from manufacturing.views.common import read, read_write, render_page


@read
def index(request: HttpRequest) -> HttpResponse:
    orders = selectors.order_figures()
    boms = selectors.bom_figures()
    run = selectors.latest_run()
    suggestions = selectors.suggestion_stats(run, timezone.localdate()) if run else None
    context = {
        "page": AREA_PAGE_BY_KEY["manufacturing"],
        "orders": orders,
        "boms": boms,
        "run": run,
        "suggestions": suggestions,
    }
    return render_page(request, "manufacturing/index.html", context, fragments=())


@read_write
def work_centres(request: HttpRequest) -> HttpResponse:
    """The work centres, with the number of operations run on each; POST adds one."""
    form = WorkCentreForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            centre = services.work_centre_create(**form.cleaned_data)
        except DomainError as exc:
            for key, texts in exc.field_errors.items():
                form.add_error(key if key in form.fields else None, texts)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            flash(request, f"Work centre {centre.code} is added.")
            return redirect("manufacturing:work-centres")
    centres = selectors.work_centres_with_operation_count()
    status = 422 if form.is_bound else 200
    return render_page(
        request,
        "manufacturing/work_centres.html",
        {"form": form, "centres": centres},
        fragments=(),
        status=status,
    )
