"""The conformance kit's mappings part for the books: every connector that takes invoices and maps our
taxes to the tool's tax codes (a "tax_code" mapping kind).

An invoice whose tax has no tax code mapped does not reach the tool: its delivery waits in the
quarantine ("map tax code", our tax), with nothing sent; mapping it replays the invoice, which then
reaches the books once, each line with the code mapped. A code the tool does not have is refused.
"""

from __future__ import annotations

import pytest

from erp.exceptions import ValidationFailed
from integrations import mappings
from integrations.contract import Capability
from integrations.models import DeliveryStatus, ExternalRef, ValueMapping
from sales.services import LineSpec, TaxSpec, invoice_create, invoice_issue, order_confirm, order_create
from tests.sales.factories import CustomerFactory

PART = frozenset({Capability.INVOICES_OUT})
VAT = "VAT 20%"


@pytest.fixture
def kit(books_kit):
    if "tax_code" not in {k.key for k in books_kit.harness.connector.mapping_kinds}:
        pytest.skip(f"{books_kit.harness.connector.name} maps no tax codes")
    return books_kit


def _taxed_invoice(kit, name: str = "Ada Lovelace Ltd"):
    """An order with 20 % VAT on its line, confirmed, invoiced and issued; deliveries attempted."""
    order = order_create(
        channel=kit.channel,
        customer=CustomerFactory(name=name),
        lines=[LineSpec(product=kit.product, quantity=2, taxes=[TaxSpec("VAT", "0.2")])],
    )
    kit.run(order_confirm, order=order)
    return kit.run(invoice_issue, invoice=invoice_create(order=order))


def _standard_rate(kit) -> str:
    [code] = [c["id"] for c in kit.harness.tax_codes() if c["rate"] == "20"]
    return code


def test_an_unmapped_tax_code_is_quarantined_then_mapped_and_replayed(kit):
    invoice = _taxed_invoice(kit)

    [waiting] = kit.deliveries("sales.invoice_issued")
    assert waiting.status == DeliveryStatus.DEAD
    assert waiting.missing == {"kind": "map tax code", "value": VAT}
    assert f"maps no tax code for {VAT!r}" in waiting.last_error
    assert kit.harness.records("invoice") == []
    assert kit.harness.creates("invoice") == 0  # nothing was sent without its tax code
    [group] = mappings.waiting_deliveries(kit.connection)
    assert (group.kind, group.value, group.deliveries) == ("map tax code", VAT, 1)
    # our side offers the tax in use, and the tool's side is read from the tool
    kind = mappings.kind_of(kit.connection, "tax_code")
    assert (VAT, VAT) in mappings.our_choices(kind)
    offered = mappings.tool_choices(kit.connection, kind)
    assert offered.error == ""
    assert {c["id"] for c in kit.harness.tax_codes()} == {value for value, _ in offered.choices}

    code = _standard_rate(kit)
    saved = kit.run(
        mappings.mapping_set, connection=kit.connection, kind="tax_code", our_value=VAT, tool_value=code
    )

    assert (saved.created, saved.deliveries, saved.events) == (True, 1, 0)
    assert saved.mapping.tool_label == dict(offered.choices)[code]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.missing) == (DeliveryStatus.SUCCEEDED, {})
    [there] = kit.harness.records("invoice")
    assert there["name"] == invoice.number
    ref = ExternalRef.objects.get(connection=kit.connection, object_type="invoice", object_id=invoice.pk)
    assert ref.external_id == there["id"]
    assert kit.harness.line_tax_codes(there["id"]) == [code]
    assert mappings.waiting_deliveries(kit.connection) == []


def test_a_second_invoice_with_the_tax_mapped_goes_at_once(kit):
    code = _standard_rate(kit)
    mappings.mapping_set(connection=kit.connection, kind="tax_code", our_value=VAT, tool_value=code)

    _taxed_invoice(kit, "Grace Hopper Inc")

    [delivery] = kit.deliveries("sales.invoice_issued")
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [there] = kit.harness.records("invoice")
    assert kit.harness.line_tax_codes(there["id"]) == [code]


def test_a_tax_code_the_tool_does_not_have_is_refused_and_nothing_is_replayed(kit):
    _taxed_invoice(kit)

    with pytest.raises(ValidationFailed) as refused:
        mappings.mapping_set(connection=kit.connection, kind="tax_code", our_value=VAT, tool_value="NOPE")

    assert "tool_value" in refused.value.field_errors
    assert not ValueMapping.objects.exists()
    [waiting] = kit.deliveries("sales.invoice_issued")
    assert waiting.status == DeliveryStatus.DEAD
    with pytest.raises(ValidationFailed):
        mappings.mapping_set(connection=kit.connection, kind="no_such_kind", our_value=VAT, tool_value="4")
