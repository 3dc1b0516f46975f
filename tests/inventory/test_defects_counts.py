"""Issue #21, defect 2: a serial-tracked count line took 999 and failed only at apply, with a message
naming no line. Each line is checked as it is typed (0 or 1 per serial, whole numbers of pieces,
never negative), and every message names the line: SKU, location, serial."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client

from erp.exceptions import ValidationFailed
from inventory import services
from inventory.models import CountLine, StockMove
from tests.erp.factories import UserFactory
from tests.inventory.factories import bin_of, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def counter() -> Client:
    client = Client()
    client.force_login(UserFactory(username="cora", roles=["Warehouse"]))
    return client


@pytest.fixture
def sheet():
    """A bin holding one serial SN-7 of a scanner and 4 pieces of a cable; a sheet prefilled with both."""
    location = bin_of(warehouse("WH1"), "A-01")
    scanner = services.product_create(sku="SCAN-1", name="Scanner", tracking="serial")
    cable = services.product_create(sku="CABLE-1", name="Cable")
    serial = services.lot_get_or_create(product=scanner, code="SN-7")
    services.stock_receive(product=scanner, location=location, quantity=1, lot=serial, unit_cost="50")
    services.stock_receive(product=cable, location=location, quantity=4, unit_cost="2")
    return services.count_sheet_create(location=location)


def line_of(sheet, sku: str) -> CountLine:
    return sheet.lines.get(product__sku=sku)


def test_a_serial_line_refuses_999_as_it_is_typed_naming_the_line(counter, sheet):
    line = line_of(sheet, "SCAN-1")

    response = counter.post(
        f"/inventory/counts/{sheet.pk}/lines/", {f"counted:{line.pk}": "999"}, follow=True
    )

    text = response.content.decode()
    for part in ("SCAN-1 at", "A-01", "serial SN-7"):  # SKU, location, serial
        assert part in text
    assert "0 or 1" in text
    line.refresh_from_db()
    assert line.counted_quantity is None


def test_a_serial_line_takes_0_or_1(sheet):
    line = line_of(sheet, "SCAN-1")
    services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=0)
    services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=1)
    line.refresh_from_db()
    assert line.counted_quantity == D("1")


def test_scanning_a_serial_twice_is_refused(sheet):
    line = line_of(sheet, "SCAN-1")
    services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=1, add=True)
    with pytest.raises(ValidationFailed, match="serial SN-7: a serial number is there or not"):
        services.count_line_set(sheet=sheet, product=line.product, lot=line.lot, counted=1, add=True)


@pytest.mark.parametrize(
    ("typed", "says"), [("2.5", "pcs is counted in whole numbers, not 2.5"), ("-1", "cannot be negative")]
)
def test_a_piece_line_refuses_fractions_and_negatives_naming_the_line(sheet, typed, says):
    line = line_of(sheet, "CABLE-1")
    with pytest.raises(ValidationFailed) as caught:
        services.count_line_set(sheet=sheet, product=line.product, counted=D(typed))
    assert caught.value.message.startswith("CABLE-1 at ")
    assert says in caught.value.message
    line.refresh_from_db()
    assert line.counted_quantity is None


def test_the_apply_error_names_the_line(sheet):
    # given: a line holding 999 of a serial (typed before the check existed)
    line = line_of(sheet, "SCAN-1")
    CountLine.objects.filter(pk=line.pk).update(counted_quantity=D("999"))
    moves = StockMove.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        services.count_sheet_apply(sheet=sheet)

    assert "SCAN-1 at" in caught.value.message
    assert "serial SN-7" in caught.value.message
    assert StockMove.objects.count() == moves
