"""Global search: bills by number or the supplier's invoice number; one query; procurement only."""

from __future__ import annotations

import pytest

from erp import search as global_search
from procurement import services
from tests.erp.factories import UserFactory
from tests.procurement.test_views import make_world, received_order

pytestmark = pytest.mark.django_db


def bill(world, reference: str):
    po = received_order(world)
    line = po.lines.get()
    return services.bill_record(
        po=po,
        supplier_reference=reference,
        lines=[services.BillLineSpec(line, line.quantity_received, "60.00")],
    )


def search(query: str) -> list[str]:
    return [r.url for r in global_search._providers["procurement.bills"].search(query, 8)]


def test_bills_are_found_by_number_and_supplier_reference():
    # given
    world = make_world()
    found = bill(world, "ACME-INV-5521")
    url = f"/procurement/bills/{found.pk}/"
    # when / then
    assert url in search(found.number)
    assert url in search("acme-inv-5521")
    assert url in search("5521")
    assert search("NO-SUCH-BILL") == []


def test_bills_cost_one_query(django_assert_num_queries):
    # given
    world = make_world()
    for n in range(3):
        bill(world, f"ACME-{n}")
    # when / then
    with django_assert_num_queries(1):
        assert len(global_search._providers["procurement.bills"].search("ACME", 8)) == 3


def test_sales_users_do_not_see_bills():
    # given
    world = make_world()
    found = bill(world, "ACME-INV-77")
    seller = UserFactory(roles=["Sales"])
    buyer = UserFactory(roles=["Purchasing"])
    # when / then
    assert "procurement.bills" not in {p.key for p, _ in global_search.search(found.number, seller)}
    assert "procurement.bills" in {p.key for p, _ in global_search.search(found.number, buyer)}
