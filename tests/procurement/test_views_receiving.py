"""The receiving screen: scan the order number, scan the items, Done."""

from __future__ import annotations

import json
from decimal import Decimal as D
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from inventory import services as stock
from inventory.models import Location, LocationKind, Lot, StockLevel, Tracking
from procurement import services
from procurement.models import PurchaseOrderStatus, Receipt
from tests.inventory.factories import bin_of, unit
from tests.procurement.test_views import htmx, login, make_world, sent_order

pytestmark = pytest.mark.django_db
S = PurchaseOrderStatus
URL = "/procurement/receive/"


@pytest.fixture
def world(db) -> dict:
    return make_world()


@pytest.fixture
def worker(client: Client) -> Client:
    return login(client, "Warehouse", username="wally")


class Screen:
    """Drives the screen as the browser does: each request carries the state the last answer gave."""

    def __init__(self, client: Client):
        self.client = client
        self.state: dict[str, str] = {}
        self.response = None

    def post(self, **data: str):
        self.response = self.client.post(URL, {**self.state, **data}, **htmx("panel"))
        assert self.response.status_code == 200
        self.state = dict(parse_qsl(urlsplit(self.response["HX-Replace-Url"]).query))
        return self.response

    def scan(self, code: str):
        return self.post(code=code, action="scan")

    @property
    def html(self) -> str:
        return self.response.content.decode()

    @property
    def events(self) -> dict:
        return json.loads(self.response.get("HX-Trigger", "{}"))


def on_hand(product, location=None) -> D:
    levels = StockLevel.objects.filter(product=product, location__kind=LocationKind.INTERNAL)
    if location is not None:
        levels = levels.filter(location=location)
    return sum((level.on_hand for level in levels), D(0))


def test_scan_the_order_then_a_box_and_a_piece_then_done(worker: Client, world):
    # given: 3 boxes of 12 ordered
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)

    # when: the order number is scanned
    screen.scan(po.number)

    # then: its open lines appear, and the URL keeps the state for a reload
    assert f"{po.number} from Acme Textiles: 1 open line" in screen.html
    assert "TEE-BLK" in screen.html
    assert screen.state == {"po": str(po.pk), "bin": str(bin_of(world["warehouse"]).pk)}
    assert screen.events["scanned"] == {"ok": True}

    # when: a box barcode, then a box barcode again
    screen.scan("BOX-TEE-BLK")
    assert "+1 box (a box of 12 pcs) TEE-BLK" in screen.html
    screen.scan("BOX-TEE-BLK")

    # then: 2 boxes (24 pieces) receiving now
    assert screen.state[f"stk-{line.pk}"] == "24"
    assert 'value="2"' in screen.html
    assert "= 24 pcs" in screen.html

    # when: Done
    screen.post(action="done")

    # then: a receipt, 24 pieces in stock, the order partially received, a toast
    receipt = Receipt.objects.get()
    assert receipt.number in screen.html
    assert f"{po.number} is now partially received" in screen.html
    assert screen.events["toast"]["level"] == "success"
    assert screen.state == {}  # ready for the next order
    assert on_hand(world["product"]) == 24
    po.refresh_from_db()
    assert po.status == S.PARTIALLY_RECEIVED
    assert receipt.lines.get().quantity == 2


def test_a_single_piece_on_a_line_in_boxes_adds_the_fraction(worker: Client, world):
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)

    # when: six single pieces (the product's own barcode)
    for _ in range(6):
        screen.scan("4006381333931")

    # then: half a box
    assert screen.state[f"stk-{line.pk}"] == "6"
    assert 'value="0.5"' in screen.html

    # and one more piece cannot be recorded exactly in boxes: Done says so and changes nothing
    screen.scan("4006381333931")
    screen.post(action="done")
    assert "that can be recorded exactly" in screen.html
    assert Receipt.objects.count() == 0
    assert screen.state[f"stk-{line.pk}"] == "7"  # the work is kept


def test_a_box_on_a_line_in_pieces_adds_its_unit_factor(worker: Client, world):
    po = services.po_send(
        po=services.po_create(
            supplier=world["supplier"],
            warehouse=world["warehouse"],
            lines=[
                services.POLineSpec(world["product"], 30, unit_cost="5", purchase_unit=unit("pcs"), factor=1)
            ],
        )
    )
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")
    assert screen.state[f"stk-{line.pk}"] == "12"
    assert "+12 pcs (a box of 12 pcs)" in screen.html


def test_unknown_codes_and_wrong_items_flash_an_error_and_keep_the_work(worker: Client, world):
    po = sent_order(world, 3)
    other = stock.product_create(sku="MUG-1", name="Mug", barcodes=["MUG-EAN"])
    screen = Screen(worker)

    screen.scan("BOX-TEE-BLK")
    assert "is an item: scan the purchase order number first" in screen.html
    assert screen.events["scanned"] == {"ok": False}

    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")
    kept = dict(screen.state)

    screen.scan("NO-SUCH-CODE")
    assert "Unknown code “NO-SUCH-CODE”" in screen.html
    assert screen.events["scanned"] == {"ok": False}
    assert screen.state == kept

    screen.scan("MUG-EAN")
    assert f"MUG-1 · Mug is not on {po.number}" in screen.html
    assert screen.state == kept
    assert other.pk


def test_a_draft_cannot_be_received(worker: Client, world):
    screen = Screen(worker)
    screen.scan(world["draft"].number)
    assert "is draft: only sent orders are received" in screen.html
    assert screen.state == {}


def test_a_typed_quantity_replaces_the_scanned_one(worker: Client, world):
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")

    screen.post(action="update", **{f"qty-{line.pk}": "3"})

    assert screen.state[f"stk-{line.pk}"] == "36"
    screen.post(action="done")
    po.refresh_from_db()
    assert po.status == S.RECEIVED
    assert on_hand(world["product"]) == 36


def test_receiving_more_than_the_tolerance_is_refused_and_nothing_changes(worker: Client, world):
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.post(action="update", **{f"qty-{line.pk}": "4"})
    assert "more than ordered" in screen.html

    screen.post(action="done")

    assert "at most" in screen.html
    assert Receipt.objects.count() == 0
    assert on_hand(world["product"]) == 0


def test_a_bin_barcode_sets_where_the_goods_go(worker: Client, world):
    po = sent_order(world, 3)
    a01 = bin_of(world["warehouse"], "A-01")
    Location.objects.filter(pk=a01.pk).update(barcode="LOC-A01")
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")

    screen.scan("LOC-A01")

    assert "The goods go to WH1/A-01" in screen.html
    assert screen.state["bin"] == str(a01.pk)
    screen.post(action="done")
    assert on_hand(world["product"], a01) == 12


def test_a_reload_keeps_the_unfinished_work(worker: Client, world):
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")

    # when: the page is reloaded from the URL the screen set
    page = worker.get(screen.response["HX-Replace-Url"])

    # then
    assert page.status_code == 200
    assert f'name="stk-{line.pk}" value="12"' in page.content.decode()
    assert [r.stock_now for r in page.context["rows"]] == [D(12)]


def test_without_javascript_a_scan_redirects_to_the_state_url(worker: Client, world):
    po = sent_order(world, 3)
    response = worker.post(URL, {"code": po.number, "action": "scan"})
    assert response.status_code == 302
    page = worker.get(response["Location"])
    assert f"{po.number} from Acme Textiles" in page.content.decode()
    assert page.context["state"].po == po


def test_lot_tracked_items_take_a_lot_and_an_expiry(worker: Client, world):
    cheese = stock.product_create(sku="CHEESE", name="Cheese", tracking=Tracking.LOT, barcodes=["CHEESE-EAN"])
    po = services.po_send(
        po=services.po_create(
            supplier=world["supplier"],
            warehouse=world["warehouse"],
            lines=[services.POLineSpec(cheese, 2, unit_cost="3")],
        )
    )
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("CHEESE-EAN")
    assert "Type its lot" in screen.html

    screen.post(action="done")
    assert "tracked by lot: give the lot" in screen.html

    screen.post(action="update", **{f"lot-{line.pk}": "L-42", f"exp-{line.pk}": "2031-05-01"})
    screen.post(action="done")
    lot = Lot.objects.get(product=cheese)
    assert (lot.code, str(lot.expiry_date)) == ("L-42", "2031-05-01")
    assert on_hand(cheese) == 1


def test_serial_tracked_items_take_a_scanned_serial_per_piece(worker: Client, world):
    phone = stock.product_create(sku="PHONE", name="Phone", tracking=Tracking.SERIAL, barcodes=["PHONE-EAN"])
    po = services.po_send(
        po=services.po_create(
            supplier=world["supplier"],
            warehouse=world["warehouse"],
            lines=[services.POLineSpec(phone, 2, unit_cost="300")],
        )
    )
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("PHONE-EAN")
    assert "Scan its serial number" in screen.html
    screen.scan("SN-001")
    assert "Serial SN-001 for PHONE. All serials scanned." in screen.html
    screen.scan("PHONE-EAN")
    screen.scan("SN-001")
    assert "Serial SN-001 is scanned already" in screen.html
    screen.scan("SN-002")

    screen.post(action="done")

    assert sorted(Lot.objects.filter(product=phone).values_list("code", flat=True)) == ["SN-001", "SN-002"]
    assert on_hand(phone) == 2


def test_clear_and_reset_forget_what_was_scanned(worker: Client, world):
    po = sent_order(world, 3)
    line = po.lines.get()
    screen = Screen(worker)
    screen.scan(po.number)
    screen.scan("BOX-TEE-BLK")

    screen.post(action=f"reset:{line.pk}")
    assert f"stk-{line.pk}" not in screen.state

    screen.scan("BOX-TEE-BLK")
    screen.post(action="clear")
    assert screen.state == {}
    assert "Scan the next purchase order number" in screen.html


def test_another_order_waits_until_the_scanned_one_is_done(worker: Client, world):
    first, second = sent_order(world, 3), sent_order(world, 1)
    screen = Screen(worker)
    screen.scan(first.number)
    screen.scan("BOX-TEE-BLK")

    screen.scan(second.number)

    assert f"{first.number} has items scanned: press Done (or Clear) before {second.number}" in screen.html
    assert screen.state["po"] == str(first.pk)


def test_the_order_page_link_opens_the_screen_on_that_order(worker: Client, world):
    po = sent_order(world, 3)
    page = worker.get(URL, {"po": po.pk})
    assert f"{po.number} from Acme Textiles: 1 open line. Scan the items." in page.content.decode()
    received = worker.get(URL, {"po": world["draft"].pk})
    assert "is draft: only sent orders are received" in received.content.decode()
    assert received.context["state"].po is None
