"""Bills of materials: the list, and the editor.

The editor keeps the BOM being edited in the form itself: one table row per
component (``component_product``, ``component_quantity``, ``component_unit``,
``component_scrap``, read in the order of the rows) and per operation
(``operation_name``, ``operation_centre``, ``operation_minutes``,
``operation_cost``). Rows are added and removed in place: the add endpoints
answer one ``<tr>`` that htmx appends, the remove endpoint an empty answer that
htmx uses to delete the row. After each change the roll-up panel posts the
whole form to the preview endpoint, which costs the unsaved BOM the way
``manufacturing.boms.rollup`` costs a saved one, writing nothing.

Without JavaScript the same form posts to the editor's own URL with
``action=add``, ``remove:N``, ``op-add``, ``op-remove:N``, and the page comes back
with the change made.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp.exceptions import DomainError
from erp.money import ZERO
from erp.ui import flash, int_or_none, is_htmx, paginate, parse_decimal, qty, toast
from inventory.models import Product
from inventory.selectors import product_by_code, stocked_product_find
from manufacturing import selectors, services
from manufacturing.boms import where_used
from manufacturing.filters import BomFilter
from manufacturing.forms import BomHeadForm
from manufacturing.models import BillOfMaterials, WorkCentre
from manufacturing.views.bom_rows import (
    SUGGESTIONS,
    ComponentRow,
    Found,
    OperationRow,
    component_rows,
    find_component,
    new_operation_raw,
    new_raw,
    operation_rows,
    preview_rollup,
    raw_components,
    raw_operations,
    raws_of,
    refuse_row,
    work_centres,
)
from manufacturing.views.common import product_url, read, read_write, render_page, write

# --- the list --------------------------------------------------------------------------------


def _list_filter_data(params: QueryDict) -> tuple[QueryDict, str]:
    """BomFilter's data; a typed component SKU or barcode (``uses``) becomes ``component``."""
    data = params.copy()
    code = data.get("uses", "").strip()
    note = ""
    if code and not data.get("component"):
        found = product_by_code(code)
        if found is None:
            note = f"No product has the SKU or barcode “{code}”."
            data["component"] = "0"
        else:
            data["component"] = str(found[0].pk)
    return data, note


@read
def bom_list(request: HttpRequest) -> HttpResponse:
    data, note = _list_filter_data(request.GET)
    filterset = BomFilter(data, queryset=selectors.bom_list())
    page = paginate(request, filterset.qs if filterset.is_valid() else BillOfMaterials.objects.none())
    context = {
        "filter": filterset,
        "page": page,
        "note": note,
        "active": request.GET.get("is_active", ""),
    }
    return render_page(request, "manufacturing/bom_list.html", context)


def editor_context(
    request: HttpRequest,
    *,
    product: Product,
    bom: BillOfMaterials | None,
    head: BomHeadForm,
    rows: list[ComponentRow],
    operations: list[OperationRow],
    centres: dict[int, WorkCentre],
    errors: list[str] | None = None,
    message: tuple[str, str] | None = None,
    choices: list[Product] | None = None,
) -> dict[str, Any]:
    versions = selectors.bom_versions(product)
    active = next((v for v in versions if v.is_active), None)
    action = (
        reverse("manufacturing:bom", args=[bom.pk])
        if bom
        else f"{reverse('manufacturing:bom-new')}?product={product.pk}"
    )
    return {
        "product": product,
        "product_url": product_url(product.pk),
        "bom": bom,
        "head": head,
        "rows": rows,
        "operations": operations,
        "centres": list(centres.values()),
        "preview": preview_rollup(product, str(head["output_quantity"].value() or ""), rows, operations),
        "versions": versions,
        "active_bom": active,
        "where_used": where_used(product),
        "sub_assemblies": [r for r in rows if r.sub_bom is not None],
        "errors": errors or [],
        "message": message,
        "choices": choices or [],
        "action": action,
    }


def _head_initial(bom: BillOfMaterials | None, product: Product) -> dict[str, Any]:
    if bom is not None:
        return {
            "output_quantity": qty(bom.output_quantity),
            "lead_time_days": bom.lead_time_days,
            "notes": bom.notes,
        }
    has_active = selectors.has_active_bom(product)
    return {"output_quantity": "1", "lead_time_days": 1, "notes": "", "activate": not has_active}


def _render_editor(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if is_htmx(request):
        return render_page(request, "manufacturing/bom_editor.html#editor", context, fragments=())
    return render_page(request, "manufacturing/bom_editor.html", context, fragments=(), status=status)


def _editor(request: HttpRequest, product: Product, bom: BillOfMaterials | None) -> HttpResponse:
    centres = work_centres()
    if request.method != "POST":
        component_raws, operation_raws = raws_of(bom) if bom else ([], [])
        head = BomHeadForm(initial=_head_initial(bom, product))
        context = editor_context(
            request,
            product=product,
            bom=bom,
            head=head,
            rows=component_rows(component_raws),
            operations=operation_rows(operation_raws, centres),
            centres=centres,
        )
        return _render_editor(request, context)

    data = request.POST
    action = data.get("action") or "refresh"
    code = data.get("code", "").strip()
    if action == "refresh" and code:
        action = "add"  # Enter in the product box, without JavaScript
    component_raws, operation_raws = raw_components(data), raw_operations(data)
    focus: int | None = None
    message: tuple[str, str] | None = None
    choices: list[Product] = []
    if action.startswith("remove:") and (n := int_or_none(action.removeprefix("remove:"))) is not None:
        component_raws = [r for i, r in enumerate(component_raws) if i != n]
    elif (
        action.startswith("op-remove:") and (n := int_or_none(action.removeprefix("op-remove:"))) is not None
    ):
        operation_raws = [r for i, r in enumerate(operation_raws) if i != n]
    elif action == "op-add":
        operation_raws.append(new_operation_raw(centres.get(int_or_none(data.get("add_centre")) or 0)))
    elif action == "add" or action.startswith("pick:"):
        picked = int_or_none(action.removeprefix("pick:")) if action.startswith("pick:") else None
        found = find_component(code, picked)
        refusal = refuse_row(found, bom_product=product.pk, existing=[r["product"] for r in component_raws])
        if refusal:
            message, choices = (refusal, "info" if found.choices else "bad"), found.choices
        else:
            assert found.product is not None
            component_raws.append(new_raw(found))
            focus = found.product.pk
            message = (f"Added {found.product.sku}: type the quantity.", "ok")

    head = BomHeadForm(data)
    rows = component_rows(component_raws, focus=focus)
    operations = operation_rows(operation_raws, centres)
    if action == "op-add" and operations:
        operations[-1].errors.pop("minutes", None)  # not typed yet
        operations[-1].focus = True
    if action in ("save", "new_version", "activate"):
        return _save(request, product, bom, action, head, rows, operations, centres)
    context = editor_context(
        request,
        product=product,
        bom=bom,
        head=head,
        rows=rows,
        operations=operations,
        centres=centres,
        message=message,
        choices=choices,
    )
    return _render_editor(request, context)


def _apply_errors(exc: DomainError, head: BomHeadForm, rows: list[ComponentRow]) -> None:
    """Put the service's ``components.N.field`` and head field errors where they belong."""
    for key, texts in exc.field_errors.items():
        parts = key.split(".")
        if parts[0] == "components" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
            name = parts[2] if len(parts) > 2 else "product"
            rows[int(parts[1])].errors[{"scrap_percent": "scrap"}.get(name, name)] = texts[0]
        elif key in ("output_quantity", "lead_time_days") and key not in head.errors:
            head.add_error(key, texts)


def _save(
    request: HttpRequest,
    product: Product,
    bom: BillOfMaterials | None,
    action: str,
    head: BomHeadForm,
    rows: list[ComponentRow],
    operations: list[OperationRow],
    centres: dict[int, WorkCentre],
) -> HttpResponse:
    errors: list[str] = []
    if not rows:
        errors.append("Add at least one component: type its SKU, barcode or name and press Enter.")
    elif any(r.errors for r in rows) or any(op.errors for op in operations):
        errors.append("Some rows need attention (marked below).")
    if head.is_valid() and not errors:
        components = [
            services.ComponentSpec(r.product, r.quantity or ZERO, r.choice.unit, r.scrap or ZERO)
            for r in rows
        ]
        steps = [
            services.OperationSpec(  # a row without a centre has an error: none reaches here
                op.name,
                op.centre,
                op.minutes or ZERO,
                parse_decimal(op.cost_text) if op.cost_text else None,
            )
            for op in operations
            if op.centre is not None
        ]
        values = head.cleaned_data
        try:
            saved, message = _write(request, product, bom, action, values, components, steps)
        except DomainError as exc:
            _apply_errors(exc, head, rows)
            errors.append(exc.message)
        else:
            if bom is None or action == "new_version":
                flash(request, message)
                url = reverse("manufacturing:bom", args=[saved.pk])
                return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
            if not is_htmx(request):
                flash(request, message)
                return redirect("manufacturing:bom", pk=saved.pk)
            saved = selectors.bom_detail(saved.pk)
            component_raws, operation_raws = raws_of(saved)
            context = editor_context(
                request,
                product=product,
                bom=saved,
                head=BomHeadForm(initial=_head_initial(saved, product)),
                rows=component_rows(component_raws),
                operations=operation_rows(operation_raws, centres),
                centres=centres,
                message=(message, "ok"),
            )
            return toast(_render_editor(request, context), message)
    elif not errors and not head.is_valid():
        errors.append("Some fields need attention (marked below).")
    context = editor_context(
        request,
        product=product,
        bom=bom,
        head=head,
        rows=rows,
        operations=operations,
        centres=centres,
        errors=errors,
    )
    response = _render_editor(request, context, status=422)
    return toast(response, f"Nothing was saved: {errors[0]}", "error") if is_htmx(request) else response


def _write(
    request: HttpRequest,
    product: Product,
    bom: BillOfMaterials | None,
    action: str,
    values: dict[str, Any],
    components: list[services.ComponentSpec],
    steps: list[services.OperationSpec],
) -> tuple[BillOfMaterials, str]:
    common = {
        "components": components,
        "operations": steps,
        "output_quantity": values["output_quantity"],
        "lead_time_days": values["lead_time_days"],
        "notes": values["notes"],
        "user": request.user,
    }
    if bom is None or action == "new_version":
        activate = bool(values.get("activate")) if bom is None else False
        saved = services.bom_create(product=product, activate=activate, **common)
        state = "active" if activate else "not active yet"
        return saved, f"{product.sku} BOM v{saved.version} is saved ({state})."
    with transaction.atomic():  # save and activate together, or neither
        saved = services.bom_update(bom=bom, **common)
        if action == "activate":
            saved = services.bom_activate(bom=saved, user=request.user)
    if action == "activate":
        return saved, f"{product.sku} BOM v{saved.version} is saved and active: new orders use it."
    return saved, f"{product.sku} BOM v{saved.version} is saved."


def _product_for_new(request: HttpRequest) -> Product | None:
    pk = int_or_none(request.GET.get("product"))
    return Product.objects.select_related("stock_unit").filter(pk=pk).first() if pk else None


@write
def bom_new(request: HttpRequest) -> HttpResponse:
    """A new BOM (or a new version) for ?product=...; without one, pick the product first."""
    product = _product_for_new(request)
    if product is None:
        code = request.GET.get("sku", "").strip()
        found = find_component(code) if code else Found()
        if found.product is not None:
            return redirect(f"{reverse('manufacturing:bom-new')}?product={found.product.pk}")
        context = {"code": code, "found": found, "lookup_url": reverse("manufacturing:bom-lookup")}
        return render_page(request, "manufacturing/bom_new.html", context, fragments=())
    if not product.is_stocked:
        flash(request, f"{product.sku} is a service: it has no bill of materials.", "error")
        return redirect("manufacturing:boms")
    return _editor(request, product, None)


@read_write
def bom_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        bom = selectors.bom_detail(pk)
    except BillOfMaterials.DoesNotExist as exc:
        raise Http404(f"No BOM {pk}") from exc
    return _editor(request, bom.product, bom)


@read
def bom_lookup(request: HttpRequest) -> HttpResponse:
    """Type-ahead of the product boxes: SKU, barcode or name (stocked, active products)."""
    code = (request.GET.get("code") or request.GET.get("sku") or "").strip()
    products: list[Product] = []
    if len(code) >= 2:
        products = list(stocked_product_find(code)[:SUGGESTIONS])
    made = selectors.active_boms_by_product(p.pk for p in products)
    context = {"products": [(p, p.pk in made) for p in products], "code": code}
    return render(request, "manufacturing/_lookup.html", context)


@write
@require_POST
def bom_component_row(request: HttpRequest) -> HttpResponse:
    """One new component row for the product typed or picked, appended by htmx; or why not."""
    data = request.POST
    found = find_component(data.get("code", ""), int_or_none(data.get("pick")))
    bom_product = int_or_none(data.get("bom_product"))
    refusal = refuse_row(found, bom_product=bom_product, existing=data.getlist("component_product"))
    if refusal:
        template = "manufacturing/_lookup.html" if found.choices else "manufacturing/_message.html"
        context = {
            "products": [(p, False) for p in found.choices],
            "code": data.get("code", "").strip(),
            "message": refusal,
            "level": "info" if found.choices else "bad",
        }
        response = render(request, template, context)
        response["HX-Retarget"] = "#c-suggest" if found.choices else "#c-msg"
        response["HX-Reswap"] = "innerHTML"
        if found.product is not None and str(found.product.pk) in data.getlist("component_product"):
            toast(response, "", events={"component-exists": {"product": found.product.pk}})
        return response
    assert found.product is not None
    row = component_rows([new_raw(found)], focus=found.product.pk)[0]
    response = render(
        request, "manufacturing/_component_row.html", {"row": row, "index": "new", "can_write": True}
    )
    added = {"message": f"Added {found.product.sku}: type the quantity."}
    return toast(response, "", events={"bom-changed": True, "component-added": added}, after_settle=True)


@write
@require_POST
def bom_operation_row(request: HttpRequest) -> HttpResponse:
    centres = work_centres()
    centre = centres.get(int_or_none(request.POST.get("add_centre")) or 0)
    row = operation_rows([new_operation_raw(centre)], centres)[0]
    row.errors.pop("minutes", None)  # not typed yet
    row.focus = True
    context = {"op": row, "index": "new", "centres": list(centres.values()), "can_write": True}
    response = render(request, "manufacturing/_operation_row.html", context)
    return toast(response, "", events={"bom-changed": True}, after_settle=True)


@write
@require_POST
def bom_row_remove(request: HttpRequest) -> HttpResponse:
    """The row goes (htmx deletes it); the roll-up is asked to refresh."""
    return toast(HttpResponse(""), "", events={"bom-changed": True, "row-removed": True}, after_settle=True)


@read
@require_POST
def bom_preview(request: HttpRequest) -> HttpResponse:
    """The roll-up of the BOM as edited, unsaved: nothing is written."""
    product = get_object_or_404(
        Product.objects.select_related("stock_unit"), pk=int_or_none(request.POST.get("bom_product")) or 0
    )
    centres = work_centres()
    rows = component_rows(raw_components(request.POST))
    operations = operation_rows(raw_operations(request.POST), centres)
    preview = preview_rollup(product, request.POST.get("output_quantity", ""), rows, operations)
    return render(
        request, "manufacturing/_rollup.html", {"preview": preview, "product": product, "editing": True}
    )


@write
@require_POST
def bom_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Activate a saved version as it is (the list's and the versions panel's button)."""
    bom = get_object_or_404(BillOfMaterials.objects.select_related("product"), pk=pk)
    try:
        services.bom_activate(bom=bom, user=request.user)
    except DomainError as exc:
        message, level = f"Not activated: {exc.message}", "error"
    else:
        message, level = f"{bom.product.sku} BOM v{bom.version} is active: new orders use it.", "success"
    flash(request, message, level)
    url = reverse("manufacturing:bom", args=[pk])
    return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
