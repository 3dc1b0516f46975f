"""The count sheet's timeline: started by whom, its comments; constant cost."""

from __future__ import annotations

import pytest
from django.test import Client

from erp.models import Comment
from inventory import services
from tests.erp.factories import UserFactory
from tests.inventory.factories import bin_of, warehouse
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
