"""Replenishment (reorder rules and what to order) and the stock valuation report."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_date

from erp import formatting
from erp.exceptions import DomainError
from erp.formatting import quantities_by_unit
from erp.money import ZERO
from erp.ui import htmx_of
from inventory import replenishment, selectors, services, valuation
from inventory.filters import ReorderRuleFilter
from inventory.forms import ReorderRuleForm, add_domain_errors
from inventory.models import ReorderRule
from inventory.views.common import int_or_none, paginate, qty_text, read, read_write, render_page, trigger


def _rule_initial(request: HttpRequest) -> dict[str, Any]:
    rule = reorder_rule_for_edit(request.GET.get("edit"))
    if rule is not None:
        return {
            "product": rule.product.sku,
            "warehouse": rule.warehouse_id,
            "min_quantity": qty_text(rule.min_quantity),
            "max_quantity": qty_text(rule.max_quantity),
            "multiple": qty_text(rule.multiple),
        }
    return {"product": request.GET.get("product", ""), "warehouse": int_or_none(request.GET.get("warehouse"))}


def reorder_rule_for_edit(pk: Any) -> ReorderRule | None:
    pk = int_or_none(pk)
    return selectors.reorder_rule_list().filter(pk=pk).first() if pk else None


@read_write
def replenishment_list(request: HttpRequest) -> HttpResponse:
    form = ReorderRuleForm(request.POST or None, initial=_rule_initial(request))
    saved = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.reorder_rule_set(
                product=data["product"],
                warehouse=data["warehouse"],
                min_quantity=data["min_quantity"],
                max_quantity=data["max_quantity"],
                multiple=data["multiple"],
                user=request.user,
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            unit = rule.product.stock_unit.code
            limits = f"{formatting.number(rule.min_quantity)}–{formatting.quantity(rule.max_quantity, unit)}"
            saved = f"Rule saved: {rule.product.sku} in {rule.warehouse.code}, {limits}."
            if not htmx_of(request):
                messages.success(request, saved)
                return redirect(request.get_full_path())
            form = ReorderRuleForm(initial={"warehouse": rule.warehouse_id})
    warehouse_id = int_or_none(request.GET.get("warehouse"))
    rules = ReorderRuleFilter(request.GET, queryset=selectors.reorder_rule_list())
    context = {
        "form": form,
        "warehouses": selectors.warehouse_list(),
        "warehouse_id": warehouse_id,
        "suggestions": replenishment.suggestions(warehouse_id=warehouse_id),
        "rules": rules,
        "page": paginate(request, rules.qs),
    }
    status = 422 if form.errors else 200
    response = render_page(
        request, "inventory/replenishment.html", context, fragments=("rows", "body"), status=status
    )
    return trigger(response, saved)


@read
def valuation_report(request: HttpRequest) -> HttpResponse:
    current = valuation.current_by_warehouse()
    as_of_text = request.GET.get("as_of", "").strip()
    as_of_date = parse_date(as_of_text) if as_of_text else None
    error = ""
    past = None
    if as_of_text and as_of_date is None:
        error = f"“{as_of_text}” is not a date (YYYY-MM-DD)."
    elif as_of_date is not None:
        moment = timezone.make_aware(datetime.combine(as_of_date, time.max))
        past = valuation.as_of(moment)
    warehouse_id = int_or_none(request.GET.get("warehouse"))
    context = {
        "current": current,
        "total": sum((v.value for v in current), ZERO),
        "total_quantity": quantities_by_unit(pair for v in current for pair in v.by_unit),
        "base_currency": settings.ERP_BASE_CURRENCY,
        "as_of": as_of_date,
        "as_of_text": as_of_text,
        "comparison": [
            {"warehouse": now.warehouse, "now": now, "then": then, "change": now.value - then.value}
            for now, then in zip(current, past, strict=True)
        ]
        if past is not None
        else [],
        "past_total": sum((v.value for v in past), ZERO) if past is not None else None,
        "error": error,
        "warehouse_id": warehouse_id,
        "top": list(valuation.by_product(warehouse_id)[:25]),
    }
    return render_page(request, "inventory/valuation.html", context, fragments=())
