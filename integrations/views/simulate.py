"""“Run a simulated day”: the day of ``manage.py simulate_day`` started from a page, as a background
job (integrations/jobs.py) whose page shows it order by order, then its report.

Offered only where the demo fakes are on (DEBUG or ERP_DEMO_FAKES: the app serves fakes rather
than talks to real tools), and to who may write every area: the day creates connections, a
warehouse with stock, a supplier, purchase and sales orders in this database."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from erp import jobs
from erp.exceptions import DomainError
from erp.models import Job
from integrations import demo, registry
from integrations.jobs import SIMULATE_DAY, simulation_allowed, simulation_tools
from integrations.views.common import render_page, write

MAX_ORDERS = 500
RECENT = 5


class SimulateForm(forms.Form):
    orders = forms.IntegerField(
        min_value=1, max_value=MAX_ORDERS, initial=40, help_text=f"1 to {MAX_ORDERS}; 40 take about a minute"
    )
    tools = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        initial=["shopify"],
        help_text="at least one sales channel (Shopify, BigCommerce, Amazon); shipping tools and books "
        "join them",
    )
    faults = forms.ChoiceField(
        choices=[
            ("default", "The usual faults"),
            ("none", "None"),
        ],
        initial="default",
        help_text="the usual: lost, repeated and reordered webhooks, 429s and 5xx, slow answers, "
        "expired tokens",
    )
    seed = forms.IntegerField(
        required=False, min_value=1, help_text="blank: a new one each time (the same seed plays the same day)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tools = self.fields["tools"]
        assert isinstance(tools, forms.MultipleChoiceField)
        tools.choices = [(key, _tool_name(key)) for key in simulation_tools()]


def _tool_name(key: str) -> str:
    try:
        return registry.get(key).name
    except registry.UnknownConnector:
        return key


def _page(request: HttpRequest, form: SimulateForm, status: int = 200) -> HttpResponse:
    recent = (
        Job.objects.filter(kind=SIMULATE_DAY).select_related("user").order_by("-created_at", "-id")[:RECENT]
    )
    context = {"form": form, "recent": list(recent[:RECENT]), "active": "hub"}
    return render_page(request, "integrations/simulate.html", context, fragments=(), status=status)


@write
def simulate_day(request: HttpRequest) -> HttpResponse:
    """The form (GET); POST starts the day and goes to its progress page."""
    if not demo.fakes_enabled():
        raise Http404("The simulated day runs only where the demo fakes are on (DEBUG or ERP_DEMO_FAKES).")
    if not simulation_allowed(request.user):
        missing = "every area (write): the day writes stock, orders and connections"
        return render(request, "403.html", {"missing": missing}, status=403)
    if request.method != "POST":
        return _page(request, SimulateForm())
    form = SimulateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    data = form.cleaned_data
    params = {
        "orders": data["orders"],
        "tools": data["tools"],
        "faults": data["faults"],
        "seed": data["seed"],
    }
    try:
        job = jobs.job_start(
            SIMULATE_DAY,
            user=request.user,
            label=f"Simulated day: {data['orders']} orders, {', '.join(data['tools'])}",
            params=params,
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _page(request, form, status=422)
    return redirect(reverse("job", args=[job.pk]))
