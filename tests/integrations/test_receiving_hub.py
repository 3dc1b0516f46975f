"""Receiving through the hub, without a tool: the resolver of a PO for a 3PL, and the applier that
receives only what is new of a 3PL's running totals."""

from __future__ import annotations

import datetime
from decimal import Decimal as D
from typing import Any

import pytest

from integrations import outbound_receiving
from integrations.appliers import apply
from integrations.appliers.receipts import ReceiptRefused, new_units, spread
from integrations.contract import InboundItem
from integrations.errors import MissingDependency
from integrations.models import Connection, ExternalRef, ValueMapping
from integrations.outbound_items import Resolved
from integrations.records import (
    ReceiptLineRecord,
    ReceiptRecord,
    ReceivingCancelOut,
    ReceivingLineOut,
    ReceivingOut,
)
from integrations.shipbob.fake import CHANNEL_ID
from inventory import availability
from inventory.models import Product, Warehouse
from procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Receipt
from procurement.services import POLineSpec, po_cancel, po_close, po_create, po_send
from tests.integrations.factories import (
    ConnectionFactory,
    ExternalRefFactory,
    OutboxEventFactory,
    SyncRunFactory,
)
from tests.inventory.factories import ProductFactory, unit, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cicero() -> Warehouse:
    return warehouse("SB-CIC")


@pytest.fixture
def connection(cicero) -> Connection:
    made = ConnectionFactory(
        connector="shipbob",
        name="ShipBob",
        settings={"channel_id": CHANNEL_ID},
        secrets={"token": "t", "webhook_secret": "whsec_x"},
        warehouse=warehouse("WH1"),
    )
    ValueMapping.objects.create(
        connection=made, kind="fulfillment_center", our_value=cicero.code, tool_value="10"
    )
    return made


def product(sku: str) -> Product:
    return Product.objects.filter(sku=sku).first() or ProductFactory(sku=sku)


def a_po(to: Warehouse, *, sent: bool = True) -> PurchaseOrder:
    po = po_create(
        supplier=SupplierFactory(name="Alpine Gear Co."),
        warehouse=to,
        expected_date=datetime.date(2026, 5, 4),
        lines=[
            POLineSpec(product("TENT"), 5, unit_cost="40"),
            POLineSpec(product("STOVE"), 2, unit_cost="120", purchase_unit=unit("box"), factor=12),
        ],
    )
    return po_send(po=po) if sent else po


def resolve(
    connection: Connection, po: PurchaseOrder, topic: str = "procurement.po_sent", **more: Any
) -> Any:
    payload = {"purchase_order_id": po.pk, "warehouse_id": po.warehouse_id, **more}
    return outbound_receiving.resolve_receiving(
        connection, OutboxEventFactory(topic=topic, payload=payload), False
    )


def linked(connection: Connection, po: PurchaseOrder, external_id: str = "740001") -> ExternalRef:
    ref: ExternalRef = ExternalRefFactory(
        connection=connection, object_type="receiving", external_id=external_id, internal=po
    )
    ref.extra = {"cancelled": False, "finished": False, "status": "Awaiting", "received": {}}
    ref.save()
    return ref


def record(po: PurchaseOrder, status: str = "Arrived", **units: int) -> InboundItem:
    receipt = ReceiptRecord(
        external_id="740001",
        reference=po.number,
        lines=tuple(ReceiptLineRecord(sku, D(n)) for sku, n in units.items()),
        status=status,
        finished=status == "Completed",
    )
    return InboundItem("receiving", "740001", record=receipt)


# --- the resolver ----------------------------------------------------------------------------------


def test_a_sent_po_to_a_mapped_warehouse_resolves_to_its_open_units_at_the_mapped_location(
    connection, cicero
):
    po = a_po(cicero)

    resolved = resolve(connection, po)

    assert isinstance(resolved, Resolved)
    assert resolved.item == ReceivingOut(
        reference=po.number,
        lines=(ReceivingLineOut("TENT", D(5)), ReceivingLineOut("STOVE", D(24))),
        expected_date=datetime.date(2026, 5, 4),
        supplier="Alpine Gear Co.",
        location_id="10",
    )


def test_the_connections_own_warehouse_goes_to_its_default_location_and_another_nowhere(connection):
    own = resolve(connection, a_po(warehouse("WH1")))
    elsewhere = resolve(connection, a_po(warehouse("WH9")))

    assert isinstance(own, Resolved)
    assert own.item.location_id is None
    assert isinstance(elsewhere, str)
    assert elsewhere.endswith("is delivered to WH9, whose stock ShipBob does not hold.")


def test_a_po_the_tool_has_is_never_sent_again_and_is_withdrawn_once_cancelled(connection, cicero):
    po = a_po(cicero)
    ref = linked(connection, po)

    assert resolve(connection, po) == f"ShipBob has {po.number} already, as receiving order 740001."
    po_cancel(po=po, reason="supplier out of stock")
    withdrawn = resolve(connection, po, "procurement.po_cancelled", reason="supplier out of stock")

    assert isinstance(withdrawn, Resolved)
    assert withdrawn.item == ReceivingCancelOut(po.number, "740001", "supplier out of stock")
    ref.extra = {**ref.extra, "cancelled": True}
    ref.save()
    assert "so is receiving order 740001" in resolve(connection, po, "procurement.po_cancelled")


def test_open_receiving_lists_the_unfinished_refs_in_one_query(
    connection, cicero, django_assert_max_num_queries
):
    refs = [linked(connection, a_po(cicero), str(740001 + i)) for i in range(3)]
    refs[1].extra = {**refs[1].extra, "finished": True}
    refs[1].save()

    with django_assert_max_num_queries(1):
        found = outbound_receiving.open_receiving(connection)
    with django_assert_max_num_queries(1):
        after = outbound_receiving.open_receiving(connection, after=refs[0].pk, limit=1)

    assert [r.external_id for r in found] == ["740001", "740003"]
    assert [r.external_id for r in after] == ["740003"]


def test_the_po_panel_reads_every_receiving_order_of_the_po_in_two_queries(
    connection, cicero, django_assert_max_num_queries
):
    po = a_po(cicero)
    linked(connection, po)
    linked(ConnectionFactory(connector="shipbob", name="ShipBob EU"), po, "88")

    with django_assert_max_num_queries(2):
        panel = outbound_receiving._po_panel(po)

    assert panel is not None
    assert [(r["tool"], r["external_id"], r["status"]) for r in panel["receiving"]] == [
        ("ShipBob", "740001", "Awaiting"),
        ("ShipBob", "88", "Awaiting"),
    ]
    assert outbound_receiving._po_panel(a_po(cicero)) is None


# --- the applier -----------------------------------------------------------------------------------


def test_new_units_are_what_the_running_totals_add_and_never_less():
    said = ReceiptRecord(
        "1", "PO-1", (ReceiptLineRecord("Tent", D(4)), ReceiptLineRecord("STOVE", D(10))), "Arrived"
    )

    new, totals, notes = new_units({"tent": D(1), "stove": D(12)}, said)

    assert new == {"tent": D(3)}
    assert totals == {"tent": D(4), "stove": D(12)}
    assert notes == ["stove: 1 now says 10 received, 12 were received here"]


def test_new_units_of_a_sku_fill_its_lines_in_order_the_last_taking_the_rest():
    lines = [
        PurchaseOrderLine(pk=1, quantity=D(2), quantity_received=D(1), factor=D(1)),
        PurchaseOrderLine(pk=2, quantity=D(3), quantity_received=D(0), factor=D(1)),
    ]

    assert spread(D(1), lines) == {1: D(1)}
    assert spread(D(6), lines) == {1: D(1), 2: D(5)}


def test_a_record_is_received_once_and_then_only_by_its_deltas(connection, cicero):
    po = a_po(cicero)
    ref = linked(connection, po)
    run = SyncRunFactory(connection=connection)

    first = apply(connection, record(po, TENT=2, STOVE=12), run)
    again = apply(connection, record(po, TENT=2, STOVE=12), run)
    more = apply(connection, record(po, "Completed", TENT=5, STOVE=24), run)

    assert (first.outcome, again.outcome, more.outcome) == ("created", "skipped", "created")
    assert again.reason == "nothing new received"
    [one, two] = Receipt.objects.filter(order=po).order_by("pk")
    assert {ln.order_line.product.sku: ln.quantity for ln in one.lines.all()} == {"TENT": 2, "STOVE": 1}
    assert {ln.order_line.product.sku: ln.quantity for ln in two.lines.all()} == {"TENT": 3, "STOVE": 1}
    assert availability.of(po.lines.get(product__sku="STOVE").product_id, cicero.pk).on_hand == 24
    ref.refresh_from_db()
    assert ref.extra["received"] == {"stove": "24", "tent": "5"}
    assert ref.extra["finished"] is True
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED


def test_units_that_make_no_whole_purchase_unit_are_refused_and_nothing_is_kept(connection, cicero):
    po = a_po(cicero)
    ref = linked(connection, po)

    with pytest.raises(ReceiptRefused, match="5 STOVE received do not make whole box of 12"):
        apply(connection, record(po, TENT=1, STOVE=5), SyncRunFactory(connection=connection))

    ref.refresh_from_db()
    assert ref.extra["received"] == {}
    assert not Receipt.objects.filter(order=po).exists()


def test_what_arrives_for_a_closed_po_is_for_a_person(connection, cicero):
    po = a_po(cicero)
    linked(connection, po)
    apply(connection, record(po, TENT=1), SyncRunFactory(connection=connection))
    po_close(po=po)

    with pytest.raises(ReceiptRefused, match=f"{po.number} is closed here"):
        apply(connection, record(po, TENT=3), SyncRunFactory(connection=connection))
    assert apply(connection, record(po, TENT=1), SyncRunFactory(connection=connection)).outcome == "skipped"


def test_a_receiving_order_the_hub_never_sent_is_linked_by_its_po_number_or_waits(connection, cicero):
    po = a_po(cicero)

    applied = apply(connection, record(po, TENT=5), SyncRunFactory(connection=connection))
    stray = ReceiptRecord("999", "PO-NOPE", (ReceiptLineRecord("TENT", D(1)),), "Arrived")

    assert applied.outcome == "created"
    assert ExternalRef.objects.get(connection=connection, object_type="receiving").object_id == po.pk
    with pytest.raises(MissingDependency, match="PO-NOPE"):
        apply(
            connection, InboundItem("receiving", "999", record=stray), SyncRunFactory(connection=connection)
        )
    assert not ExternalRef.objects.filter(external_id="999").exists()
