"""The manufacturing JSON API, mounted at /api/v1/manufacturing/.

Thin handlers: parse the input, look up what it references (404 when an id in the
path or a top-level reference is unknown, 422 for a bad component or operation),
call a service or selector, answer with a schema. Reads need ``manufacturing:read``,
everything else ``manufacturing:write`` (ErpAuth). Lists are paginated (``page``,
``page_size``: ``{"count", "items"}``) and filtered with the FilterSets of
manufacturing.filters, the same the pages use; they take ``ordering`` (an allow-list
per list), ``updated_since`` where the rows keep an ``updated_at`` and, for manufacturing
orders, ``expand=components`` (erp.api_helpers). BOMs answer an ``ETag`` and their PATCH
takes ``If-Match`` (412 when stale; erp.concurrency); manufacturing orders change only
through their actions, each refused by the lifecycle when it no longer applies. An action
the lifecycle refuses is a 409 naming both states; a BOM that would make a cycle is a 422
naming the path.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import DecimalField, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.pagination import PageNumberPagination, paginate

from erp.api_helpers import Listing, Shown, filtered, get_or_404, no_nulls, user_of
from erp.apiauth import ErpAuth
from erp.concurrency import if_match_param, locked_for_update
from erp.exceptions import NotFound, ValidationFailed
from erp.patching import answer_with_etag
from inventory.lookups import one_product, product_of, products_named, units_by_code
from inventory.models import Product, Warehouse
from manufacturing import boms, lifecycle, mrp, selectors, services
from manufacturing.filters import BomFilter, ManufacturingOrderFilter, SuggestionFilter
from manufacturing.models import (
    BillOfMaterials,
    ManufacturingOrder,
    MrpRun,
    MrpSuggestion,
    WorkCentre,
)
from manufacturing.schemas.boms import (
    BOM_ORDERING,
    BomComponentIn,
    BomDetailOut,
    BomFilterIn,
    BomIn,
    BomOperationIn,
    BomOut,
    BomPatchIn,
    WhereUsedOut,
)
from manufacturing.schemas.mrp import (
    SUGGESTION_ORDERING,
    ConvertedOut,
    ConvertIn,
    MrpRunIn,
    MrpRunOut,
    MrpSuggestionFilterIn,
    MrpSuggestionOut,
)
from manufacturing.schemas.orders import (
    MO_ORDERING,
    ManufacturingOrderConfirmedOut,
    ManufacturingOrderDetailOut,
    ManufacturingOrderFilterIn,
    ManufacturingOrderIn,
    ManufacturingOrderListOut,
    MoReasonIn,
    ProduceIn,
)
from manufacturing.schemas.work_centres import (
    WORK_CENTRE_ORDERING,
    WorkCentreFilterIn,
    WorkCentreIn,
    WorkCentreOut,
)

router = Router(tags=["Manufacturing"], auth=ErpAuth("manufacturing"))

PAGE_SIZE = 50


# --- lists and input helpers ----------------------------------------------------------------------

QUANTITY: "DecimalField[Any, Any]" = DecimalField(max_digits=18, decimal_places=4)


def _expand_components(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Each order's component lines, with what is still reserved for each (one query for the page)."""
    lines = selectors.mo_component_lines().order_by("id")
    return queryset.prefetch_related(Prefetch("components", queryset=lines, to_attr="expanded_components"))


WORK_CENTRES = Listing(ordering=WORK_CENTRE_ORDERING, updated=None)
BOMS = Listing(ordering=BOM_ORDERING)
ORDERS = Listing(ordering=MO_ORDERING, expand={"components": _expand_components})
SUGGESTIONS = Listing(ordering=SUGGESTION_ORDERING, updated=None)


def _component_specs(lines: Sequence[BomComponentIn]) -> list[services.ComponentSpec]:
    """The components' products (by id or SKU) and units (by code), in three queries; any not found is
    a 422 naming the line and field."""
    by_id, by_sku = products_named(lines)
    units = units_by_code({ln.unit for ln in lines if ln.unit and ln.unit.strip()})
    errors: dict[str, list[str]] = {}
    specs = []
    for i, line in enumerate(lines):
        product, name, error = product_of(line.product, line.sku, by_id, by_sku)
        if product is None:
            errors[f"components.{i}.{name}"] = [error]
        unit = None
        if line.unit and line.unit.strip():
            unit = units.get(line.unit.strip().lower())
            if unit is None:
                errors[f"components.{i}.unit"] = [f"No unit '{line.unit}'."]
        if product is not None and not errors:
            specs.append(
                services.ComponentSpec(
                    product=product, quantity=line.quantity, unit=unit, scrap_percent=line.scrap_percent
                )
            )
    if errors:
        raise ValidationFailed(f"The BOM is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    return specs


def _operation_specs(lines: Sequence[BomOperationIn]) -> list[services.OperationSpec]:
    """The operations' work centres (by id), in one query; an unknown one is a 422 naming the line."""
    centres = WorkCentre.objects.in_bulk({ln.work_centre for ln in lines}) if lines else {}
    errors = {
        f"operations.{i}.work_centre": [f"No work centre with id {line.work_centre}."]
        for i, line in enumerate(lines)
        if line.work_centre not in centres
    }
    if errors:
        raise ValidationFailed(f"The BOM is invalid: {next(iter(errors.values()))[0]}", field_errors=errors)
    return [
        services.OperationSpec(
            name=line.name,
            work_centre=centres[line.work_centre],
            minutes_per_unit=line.minutes_per_unit,
            cost_per_hour=line.cost_per_hour,
        )
        for line in lines
    ]


# --- work centres ---------------------------------------------------------------------------------


@router.get("/work-centres", response=list[WorkCentreOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def work_centre_list(request: HttpRequest, filters: Query[WorkCentreFilterIn]) -> QuerySet[WorkCentre]:
    """Work centres by code."""
    return WORK_CENTRES.apply(selectors.work_centre_list(filters.q or ""), filters)


@router.post("/work-centres", response={201: WorkCentreOut})
def work_centre_create(request: HttpRequest, payload: WorkCentreIn) -> WorkCentre:
    """A work centre; its cost per hour is the default of the operations done there."""
    return services.work_centre_create(
        code=payload.code, name=payload.name, cost_per_hour=payload.cost_per_hour
    )


# --- bills of materials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BomDetail(Shown[BillOfMaterials]):
    """A BOM as BomDetailOut reads it, with the cost of one unit of output rolled up."""

    cost: boms.CostRollup


def _bom_detail(pk: int) -> BomDetail:
    """A BOM as BomDetailOut reads it: components and operations prefetched, the cost rolled up."""
    try:
        bom = selectors.bom_detail(pk)
    except BillOfMaterials.DoesNotExist:
        raise NotFound(f"No bill of materials with id {pk}.") from None
    return BomDetail(obj=bom, cost=boms.rollup(bom))


@router.get("/boms", response=list[BomOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def bom_list(request: HttpRequest, filters: Query[BomFilterIn]) -> QuerySet[BillOfMaterials]:
    """Bills of materials by product SKU, newest version first, with their component and operation counts."""
    return filtered(BomFilter, filters, selectors.bom_list(), listing=BOMS)


@router.post("/boms", response={201: BomDetailOut})
def bom_create(request: HttpRequest, payload: BomIn) -> BomDetail:
    """A new version of the product's BOM with its components and operations, in one request. With
    ``activate`` (the default) it becomes the active version; a cycle is a 422 naming the path and
    nothing is saved."""
    product = one_product(payload.product, payload.sku)
    bom = services.bom_create(
        product=product,
        components=_component_specs(payload.components),
        operations=_operation_specs(payload.operations),
        output_quantity=payload.output_quantity,
        lead_time_days=payload.lead_time_days,
        activate=payload.activate,
        notes=payload.notes,
        user=user_of(request),
    )
    return _bom_detail(bom.pk)


@router.get("/boms/where-used", response=list[WhereUsedOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def bom_where_used(request: HttpRequest, product: int) -> list[dict[str, Any]]:
    """Every BOM using the product: directly (depth 1) or through sub-assemblies (2, 3, ...),
    paginated like every list (``{"count", "items"}``)."""
    used = Product.objects.filter(pk=product).first()
    if used is None:
        raise ValidationFailed(
            "Invalid filter.", field_errors={"product": [f"No product with id {product}."]}
        )
    return [
        {
            "depth": depth,
            "bom": bom.pk,
            "product": bom.product_id,
            "sku": bom.product.sku,
            "product_name": bom.product.name,
            "version": bom.version,
            "is_active": bom.is_active,
        }
        for depth, bom in boms.where_used(used)
    ]


@router.get("/boms/{bom_id}", response=BomDetailOut)
def bom_detail(request: HttpRequest, bom_id: int, response: HttpResponse) -> BomDetail:
    """A BOM with its components, operations and the cost of one unit of output rolled up through
    sub-assemblies (each component's cost and where it comes from). The ``ETag`` header names its
    version, for ``If-Match`` on PATCH."""
    return answer_with_etag(response, _bom_detail(bom_id))


@router.patch("/boms/{bom_id}", response=BomDetailOut)
def bom_update(
    request: HttpRequest,
    bom_id: int,
    payload: BomPatchIn,
    response: HttpResponse,
    if_match: str | None = if_match_param(),
) -> BomDetail:
    """Change the fields sent; ``components`` / ``operations`` replace all of them. With
    ``If-Match``: 412 when the BOM changed since it was read."""
    changes = payload.dict(exclude_unset=True)
    no_nulls(changes)
    components = _component_specs(payload.components) if payload.components is not None else None
    operations = _operation_specs(payload.operations) if payload.operations is not None else None
    with locked_for_update(BillOfMaterials, bom_id, what="bill of materials", if_match=if_match) as bom:
        services.bom_update(
            bom=bom,
            components=components,
            operations=operations,
            output_quantity=changes.get("output_quantity"),
            lead_time_days=changes.get("lead_time_days"),
            notes=changes.get("notes"),
            user=user_of(request),
        )
    return answer_with_etag(response, _bom_detail(bom_id))


@router.post("/boms/{bom_id}/activate", response=BomDetailOut)
def bom_activate(request: HttpRequest, bom_id: int) -> BomDetail:
    """Make this version the product's active one (a cycle through the active BOMs is a 422)."""
    services.bom_activate(bom=get_or_404(BillOfMaterials, bom_id, "bill of materials"), user=user_of(request))
    return _bom_detail(bom_id)


# --- manufacturing orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class MoDetail(Shown[ManufacturingOrder]):
    """An order as ManufacturingOrderDetailOut reads it, with the actions its state allows."""

    allowed_actions: list[str]


def _mo_detail(pk: int) -> MoDetail:
    """An order as ManufacturingOrderDetailOut reads it: components prefetched, with what each holds,
    and the actions."""
    try:
        mo = selectors.mo_detail(pk)
    except ManufacturingOrder.DoesNotExist:
        raise NotFound(f"No manufacturing order with id {pk}.") from None
    return MoDetail(obj=mo, allowed_actions=lifecycle.allowed_actions(mo.status))


def _mo(pk: int) -> ManufacturingOrder:
    return get_or_404(ManufacturingOrder, pk, "manufacturing order")


@router.get("/orders", response=list[ManufacturingOrderListOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def order_list(
    request: HttpRequest, filters: Query[ManufacturingOrderFilterIn]
) -> QuerySet[ManufacturingOrder]:
    """Manufacturing orders, latest planned start first. ``status=open``: draft, confirmed or in progress.
    ``expand=components``: each order with its component lines (fetched with the page)."""
    return filtered(ManufacturingOrderFilter, filters, selectors.mo_list(), listing=ORDERS)


@router.post("/orders", response={201: ManufacturingOrderDetailOut})
def order_create(request: HttpRequest, payload: ManufacturingOrderIn) -> MoDetail:
    """A draft order; its component lines come from the BOM (the product's active one unless ``bom``)."""
    product = one_product(payload.product, payload.sku)
    warehouse = get_or_404(Warehouse, payload.warehouse, "warehouse", field="warehouse")
    bom = None
    if payload.bom is not None:
        bom = get_or_404(BillOfMaterials, payload.bom, "bill of materials", field="bom")
    mo = services.mo_create(
        product=product,
        quantity=payload.quantity,
        warehouse=warehouse,
        bom=bom,
        planned_start=payload.planned_start,
        planned_finish=payload.planned_finish,
        notes=payload.notes,
        user=user_of(request),
    )
    return _mo_detail(mo.pk)


@router.get("/orders/{order_id}", response=ManufacturingOrderDetailOut)
def order_detail(request: HttpRequest, order_id: int) -> MoDetail:
    """An order with its components (required, reserved, consumed, in stock units) and the actions its
    state allows."""
    return _mo_detail(order_id)


@router.post("/orders/{order_id}/confirm", response=ManufacturingOrderConfirmedOut)
def order_confirm(request: HttpRequest, order_id: int) -> dict[str, Any]:
    """Confirm a draft and reserve its components in the warehouse; what could not be reserved is
    listed in ``shortages`` (the order is confirmed all the same)."""
    mo, shortages = services.mo_confirm(mo=_mo(order_id), user=user_of(request))
    return {
        "order": _mo_detail(mo.pk),
        "shortages": [{"sku": sku, "quantity": quantity} for sku, quantity in shortages.items()],
    }


@router.post("/orders/{order_id}/start", response=ManufacturingOrderDetailOut)
def order_start(request: HttpRequest, order_id: int) -> MoDetail:
    services.mo_start(mo=_mo(order_id), user=user_of(request))
    return _mo_detail(order_id)


@router.post("/orders/{order_id}/produce", response=ManufacturingOrderDetailOut)
def order_produce(request: HttpRequest, order_id: int, payload: ProduceIn) -> MoDetail:
    """Produce part or all of the order (a confirmed order starts): components are consumed in
    proportion, reserved stock first, and the output goes into stock at what it cost."""
    services.mo_produce(
        mo=_mo(order_id),
        quantity=payload.quantity,
        lot_code=payload.lot_code.strip(),
        serials=[s.strip() for s in payload.serials if s.strip()],
        user=user_of(request),
    )
    return _mo_detail(order_id)


@router.post("/orders/{order_id}/finish", response=ManufacturingOrderDetailOut)
def order_finish(request: HttpRequest, order_id: int) -> MoDetail:
    """Done (possibly short of the quantity): what was not used is released."""
    services.mo_finish(mo=_mo(order_id), user=user_of(request))
    return _mo_detail(order_id)


@router.post("/orders/{order_id}/cancel", response=ManufacturingOrderDetailOut)
def order_cancel(request: HttpRequest, order_id: int, payload: MoReasonIn | None = None) -> MoDetail:
    """Cancel, releasing every component reservation (what was produced stays produced)."""
    reason = payload.reason if payload else ""
    services.mo_cancel(mo=_mo(order_id), reason=reason, user=user_of(request))
    return _mo_detail(order_id)


# --- MRP ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOut(Shown[MrpRun]):
    """A run as MrpRunOut reads it, with its suggestions in planning order."""

    suggestions_list: list[MrpSuggestion]


def _run_out(run: MrpRun) -> RunOut:
    """A run as MrpRunOut reads it: its suggestions in planning order, fetched in one query."""
    return RunOut(obj=run, suggestions_list=list(selectors.suggestion_list(run)))


@router.post("/mrp/run", response={201: MrpRunOut})
def mrp_run(request: HttpRequest, payload: MrpRunIn | None = None) -> RunOut:
    """Plan up to the horizon: net requirements level by level, offset by lead times. Earlier
    unconverted suggestions are replaced by this run's."""
    horizon = payload.horizon if payload else None
    return _run_out(mrp.mrp_run(horizon=horizon, user=user_of(request)))


@router.get("/mrp/suggestions", response=list[MrpSuggestionOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def mrp_suggestions(request: HttpRequest, filters: Query[MrpSuggestionFilterIn]) -> QuerySet[MrpSuggestion]:
    """Suggestions of a run (the latest when ``run`` is left out), lowest level and earliest release first."""
    if filters.run is not None:
        run = MrpRun.objects.filter(pk=filters.run).first()
        if run is None:
            raise ValidationFailed(
                "Invalid filter.", field_errors={"run": [f"No MRP run with id {filters.run}."]}
            )
    else:
        run = selectors.latest_run()
    suggestions = selectors.suggestion_list(run) if run else MrpSuggestion.objects.none()
    # ``run`` is not one of the FilterSet's filters
    return filtered(SuggestionFilter, filters, suggestions, listing=SUGGESTIONS, exclude={"run"})


@router.post("/mrp/convert", response={201: ConvertedOut})
def mrp_convert(request: HttpRequest, payload: ConvertIn) -> dict[str, Any]:
    """Turn the chosen open suggestions into draft orders: one manufacturing order per make suggestion,
    one purchase order per supplier and warehouse for the buy ones. Returns their numbers."""
    return {"documents": mrp.mrp_convert(suggestion_ids=payload.suggestions, user=user_of(request))}
