"""Fulfilment: who ships the orders of each warehouse (``integrations.routing``).

One page lists every active warehouse with its rules (the one for every channel, and any for a
single channel) and sets a rule: a change moves the warehouse's open orders at once, and says how
many moved.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from erp.exceptions import DomainError
from erp.ui import flash
from integrations import routing
from integrations.forms import FulfilmentRuleForm, add_domain_errors
from integrations.views.common import read_write, render_page


@read_write
def fulfilment(request: HttpRequest) -> HttpResponse:
    shippers = routing.shipping_connections()
    initial = {k: request.GET[k] for k in ("warehouse", "channel", "connection") if request.GET.get(k)}
    form = FulfilmentRuleForm(request.POST or None, shippers=shippers, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved = routing.route_set(
                warehouse=data["warehouse"],
                channel=data["channel"],
                connection=data["connection"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            who = data["connection"].name if data["connection"] is not None else "Your own staff"
            what = f"{data['channel']} orders" if data["channel"] is not None else "orders"
            message = f"{who} ships the {what} of {data['warehouse'].code} from now on."
            if moved.orders:
                message += f" {moved.orders} open order{'s' if moved.orders != 1 else ''} move over."
            flash(request, message)
            return redirect("integrations:fulfilment")
    context = {
        "table": routing.route_table(),
        "form": form,
        "shippers": shippers,
    }
    status = 422 if form.errors else 200
    return render_page(request, "integrations/fulfilment.html", context, fragments=(), status=status)
