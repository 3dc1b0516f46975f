"""What appliers share: the ExternalRef helpers, the outcome of an item, the hub's errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction

from integrations.errors import NeedsAPerson
from integrations.models import Connection, ExternalRef
from sales.models import OrderLine

ORDER, ORDER_LINE, CUSTOMER, VARIANT, SKU, PRODUCT = (
    "order",
    "order_line",
    "customer",
    "variant",
    "sku",
    "product",
)
GUEST = "guest"


class TotalsMismatch(NeedsAPerson):
    title = "The order's totals differ from the tool's"
    kind = "totals of order"


class NotConfigured(NeedsAPerson):
    title = "The connection is not configured for this"
    kind = "setting"


@dataclass(frozen=True)
class Applied:
    """What applying one item did."""

    object_type: str
    external_id: str
    outcome: str  # created | updated | cancelled | skipped
    reason: str = ""
    internal_id: int | None = None
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "object_type": self.object_type,
            "external_id": self.external_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "internal_id": self.internal_id,
            "label": self.label,
        }


# --- external refs ------------------------------------------------------------------------------


def ct(model: type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(model)


def refs(connection: Connection, object_type: str) -> models.QuerySet[ExternalRef]:
    return ExternalRef.objects.filter(connection=connection, object_type=object_type)


def claim(
    connection: Connection, object_type: str, external_id: str, model: type[models.Model]
) -> tuple[ExternalRef, bool]:
    """The locked ref, or a new placeholder (object_id 0) claiming it: (ref, claimed).

    The unique constraint arbitrates between concurrent claimers: the second insert waits
    for the first transaction and fails once it commits; the loser re-reads the ref.
    The caller must point a claimed ref at its object before its transaction ends.
    """
    existing = refs(connection, object_type).select_for_update().filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            ref = ExternalRef.objects.create(
                connection=connection,
                object_type=object_type,
                external_id=external_id,
                content_type=ct(model),
                object_id=0,
            )
    except IntegrityError:
        return refs(connection, object_type).select_for_update().get(external_id=external_id), False
    return ref, True


def link(
    connection: Connection, object_type: str, external_id: str, obj: models.Model, **fields: Any
) -> None:
    """Create a ref unless one exists (a mapping made earlier, maybe by a person, wins)."""
    ExternalRef.objects.bulk_create(
        [
            ExternalRef(
                connection=connection,
                object_type=object_type,
                external_id=external_id,
                content_type=ct(type(obj)),
                object_id=obj.pk,
                **fields,
            )
        ],
        ignore_conflicts=True,
    )


def order_line_ids(connection: Connection, order_external_id: str) -> dict[str, int]:
    """The tool's line ids of one of its orders -> our OrderLine ids (ExternalRef("order_line"))."""
    return dict(
        refs(connection, ORDER_LINE)
        .filter(content_type=ct(OrderLine), extra__order=order_external_id)
        .values_list("external_id", "object_id")
    )


def is_stale(ref: ExternalRef, updated_at: Any) -> bool:
    return bool(ref.external_updated_at and updated_at and updated_at < ref.external_updated_at)
