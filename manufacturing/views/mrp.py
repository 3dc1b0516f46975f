"""MRP: run the plan up to a horizon (a background job, manufacturing/jobs.py: the page's run
button redirects to its progress page, whose result links back here), read its suggestions level
by level, convert the chosen ones."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from erp import formatting, jobs
from erp.exceptions import DomainError
from erp.ui import flash, int_or_none, is_htmx, parse_decimal, toast
from inventory.selectors import warehouse_choices
from manufacturing import selectors
from manufacturing.filters import SuggestionFilter
from manufacturing.forms import MrpRunForm
from manufacturing.jobs import KIND as MRP_JOB
from manufacturing.jobs import check_horizon
from manufacturing.models import MrpSuggestion, SuggestionKind
from manufacturing.mrp import mrp_convert
from manufacturing.mrp_items import item_page
from manufacturing.views.common import document_url, product_url, read_write, render_page, write

PAGE_SIZE = 100
HORIZON_DAYS = 60
DOCUMENT = re.compile(r"^((?:SO|MO|PO)-\d+)")


@dataclass(frozen=True)
class Cover:
    demand: str
    date: str
    quantity: str
    url: str  # the demand's document, when it names one


@dataclass
class SuggestionRow:
    s: MrpSuggestion
    late: bool
    converted_url: str
    covers: list[Cover]

    @property
    def purchase_quantity(self) -> str:
        item = self.s.supplier_item
        if self.s.kind != SuggestionKind.BUY or item is None:
            return ""
        return formatting.quantity(self.s.quantity / item.factor, item.purchase_unit.code)

    @property
    def product_url(self) -> str:
        return product_url(self.s.product_id)


def _covers(raw: Any) -> list[Cover]:
    covers = []
    for c in raw if isinstance(raw, list) else []:
        demand = str(c.get("demand", ""))
        match = DOCUMENT.match(demand)
        url = document_url(match.group(1), None) if match else ""
        quantity = str(c.get("quantity", ""))
        number = parse_decimal(quantity)
        if number is not None:
            quantity = formatting.number(number)
        covers.append(Cover(demand, str(c.get("date", "")), quantity, url))
    return covers


def mrp_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    run = selectors.latest_run()
    params = request.GET
    base = (
        selectors.suggestion_list(run).select_related("supplier_item__purchase_unit")
        if run
        else MrpSuggestion.objects.none()
    )
    filterset = SuggestionFilter(params, queryset=base)
    # One row per item (product and warehouse), its suggestions inside (manufacturing.mrp.item_page).
    page, items = item_page(
        filterset.qs if filterset.is_valid() else base.none(), params.get("page"), PAGE_SIZE
    )
    today = timezone.localdate()
    suggestions = [s for item in items for s in item.suggestions]
    pks = selectors.converted_documents(s.converted_to for s in suggestions if s.converted_to)
    rows = [
        SuggestionRow(
            s,
            late=not s.converted_to and s.release_date < today,
            converted_url=document_url(s.converted_to, pks.get(s.converted_to)) if s.converted_to else "",
            covers=_covers(s.covers),
        )
        for s in suggestions
    ]
    by_pk = {row.s.pk: row for row in rows}
    for item in items:
        item.rows = [by_pk[s.pk] for s in item.suggestions]
    stats = (
        selectors.suggestion_stats(run, today) if run else selectors.SuggestionStats(total=0, open=0, late=0)
    )
    horizon = run.horizon if run and run.horizon >= today else today + datetime.timedelta(days=HORIZON_DAYS)
    form = extra.pop("form", None) or MrpRunForm(initial={"horizon": horizon})
    return {
        "run": run,
        "form": form,
        "filter": filterset,
        "page": page,
        "rows": rows,
        "items": items,
        "stats": stats,
        "today": today,
        "warehouses": warehouse_choices(),
        "created": [],
        "error": "",
        **extra,
    }


@read_write
def mrp(request: HttpRequest) -> HttpResponse:
    """The MRP screen; POST starts a run of the plan to the horizon given (a background job) and
    goes to its progress page. The API's ``POST /manufacturing/mrp/run`` still runs it at once."""
    if request.method != "POST":
        return render_page(request, "manufacturing/mrp.html", mrp_context(request), fragments=("rows",))
    form = MrpRunForm(request.POST)
    if form.is_valid():
        horizon = form.cleaned_data["horizon"]
        try:
            check_horizon(horizon)
            job = jobs.job_start(
                MRP_JOB,
                user=request.user,
                label=f"MRP to {horizon:%Y-%m-%d}",
                params={"horizon": horizon.isoformat()},
            )
        except DomainError as exc:
            for key, texts in exc.field_errors.items():
                form.add_error(key if key in form.fields else None, texts)
            if not exc.field_errors:
                form.add_error(None, exc.message)
            message = f"MRP did not run: {exc.message}"
        else:
            url = reverse("job", args=[job.pk])
            if not is_htmx(request):
                return redirect(url)
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
    else:
        message = "MRP did not run: give a horizon date."
    if not is_htmx(request):
        flash(request, message, "error")
        return redirect("manufacturing:mrp")
    context = mrp_context(request, form=form)
    response = render_page(request, "manufacturing/mrp.html#plan", context, fragments=())
    return toast(response, message, "error")


@write
@require_POST
def mrp_convert_view(request: HttpRequest) -> HttpResponse:
    """Turn the ticked suggestions into draft manufacturing and purchase orders."""
    ticked = [part for value in request.POST.getlist("suggestion") for part in value.split(",")]
    ids = [pk for pk in (int_or_none(v) for v in ticked) if pk]  # an item's tick: its open suggestions
    created: list[tuple[str, str]] = []
    error = ""
    if not ids:
        error = "Tick at least one suggestion."
    else:
        try:
            numbers = mrp_convert(suggestion_ids=ids, user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            pks = selectors.converted_documents(numbers)
            created = [(n, document_url(n, pks.get(n))) for n in numbers]
    message = (
        f"Created {', '.join(n for n, _ in created)} (drafts)." if created else f"Nothing converted: {error}"
    )
    level = "success" if created else "error"
    if not is_htmx(request):
        flash(request, message, level)
        return redirect(f"{reverse('manufacturing:mrp')}?{request.GET.urlencode()}")
    context = mrp_context(request, created=created, error=error)
    response = render_page(request, "manufacturing/mrp.html#rows", context, fragments=())
    return toast(response, message, level)
