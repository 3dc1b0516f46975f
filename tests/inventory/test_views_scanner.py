"""The scanner screens: transfer, adjust and cycle count, as a barcode scanner drives them."""

from __future__ import annotations

import json
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client

from inventory import services
from inventory.models import CountStatus, MoveKind, StockLevel, StockMove, Transfer, TransferStatus
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

PANEL = {"HX-Request": "true", "HX-Target": "panel"}
EAN = "4006381333931"


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(UserFactory(username="wendy", roles=["Warehouse"]))
    return client


@pytest.fixture
def floor(db):
    """WH1 with bins Stock (20 tees) and A-01 (barcode LOC-A01); a tee with an EAN and a box of 12."""
    wh = warehouse("WH1")
    stock = bin_of(wh)
    shelf = services.location_create(parent=services.warehouse_root(wh), name="A-01", barcode="LOC-A01")
    tee = services.product_create(sku="TEE-RED-M", name="T-shirt red M", barcodes=[EAN])
    services.product_unit_set(product=tee, unit="box", factor=12, barcode="BOX-TEE-12")
    services.stock_receive(product=tee, location=stock, quantity=20, unit_cost="4")
    return {"wh": wh, "stock": stock, "shelf": shelf, "tee": tee}


def on_hand(product, location) -> Decimal:
    level = StockLevel.objects.filter(product=product, location=location, lot=None).first()
    return level.on_hand if level else Decimal(0)


def scanned(response) -> bool | None:
    """How the scan went, as the HX-Trigger event that flashes the input says."""
    event = json.loads(response.get("HX-Trigger", "{}")).get("scanned")
    return None if event is None else event["ok"]


def lines(client: Client, name: str) -> dict[str, str]:
    data = client.session.get(f"inventory.scan.{name}", {})
    return {line["key"]: line["quantity"] for line in data.get("lines", [])}


# ---- transfer


def test_scanning_a_barcode_a_sku_and_a_box_adds_lines(staff: Client, floor):
    tee = floor["tee"]

    by_ean = staff.post("/inventory/transfer/scan/", {"code": EAN}, headers=PANEL)
    by_sku = staff.post("/inventory/transfer/scan/", {"code": "tee-red-m"}, headers=PANEL)
    by_box = staff.post("/inventory/transfer/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)

    assert (scanned(by_ean), scanned(by_sku), scanned(by_box)) == (True, True, True)
    assert b"<html" not in by_box.content
    assert b'class="scan-panel"' in by_box.content
    assert "+1 TEE-RED-M" in by_ean.content.decode()
    assert "+12 TEE-RED-M (1 box = 12 pcs)" in by_box.content.decode()
    assert "→ 14 pcs" in by_box.content.decode()
    assert lines(staff, "transfer") == {f"{tee.pk}:": "14"}


def test_an_unknown_code_is_explained_inline_and_changes_nothing(staff: Client, floor):
    staff.post("/inventory/transfer/scan/", {"code": EAN}, headers=PANEL)

    response = staff.post("/inventory/transfer/scan/", {"code": "NOT-A-CODE"}, headers=PANEL)

    assert response.status_code == 200
    assert scanned(response) is False
    html = response.content.decode()
    assert "Unknown code “NOT-A-CODE”" in html
    assert 'role="alert"' in html
    assert lines(staff, "transfer") == {f"{floor['tee'].pk}:": "1"}


def test_scanning_bins_sets_from_then_to_and_done_moves_the_stock(staff: Client, floor):
    tee, stock, shelf = floor["tee"], floor["stock"], floor["shelf"]
    stock.barcode = None
    # given: the source chosen in the picker, the destination scanned
    staff.post("/inventory/transfer/", {"action": "bins", "from": stock.pk, "to": ""}, headers=PANEL)
    for code in (EAN, EAN, "BOX-TEE-12"):
        staff.post("/inventory/transfer/scan/", {"code": code}, headers=PANEL)
    to = staff.post("/inventory/transfer/scan/", {"code": "LOC-A01"}, headers=PANEL)
    assert "To WH1/A-01" in to.content.decode()

    # when
    done = staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)

    # then
    assert (on_hand(tee, stock), on_hand(tee, shelf)) == (6, 14)
    move = StockMove.objects.get(kind=MoveKind.TRANSFER)
    assert (move.quantity, move.user.username) == (14, "wendy")
    assert "Moved 14 pcs of 1 product(s)" in done.content.decode()  # per stock unit, never kg + pcs
    assert json.loads(done["HX-Trigger"]) == {"transfers-changed": True, "scanned": {"ok": True}}
    assert lines(staff, "transfer") == {}
    assert staff.session["inventory.scan.transfer"]["from"] == stock.pk  # the next one starts here too


def test_the_first_scanned_bin_is_the_source(staff: Client, floor):
    floor["stock"].barcode = "LOC-STOCK"
    floor["stock"].save()

    first = staff.post("/inventory/transfer/scan/", {"code": "LOC-STOCK"}, headers=PANEL)
    second = staff.post("/inventory/transfer/scan/", {"code": "LOC-A01"}, headers=PANEL)
    zone = staff.post("/inventory/transfer/scan/", {"code": "WH1"}, headers=PANEL)  # a zone, by its path

    session = staff.session["inventory.scan.transfer"]
    assert (session["from"], session["to"]) == (floor["stock"].pk, floor["shelf"].pk)
    assert "From WH1/Stock" in first.content.decode()
    assert "To WH1/A-01" in second.content.decode()
    assert "is a zone" in zone.content.decode()
    assert scanned(zone) is False


def test_a_refused_transfer_keeps_the_lines_and_moves_nothing(staff: Client, floor):
    tee, stock, shelf = floor["tee"], floor["stock"], floor["shelf"]
    staff.post("/inventory/transfer/", {"action": "bins", "from": stock.pk, "to": shelf.pk}, headers=PANEL)
    staff.post("/inventory/transfer/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)
    staff.post("/inventory/transfer/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)  # 24, only 20 there

    response = staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)

    assert "Not enough TEE-RED-M at WH1/Stock: 24 requested, 20 available" in response.content.decode()
    assert (on_hand(tee, stock), on_hand(tee, shelf)) == (20, 0)
    assert lines(staff, "transfer") == {f"{tee.pk}:": "24"}


def test_done_without_bins_says_what_is_missing(staff: Client, floor):
    staff.post("/inventory/transfer/scan/", {"code": EAN}, headers=PANEL)
    response = staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)
    assert "Choose or scan the bin the goods come from" in response.content.decode()
    assert StockMove.objects.count() == 1


def test_quantities_can_be_typed_and_lines_removed(staff: Client, floor):
    tee = floor["tee"]
    key = f"{tee.pk}:"
    staff.post("/inventory/transfer/scan/", {"code": EAN}, headers=PANEL)

    typed = staff.post(
        "/inventory/transfer/",
        {"action": "qty", f"qty:{key}": "7"},
        headers={**PANEL, "HX-Trigger-Name": f"qty:{key}"},
    )
    assert lines(staff, "transfer") == {key: "7"}
    assert 'value="7"' in typed.content.decode()

    wrong = staff.post(
        "/inventory/transfer/",
        {"action": "qty", f"qty:{key}": "seven"},
        headers={**PANEL, "HX-Trigger-Name": f"qty:{key}"},
    )
    assert "“seven” is not a number" in wrong.content.decode()
    assert lines(staff, "transfer") == {key: "7"}

    staff.post("/inventory/transfer/", {"action": f"remove:{key}"}, headers=PANEL)
    assert lines(staff, "transfer") == {}


def test_a_reload_keeps_the_scanned_lines_and_it_works_without_javascript(staff: Client, floor):
    # given: scans posted as plain forms (no htmx)
    first = staff.post("/inventory/transfer/scan/", {"code": EAN})
    assert first.status_code == 302
    assert first["Location"] == "/inventory/transfer/"

    # when: the page is loaded again
    page = staff.get("/inventory/transfer/")

    # then: the line is there, with the message of the last scan
    html = page.content.decode()
    assert "TEE-RED-M" in html
    assert "+1 TEE-RED-M" in html
    assert 'name="code"' in html
    assert "autofocus" in html
    again = staff.get("/inventory/transfer/").content.decode()
    assert "+1 TEE-RED-M" not in again  # the message shows once; the line stays
    assert f'name="qty:{floor["tee"].pk}:"' in again

    # and the whole form posts with Done
    staff.post(
        "/inventory/transfer/",
        {
            "action": "done",
            "from": floor["stock"].pk,
            "to": floor["shelf"].pk,
            f"qty:{floor['tee'].pk}:": "3",
        },
    )
    assert on_hand(floor["tee"], floor["shelf"]) == 3


def test_two_step_between_warehouses_ships_into_transit_and_receives(staff: Client, floor):
    wh2 = warehouse("WH2")
    far = bin_of(wh2)
    tee = floor["tee"]
    staff.post(
        "/inventory/transfer/",
        {"action": "bins", "from": floor["stock"].pk, "to": far.pk, "two_step": "1"},
        headers=PANEL,
    )
    staff.post("/inventory/transfer/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)

    done = staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)

    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert (on_hand(tee, floor["stock"]), on_hand(tee, far)) == (8, 0)
    assert "transfers-changed" in json.loads(done["HX-Trigger"])
    page = staff.get("/inventory/transfer/")
    assert transfer.number in page.content.decode()

    received = staff.post(
        f"/inventory/transfers/{transfer.pk}/receive/",
        headers={"HX-Request": "true", "HX-Target": "intransit"},
    )

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DONE
    assert on_hand(tee, far) == 12
    assert b"Nothing in transit" in received.content
    assert b"<html" not in received.content

    twice = staff.post(f"/inventory/transfers/{transfer.pk}/receive/", headers={"HX-Request": "true"})
    assert json.loads(twice["HX-Trigger"])["toast"]["level"] == "error"
    assert on_hand(tee, far) == 12


def test_two_step_within_one_warehouse_is_a_direct_transfer(staff: Client, floor):
    staff.post(
        "/inventory/transfer/",
        {"action": "bins", "from": floor["stock"].pk, "to": floor["shelf"].pk, "two_step": "1"},
        headers=PANEL,
    )
    staff.post("/inventory/transfer/scan/", {"code": EAN}, headers=PANEL)
    staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)
    assert not Transfer.objects.exists()
    assert on_hand(floor["tee"], floor["shelf"]) == 1


def test_a_service_and_a_tracked_product_without_lot_are_refused_at_the_scan(staff: Client, floor):
    ProductFactory(sku="INSTALL", kind="service")
    ProductFactory(sku="MILK", tracking="lot")

    service = staff.post("/inventory/transfer/scan/", {"code": "INSTALL"}, headers=PANEL)
    tracked = staff.post("/inventory/transfer/scan/", {"code": "MILK"}, headers=PANEL)

    assert "is a service" in service.content.decode()
    assert "type it in the Lot box" in tracked.content.decode()
    assert lines(staff, "transfer") == {}


def test_a_lot_tracked_product_moves_its_lot(staff: Client, floor):
    milk = ProductFactory(sku="MILK", tracking="lot")
    lot = services.lot_get_or_create(product=milk, code="L-7")
    services.stock_receive(product=milk, location=floor["stock"], quantity=5, lot=lot)
    staff.post(
        "/inventory/transfer/",
        {"action": "bins", "from": floor["stock"].pk, "to": floor["shelf"].pk},
        headers=PANEL,
    )

    staff.post("/inventory/transfer/scan/", {"code": "MILK", "lot": "L-7"}, headers=PANEL)
    staff.post("/inventory/transfer/scan/", {"code": "MILK", "lot": "L-7"}, headers=PANEL)
    staff.post("/inventory/transfer/", {"action": "done"}, headers=PANEL)

    assert StockLevel.objects.get(product=milk, location=floor["shelf"], lot=lot).on_hand == 2


# ---- adjust and scrap


def test_adjust_sets_a_counted_quantity_with_a_reason(staff: Client, floor):
    tee, stock = floor["tee"], floor["stock"]
    staff.post(
        "/inventory/adjust/",
        {"action": "settings", "bin": stock.pk, "mode": "set", "reason": "recount"},
        headers=PANEL,
    )
    staff.post("/inventory/adjust/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)
    panel = staff.post("/inventory/adjust/scan/", {"code": EAN}, headers=PANEL)
    assert "New quantity" in panel.content.decode()

    done = staff.post("/inventory/adjust/", {"action": "done"}, headers=PANEL)

    assert on_hand(tee, stock) == 13
    move = StockMove.objects.get(kind=MoveKind.ADJUSTMENT)
    assert (move.quantity, move.reason) == (7, "recount")
    assert "Adjusted 1 of 1 line(s) at WH1/Stock" in done.content.decode()
    assert lines(staff, "adjust") == {}


def test_adjust_by_a_negative_delta_and_scrap(staff: Client, floor):
    tee, stock = floor["tee"], floor["stock"]
    key = f"{tee.pk}:"
    scan_bin = staff.post("/inventory/adjust/scan/", {"code": "LOC-A01"}, headers=PANEL)
    assert "Bin WH1/A-01" in scan_bin.content.decode()
    staff.post(
        "/inventory/adjust/",
        {"action": "settings", "bin": stock.pk, "mode": "delta", "reason": "lost"},
        headers=PANEL,
    )
    staff.post("/inventory/adjust/scan/", {"code": EAN}, headers=PANEL)
    staff.post(
        "/inventory/adjust/",
        {"action": "qty", f"qty:{key}": "-3"},
        headers={**PANEL, "HX-Trigger-Name": f"qty:{key}"},
    )
    staff.post("/inventory/adjust/", {"action": "done"}, headers=PANEL)
    assert on_hand(tee, stock) == 17

    staff.post(
        "/inventory/adjust/",
        {"action": "settings", "bin": stock.pk, "mode": "scrap", "reason": "torn"},
        headers=PANEL,
    )
    staff.post("/inventory/adjust/scan/", {"code": EAN}, headers=PANEL)
    staff.post("/inventory/adjust/", {"action": "done"}, headers=PANEL)

    assert on_hand(tee, stock) == 16
    scrap = StockMove.objects.get(kind=MoveKind.SCRAP)
    assert (scrap.quantity, scrap.reason, scrap.to_location.kind) == (1, "torn", "scrap")


def test_an_adjustment_without_a_reason_changes_nothing(staff: Client, floor):
    staff.post(
        "/inventory/adjust/", {"action": "settings", "bin": floor["stock"].pk, "mode": "set"}, headers=PANEL
    )
    staff.post("/inventory/adjust/scan/", {"code": EAN}, headers=PANEL)

    response = staff.post("/inventory/adjust/", {"action": "done"}, headers=PANEL)

    assert "Give a reason" in response.content.decode()
    assert on_hand(floor["tee"], floor["stock"]) == 20
    assert lines(staff, "adjust") == {f"{floor['tee'].pk}:": "1"}


def test_scrapping_more_than_there_is_rolls_every_line_back(staff: Client, floor):
    mug = ProductFactory(sku="MUG-1")
    services.stock_receive(product=mug, location=floor["stock"], quantity=5)
    staff.post(
        "/inventory/adjust/",
        {"action": "settings", "bin": floor["stock"].pk, "mode": "scrap", "reason": "flood"},
        headers=PANEL,
    )
    staff.post("/inventory/adjust/scan/", {"code": "MUG-1"}, headers=PANEL)
    staff.post("/inventory/adjust/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)
    staff.post("/inventory/adjust/scan/", {"code": "BOX-TEE-12"}, headers=PANEL)  # 24 of 20

    response = staff.post("/inventory/adjust/", {"action": "done"}, headers=PANEL)

    assert "Not enough TEE-RED-M" in response.content.decode()
    assert on_hand(mug, floor["stock"]) == 5  # the first line was rolled back too
    assert not StockMove.objects.filter(kind=MoveKind.SCRAP).exists()


# ---- cycle count


@pytest.fixture
def sheet(floor):
    return services.count_sheet_create(location=floor["stock"])


def test_each_scan_counts_one_and_a_box_its_content(staff: Client, floor, sheet):
    url = f"/inventory/counts/{sheet.pk}/scan/"

    staff.post(url, {"code": EAN}, headers=PANEL)
    staff.post(url, {"code": "tee-red-m"}, headers=PANEL)
    response = staff.post(url, {"code": "BOX-TEE-12"}, headers=PANEL)

    line = sheet.lines.get(product=floor["tee"])
    assert (line.expected_quantity, line.counted_quantity) == (20, 14)
    html = response.content.decode()
    assert "<html" not in html
    assert "→ 14 pcs counted" in html
    assert 'class="diff last"' in html  # highlighted: 14 counted, 20 expected
    assert "-6" in html
    assert scanned(response) is True


def test_a_count_scan_of_an_unknown_code_or_a_bin_is_explained(staff: Client, floor, sheet):
    url = f"/inventory/counts/{sheet.pk}/scan/"
    unknown = staff.post(url, {"code": "???"}, headers=PANEL)
    bin_scan = staff.post(url, {"code": "LOC-A01"}, headers=PANEL)
    assert "Unknown code" in unknown.content.decode()
    assert "this sheet counts WH1/Stock" in bin_scan.content.decode()
    assert scanned(unknown) is False
    assert sheet.lines.get().counted_quantity is None


def test_a_product_not_expected_in_the_bin_gets_a_line(staff: Client, floor, sheet):
    mug = ProductFactory(sku="MUG-1")
    staff.post(f"/inventory/counts/{sheet.pk}/scan/", {"code": "MUG-1"}, headers=PANEL)
    line = sheet.lines.get(product=mug)
    assert (line.expected_quantity, line.counted_quantity) == (0, 1)


def test_counted_quantities_can_be_typed(staff: Client, floor, sheet):
    line = sheet.lines.get()
    name = f"counted:{line.pk}"

    typed = staff.post(
        f"/inventory/counts/{sheet.pk}/lines/", {name: "18"}, headers={**PANEL, "HX-Trigger-Name": name}
    )
    wrong = staff.post(
        f"/inventory/counts/{sheet.pk}/lines/", {name: "-2"}, headers={**PANEL, "HX-Trigger-Name": name}
    )

    line.refresh_from_db()
    assert line.counted_quantity == 18
    assert "-2" in typed.content.decode()  # the difference, 18 - 20
    assert "cannot be negative" in wrong.content.decode()


def test_apply_writes_the_differences_as_count_moves(staff: Client, floor, sheet):
    line = sheet.lines.get()
    staff.post(f"/inventory/counts/{sheet.pk}/lines/", {f"counted:{line.pk}": "17"})  # the no-JavaScript form

    response = staff.post(f"/inventory/counts/{sheet.pk}/apply/", headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == f"/inventory/counts/{sheet.pk}/"
    sheet.refresh_from_db()
    assert sheet.status == CountStatus.APPLIED
    assert on_hand(floor["tee"], floor["stock"]) == 17
    move = StockMove.objects.get(kind=MoveKind.COUNT)
    assert (move.quantity, move.reference) == (3, sheet.number)
    page = staff.get(f"/inventory/counts/{sheet.pk}/").content.decode()
    assert "applied: the differences are in the ledger" in page
    assert 'name="code"' not in page  # no more scanning


def test_apply_with_nothing_counted_is_refused(staff: Client, floor, sheet):
    response = staff.post(f"/inventory/counts/{sheet.pk}/apply/", headers=PANEL)
    assert "Nothing has been counted" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == CountStatus.OPEN


def test_apply_can_zero_what_was_not_counted(staff: Client, floor, sheet):
    staff.post(f"/inventory/counts/{sheet.pk}/apply/", {"zero_uncounted": "1"})
    assert on_hand(floor["tee"], floor["stock"]) == 0


def test_cancel_a_count(staff: Client, floor, sheet):
    response = staff.post(f"/inventory/counts/{sheet.pk}/cancel/")

    assert response["Location"] == f"/inventory/counts/{sheet.pk}/"
    sheet.refresh_from_db()
    assert sheet.status == CountStatus.CANCELLED
    late = staff.post(f"/inventory/counts/{sheet.pk}/scan/", {"code": EAN}, headers=PANEL)
    assert "cannot go from 'cancelled'" in unescape(late.content.decode())
    assert on_hand(floor["tee"], floor["stock"]) == 20
