"""Inbound stock to ShipBob through the whole hub: a purchase order delivered to a warehouse mapped to
a ShipBob fulfilment centre becomes one warehouse receiving order (WRO) there; what ShipBob stows
comes back, polled, as receipts of the PO here, each unit once; a PO cancelled here cancels its WRO.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
from django.urls import reverse

from integrations import inbound, polling
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.mappings import mapping_set
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef, InboundEvent, InboundStatus
from integrations.shipbob.fake import ACCESS_TOKEN, BASE_URL, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import iso, sample_secret
from inventory import availability
from inventory.models import Product, Warehouse
from procurement.models import PurchaseOrder, PurchaseOrderStatus, Receipt
from procurement.services import POLineSpec, po_cancel, po_create, po_send
from tests.erp.factories import UserFactory
from tests.integrations.outbound_support import run_due_deliveries
from tests.inventory.factories import ProductFactory, unit, warehouse
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

CICERO = 10


@pytest.fixture
def requests() -> list[httpx.Request]:
    return []


@pytest.fixture
def shipbob(requests) -> Iterator[FakeShipBob]:
    fake = FakeShipBob(limits=False)

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return fake.handle(request)

    with mounted(BASE_URL, httpx.MockTransport(handle)):
        yield fake


@pytest.fixture
def products() -> dict[str, Product]:
    return {sku: ProductFactory(sku=sku) for sku in ("TENT-2P-GRN", "SLBAG-20F-REG", "STOVE-TI-01")}


@pytest.fixture
def cicero() -> Warehouse:
    """Our warehouse whose stock ShipBob keeps at its Cicero centre."""
    return warehouse("SB-CIC")


@pytest.fixture
def connection(shipbob, cicero) -> Connection:
    made = connection_create(
        connector="shipbob",
        name="ShipBob",
        settings={"channel_id": CHANNEL_ID},
        secrets={"token": ACCESS_TOKEN, "webhook_secret": sample_secret()},
        warehouse=warehouse("WH1"),
    )
    mapping_set(connection=made, kind="fulfillment_center", our_value=cicero.code, tool_value=str(CICERO))
    return made


def sent_po(to: Warehouse, products: dict[str, Product], capture) -> PurchaseOrder:
    """A PO of 5 tents, 3 sleeping bags and 2 boxes of 12 stoves, sent to the supplier."""
    po = po_create(
        supplier=SupplierFactory(name="Alpine Gear Co."),
        warehouse=to,
        expected_date=datetime.date(2026, 5, 4),
        lines=[
            POLineSpec(products["TENT-2P-GRN"], 5, unit_cost="40"),
            POLineSpec(products["SLBAG-20F-REG"], 3, unit_cost="30"),
            POLineSpec(products["STOVE-TI-01"], 2, unit_cost="120", purchase_unit=unit("box"), factor=12),
        ],
    )
    with capture(execute=True):
        po = po_send(po=po)
    run_due_deliveries(capture)
    return po


def the_wro(shipbob: FakeShipBob) -> dict[str, Any]:
    [wro] = shipbob.wros.values()
    return shipbob.receiving_order(wro["id"])


def poll(connection: Connection, capture) -> Any:
    with capture(execute=True):
        run = polling.poll(connection=connection, object_type="receiving")
    assert run.failed == 0, run.errors
    return run


def stow(shipbob: FakeShipBob, wro_id: int, units: dict[str, int]) -> None:
    """ShipBob's staff stow part of a WRO (a first box): it stays open ("Arrived"). The fake's own
    ``receive`` completes a WRO at once; this is the step before it."""
    with shipbob._lock:
        wro = shipbob.wros[wro_id]
        now = shipbob.clock() + datetime.timedelta(seconds=1)
        for line in wro["inventory_quantities"]:
            got = units.get(line["sku"], 0)
            line["received_quantity"] += got
            line["stowed_quantity"] += got
            spot = (line["inventory_id"], wro["fulfillment_center"]["id"])
            shipbob.on_hand_at[spot] = shipbob.on_hand_at.get(spot, 0) + got
        wro["status"], wro["last_updated_date"] = "Arrived", iso(now)
        wro["status_history"].append({"id": 99, "status": "Arrived", "timestamp": iso(now)})


def received(po: PurchaseOrder) -> dict[str, D]:
    """What the PO's receipts received of each SKU, in purchase units."""
    out: dict[str, D] = {}
    for receipt in Receipt.objects.filter(order=po).prefetch_related("lines__order_line__product"):
        for line in receipt.lines.all():
            sku = line.order_line.product.sku
            out[sku] = out.get(sku, D(0)) + line.quantity
    return out


def test_a_po_to_a_mapped_warehouse_becomes_one_receiving_order_at_its_centre(
    shipbob, requests, connection, cicero, products, django_capture_on_commit_callbacks
):
    po = sent_po(cicero, products, django_capture_on_commit_callbacks)

    wro = the_wro(shipbob)
    assert (wro["status"], wro["purchase_order_number"]) == ("Awaiting", po.number)
    assert wro["fulfillment_center"]["id"] == CICERO
    assert {q["sku"]: q["expected_quantity"] for q in wro["inventory_quantities"]} == {
        "TENT-2P-GRN": 5,
        "SLBAG-20F-REG": 3,
        "STOVE-TI-01": 24,  # 2 boxes of 12: ShipBob counts units
    }
    [created] = [r for r in requests if r.method == "POST" and r.url.path == "/2026-01/receiving"]
    body = json.loads(created.content)
    assert (body["package_type"], body["box_packaging_type"]) == ("Package", "EverythingInOneBox")
    assert body["expected_arrival_date"] == "2026-05-04T00:00:00Z"
    [box] = body["boxes"]
    assert box["box_items"] == [
        {"sku": "TENT-2P-GRN", "quantity": 5},
        {"sku": "SLBAG-20F-REG", "quantity": 3},
        {"sku": "STOVE-TI-01", "quantity": 24},
    ]
    [delivery] = Delivery.objects.filter(connection=connection, topic="procurement.po_sent")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    ref = ExternalRef.objects.get(connection=connection, object_type="receiving")
    assert (ref.external_id, ref.object_id) == (str(wro["id"]), po.pk)
    assert ref.extra["finished"] is False


def test_what_shipbob_received_short_is_received_here_once(
    shipbob, connection, cicero, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(cicero, products, capture)
    wro = the_wro(shipbob)

    shipbob.receive(wro["id"], {"TENT-2P-GRN": 4, "SLBAG-20F-REG": 3, "STOVE-TI-01": 12})
    run = poll(connection, capture)

    assert run.created == 1
    assert received(po) == {"TENT-2P-GRN": D(4), "SLBAG-20F-REG": D(3), "STOVE-TI-01": D(1)}  # 1 box
    assert availability.of(products["TENT-2P-GRN"].pk, cicero.pk).on_hand == 4
    assert availability.of(products["STOVE-TI-01"].pk, cicero.pk).on_hand == 12
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    ref = ExternalRef.objects.get(connection=connection, object_type="receiving")
    assert (ref.extra["finished"], ref.extra["status"]) == (True, "Completed")
    assert ref.extra["received"] == {"slbag-20f-reg": "3", "stove-ti-01": "12", "tent-2p-grn": "4"}

    # the same record delivered again (a replay) receives nothing more
    [event] = InboundEvent.objects.filter(connection=connection, topic="poll:receiving")
    with capture(execute=True):
        inbound.inbound_replay(event=event)
    event.refresh_from_db()
    assert event.status == InboundStatus.SKIPPED
    assert Receipt.objects.filter(order=po).count() == 1
    # and a finished WRO is read no more
    again = poll(connection, capture)
    assert (again.created, Receipt.objects.filter(order=po).count()) == (0, 1)
    assert availability.of(products["TENT-2P-GRN"].pk, cicero.pk).on_hand == 4


def test_a_wro_received_box_by_box_is_received_here_by_its_deltas(
    shipbob, requests, connection, cicero, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(cicero, products, capture)
    wro = the_wro(shipbob)

    stow(shipbob, wro["id"], {"TENT-2P-GRN": 2, "STOVE-TI-01": 12})
    poll(connection, capture)
    assert received(po) == {"TENT-2P-GRN": D(2), "STOVE-TI-01": D(1)}

    asked = len(requests)
    poll(connection, capture)  # ShipBob's WRO has not changed: nothing new
    assert len(requests) == asked + 1  # read again: it is still open
    assert Receipt.objects.filter(order=po).count() == 1

    shipbob.receive(wro["id"], {"TENT-2P-GRN": 3, "SLBAG-20F-REG": 3, "STOVE-TI-01": 12})
    poll(connection, capture)

    receipts = list(Receipt.objects.filter(order=po).order_by("pk"))
    assert len(receipts) == 2
    assert {ln.order_line.product.sku: ln.quantity for ln in receipts[1].lines.all()} == {
        "TENT-2P-GRN": D(3),
        "SLBAG-20F-REG": D(3),
        "STOVE-TI-01": D(1),
    }
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.RECEIVED
    assert availability.of(products["STOVE-TI-01"].pk, cicero.pk).on_hand == 24


def test_a_po_cancelled_here_cancels_its_wro(
    shipbob, connection, cicero, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(cicero, products, capture)

    with capture(execute=True):
        po_cancel(po=po, reason="the supplier cannot deliver")
    run_due_deliveries(capture)

    assert the_wro(shipbob)["status"] == "Cancelled"
    [delivery] = Delivery.objects.filter(connection=connection, topic="procurement.po_cancelled")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    ref = ExternalRef.objects.get(connection=connection, object_type="receiving")
    assert (ref.extra["cancelled"], ref.extra["finished"]) == (True, True)
    assert len(shipbob.wros) == 1


def test_a_wro_shipbob_has_begun_receiving_is_not_cancelled_and_says_why(
    shipbob, connection, cicero, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(cicero, products, capture)
    wro = the_wro(shipbob)
    stow(shipbob, wro["id"], {})  # the boxes arrived; nothing is on a shelf yet

    with capture(execute=True):
        po_cancel(po=po)
    run_due_deliveries(capture)

    [delivery] = Delivery.objects.filter(connection=connection, topic="procurement.po_cancelled")
    assert delivery.status == DeliveryStatus.DEAD
    assert "is Arrived and cannot be cancelled" in delivery.last_error
    assert the_wro(shipbob)["status"] == "Arrived"


def test_a_po_to_a_warehouse_no_3pl_holds_is_sent_nowhere(
    shipbob, requests, connection, products, django_capture_on_commit_callbacks
):
    sent_po(warehouse("WH9"), products, django_capture_on_commit_callbacks)

    assert shipbob.wros == {}
    assert not Delivery.objects.filter(connection=connection).exists()
    assert not [r for r in requests if r.url.path.startswith("/2026-01/receiving")]


def test_the_connections_own_warehouse_without_a_centre_waits_for_its_mapping(
    shipbob, connection, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(warehouse("WH1"), products, capture)

    [delivery] = Delivery.objects.filter(connection=connection, topic="procurement.po_sent")
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.missing == {"kind": "map fulfilment centre", "value": "WH1"}
    assert shipbob.wros == {}

    with capture(execute=True):
        mapping_set(connection=connection, kind="fulfillment_center", our_value="WH1", tool_value="24")
    run_due_deliveries(capture)

    assert the_wro(shipbob)["fulfillment_center"]["id"] == 24
    assert the_wro(shipbob)["purchase_order_number"] == po.number


def test_the_po_page_says_where_the_po_went(
    client, shipbob, connection, cicero, products, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    po = sent_po(cicero, products, capture)
    wro = the_wro(shipbob)
    shipbob.receive(wro["id"], {"TENT-2P-GRN": 5})
    poll(connection, capture)
    client.force_login(UserFactory(roles=["Purchasing"]))

    page = client.get(reverse("procurement:order", args=[po.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'ShipBob</strong> receiving order <span class="mono">{wro["id"]}</span>, Completed' in html
    assert "5 units received there" in html
