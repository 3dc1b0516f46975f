"""The landing page of manufacturing, and the work centres the operations run on."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from erp.exceptions import DomainError
from erp.navigation import AREA_PAGE_BY_KEY
from erp.ui import flash
from manufacturing import selectors, services
from manufacturing.forms import WorkCentreForm
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOStatus, WorkCentre
from manufacturing.views.common import read, read_write, render_page
from manufacturing.views.orders import short_lines

S = MOStatus


@read
def index(request: HttpRequest) -> HttpResponse:
    orders = ManufacturingOrder.objects.annotate(
        short=Exists(short_lines().filter(order=OuterRef("pk")))
    ).aggregate(
        in_progress=Count("pk", filter=Q(status=S.IN_PROGRESS)),
        confirmed=Count("pk", filter=Q(status=S.CONFIRMED)),
        confirmed_short=Count("pk", filter=Q(status=S.CONFIRMED, short=True)),
        drafts=Count("pk", filter=Q(status=S.DRAFT)),
    )
    boms = BillOfMaterials.objects.aggregate(active=Count("pk", filter=Q(is_active=True)), all=Count("pk"))
    run = selectors.latest_run()
    suggestions = (
        run.suggestions.aggregate(
            total=Count("pk"),
            open=Count("pk", filter=Q(converted_to="")),
        )
        if run
        else None
    )
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
    centres = WorkCentre.objects.annotate(operation_count=Count("operations")).order_by("code")
    status = 422 if form.is_bound else 200
    return render_page(
        request,
        "manufacturing/work_centres.html",
        {"form": form, "centres": centres},
        fragments=(),
        status=status,
    )
