"""The ledger and levels: stock moves (and reversing one), and the stock levels."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from erp.exceptions import DomainError
from erp.ui import htmx_of
from inventory import selectors, services
from inventory.filters import LevelFilter, MoveFilter
from inventory.forms import ReverseForm, add_domain_errors
from inventory.models import LocationKind, Product
from inventory.views.common import friendly_filters, int_or_none, paginate, read, render_page, trigger, write


@read
def move_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.move_list(with_reversed=True)
    filterset = friendly_filters(MoveFilter(request.GET, queryset=queryset))
    context = {
        "filter": filterset,
        "page": paginate(request, filterset.qs),
        "locations": selectors.location_list(include_virtual=True).exclude(kind=LocationKind.VIEW),
        "product": _product_or_none(request.GET.get("product")),
    }
    return render_page(request, "inventory/move_list.html", context)


def _product_or_none(pk: Any) -> Product | None:
    pk = int_or_none(pk)
    return Product.objects.filter(pk=pk).first() if pk is not None else None


@write
def move_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    move = selectors.move_list().filter(pk=pk).first()
    if move is None:
        raise Http404("No such move")
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = services.stock_move_reverse(
                move=move, reason=form.cleaned_data["reason"], user=request.user
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            text = f"Move {move.pk} reversed by move {reversal.pk}."
            if htmx_of(request):
                response = HttpResponse("")
                return trigger(response, text, events={"moves-changed": True})
            messages.success(request, text)
            return redirect(f"{reverse('inventory:moves')}?product={move.product_id}")
    already = selectors.reversed_by(move) is not None
    context = {"move": move, "form": form, "already": already}
    return render_page(request, "inventory/move_reverse.html", context, fragments=("reverse",))


@read
def level_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.level_list(include_virtual=False)
    filterset = friendly_filters(LevelFilter(request.GET, queryset=queryset))
    context = {"filter": filterset, "page": paginate(request, filterset.qs)}
    return render_page(request, "inventory/level_list.html", context)
