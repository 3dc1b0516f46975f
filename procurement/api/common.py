"""What the sections of the procurement API share: the router they register on, the page size, and
the purchase order as its detail answers it. Products and units named in an input are looked up
with ``inventory.lookups``."""

from dataclasses import dataclass

from ninja import Router

from erp.api_helpers import Shown
from erp.apiauth import ErpAuth
from erp.exceptions import NotFound
from procurement import lifecycle, selectors, services
from procurement.models import PurchaseOrder

router = Router(tags=["Procurement"], auth=ErpAuth("procurement"))
# Bills and bill payments: procurement:write, or the accountant's right (docs/roles.md).
BILLING = ErpAuth("procurement", right="procurement_bill")

PAGE_SIZE = 50


@dataclass(frozen=True)
class PurchaseOrderDetail(Shown[PurchaseOrder]):
    """A purchase order as PurchaseOrderDetailOut reads it, with the actions its state allows."""

    allowed_actions: list[str]


def po_detail_of(pk: int) -> PurchaseOrderDetail:
    """A purchase order as PurchaseOrderDetailOut reads it: everything prefetched, actions computed."""
    try:
        po = selectors.po_detail(pk)
    except PurchaseOrder.DoesNotExist:
        raise NotFound(f"No purchase order with id {pk}.") from None
    actions = lifecycle.allowed_actions(
        po.status, needs_approval=services.needs_approval(po), approved=po.approved_at is not None
    )
    return PurchaseOrderDetail(obj=po, allowed_actions=actions)
