"""Schemas of the manufacturing API: what comes in (``*In``) and what goes out (``*Out``).

Quantities and money follow the one rule of erp.api_helpers: quantities as decimal strings with
4 places (``"12.0000"``); money -- costs, all in the base currency, named by ``currency`` on the
documents -- as decimal strings with the currency's minor-unit digits, and sub-cent digits only
where a cost has them (``"30.00"``, ``"0.1250"``). Never floats. They come in as strings or numbers
and the services quantize them. BOM component quantities are in the component's ``unit`` per the
BOM's output quantity; everything on a manufacturing order (required, reserved, consumed) is in
stock units for the whole order. Related records are referenced by id (``product``, ``warehouse``,
``work_centre``, ``bom``); the output repeats a readable label next to each id (``sku``,
``warehouse_code``).

The schemas live in one module per section of the API (work centres, BOMs, manufacturing
orders, MRP); this package re-exports them all.
"""

from manufacturing.schemas.boms import (
    BOM_ORDERING,
    BomComponentIn,
    BomComponentOut,
    BomDetailOut,
    BomFilterIn,
    BomIn,
    BomOperationIn,
    BomOperationOut,
    BomOut,
    BomPatchIn,
    CostLineOut,
    CostRollupOut,
    WhereUsedOut,
)
from manufacturing.schemas.mrp import (
    SUGGESTION_ORDERING,
    ConvertedOut,
    ConvertIn,
    CoverOut,
    MrpRunIn,
    MrpRunOut,
    MrpSuggestionFilterIn,
    MrpSuggestionOut,
)
from manufacturing.schemas.orders import (
    MO_ORDERING,
    ManufacturingOrderComponentOut,
    ManufacturingOrderConfirmedOut,
    ManufacturingOrderDetailOut,
    ManufacturingOrderFilterIn,
    ManufacturingOrderIn,
    ManufacturingOrderListOut,
    ManufacturingOrderOut,
    MoReasonIn,
    ProduceIn,
    ShortageOut,
)
from manufacturing.schemas.work_centres import (
    WORK_CENTRE_ORDERING,
    WorkCentreFilterIn,
    WorkCentreIn,
    WorkCentreOut,
)

__all__ = [
    "BOM_ORDERING",
    "MO_ORDERING",
    "SUGGESTION_ORDERING",
    "WORK_CENTRE_ORDERING",
    "BomComponentIn",
    "BomComponentOut",
    "BomDetailOut",
    "BomFilterIn",
    "BomIn",
    "BomOperationIn",
    "BomOperationOut",
    "BomOut",
    "BomPatchIn",
    "ConvertIn",
    "ConvertedOut",
    "CostLineOut",
    "CostRollupOut",
    "CoverOut",
    "ManufacturingOrderComponentOut",
    "ManufacturingOrderConfirmedOut",
    "ManufacturingOrderDetailOut",
    "ManufacturingOrderFilterIn",
    "ManufacturingOrderIn",
    "ManufacturingOrderListOut",
    "ManufacturingOrderOut",
    "MoReasonIn",
    "MrpRunIn",
    "MrpRunOut",
    "MrpSuggestionFilterIn",
    "MrpSuggestionOut",
    "ProduceIn",
    "ShortageOut",
    "WhereUsedOut",
    "WorkCentreFilterIn",
    "WorkCentreIn",
    "WorkCentreOut",
]
