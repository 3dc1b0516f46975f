"""The count sheet's timeline: started by whom, its comments; constant cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from erp.models import Comment
from inventory import services
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def test_the_count_page_shows_who_started_it_and_its_comments_at_a_constant_cost(client: Client):
    # given: a count started by Wendy
    wendy = UserFactory(username="wendy", first_name="Wendy", last_name="Ware", roles=["Warehouse"])
    sheet = services.count_sheet_create(location=bin_of(warehouse("WH1")), user=wendy)
    client.force_login(wendy)
    url = f"/inventory/counts/{sheet.pk}/"
    client.get(url)

    def comment(n: int) -> None:
        for i in range(n):
            Comment.objects.create(
                document_type="inventory.countsheet",
                document_id=str(sheet.pk),
                author=wendy,
                body=f"aisle {i}",
            )

    # when
    comment(1)
    few = count_queries(lambda: client.get(url))
    comment(10)
    many = count_queries(lambda: client.get(url))
    page = client.get(url).content.decode()

    # then
    assert "Count of WH1" in page
    assert "Wendy Ware" in page
    assert "aisle 9" in page
    assert f'action="/comments/inventory.countsheet:{sheet.pk}/"' in page
    assert few == many


def test_a_transfer_has_its_page_with_lines_timeline_and_receive_at_a_constant_cost(client: Client):
    # given: Wendy sends 4 from WH1 to WH2 in two steps
    wendy = UserFactory(username="wendy", first_name="Wendy", last_name="Ware", roles=["Warehouse"])
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    product = ProductFactory(sku="TENT-1", name="Tent")
    services.stock_receive(product=product, location=bin_of(wh1), quantity=10, unit_cost=2)
    transfer = services.transfer_ship(
        from_location=bin_of(wh1),
        to_location=bin_of(wh2),
        lines=[services.Line(product=product, quantity=Decimal(4))],
        user=wendy,
    )
    client.force_login(wendy)
    url = f"/inventory/transfers/{transfer.pk}/"

    # when: the page, with one comment and then ten
    Comment.objects.create(
        document_type="inventory.transfer", document_id=str(transfer.pk), author=wendy, body="c"
    )
    few = count_queries(lambda: client.get(url))
    for i in range(9):
        Comment.objects.create(
            document_type="inventory.transfer", document_id=str(transfer.pk), author=wendy, body=f"truck {i}"
        )
    many = count_queries(lambda: client.get(url))
    page = client.get(url).content.decode()

    # then: what left, who sent it, its comments, the Receive button; linked from the in-transit list
    assert transfer.number in page
    assert "TENT-1" in page
    assert "Wendy Ware" in page
    assert "truck 8" in page
    assert f'action="/inventory/transfers/{transfer.pk}/receive/"' in page
    assert few == many
    assert url in client.get("/inventory/transfer/").content.decode()

    # when: received from its page
    response = client.post(f"/inventory/transfers/{transfer.pk}/receive/", {"from": "detail"})

    # then: back on the page, received, without the button
    assert response.status_code == 302
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "Received at" in page
    assert "/receive/" not in page


def test_a_reader_sees_a_transfer_without_its_receive_button(client: Client):
    wh1, wh2 = warehouse("WH1"), warehouse("WH2")
    product = ProductFactory()
    services.stock_receive(product=product, location=bin_of(wh1), quantity=5, unit_cost=1)
    transfer = services.transfer_ship(
        from_location=bin_of(wh1),
        to_location=bin_of(wh2),
        lines=[services.Line(product=product, quantity=Decimal(1))],
    )
    client.force_login(UserFactory(roles=["Sales"]))

    page = client.get(f"/inventory/transfers/{transfer.pk}/").content.decode()

    assert transfer.number in page
    assert "/receive/" not in page
    assert client.get("/inventory/transfers/999999/").status_code == 404
