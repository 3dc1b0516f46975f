"""Value mappings (Hub transport: Mappings): a section per kind the connector declares on the
connection's Mappings tab, with our choices and the tool's read from it; saving one replays what
waited for it (quarantined events, dead deliveries); the quarantine offers "map it" in place; the API
at /connections/{id}/mappings; refusals, rights, constant queries.

Tally (the kit's test accounting tool, shaped like QuickBooks) declares tax codes, accounts and
payment methods, and lists each at its fake (GET /taxcode, /account, /paymentmethod)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from integrations import http, mappings, registry
from integrations.connections import connection_create
from integrations.models import Connection, DeliveryStatus, InboundStatus, ValueMapping
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.conformance.tally.conformance import Harness as TallyHarness
from tests.integrations.conformance.tally.connector import REALM, TallyConnector
from tests.integrations.factories import DeliveryFactory
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    inbound_event,
    reader_fixture,  # noqa: F401  (a fixture)
)
from tests.queries import FEW, MANY, assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/integrations"
VAT = "VAT 20%"
WAITING = {"kind": "map tax code", "value": VAT}


@pytest.fixture(name="tally")
def tally_fixture(db) -> Iterator[TallyHarness]:
    registry.register(TallyConnector)
    tool = TallyHarness()
    try:
        with http.mounted(tool.base_url, tool.transport()):
            yield tool
    finally:
        registry.unregister(TallyConnector.key)


@pytest.fixture(name="books")
def books_fixture(tally: TallyHarness) -> Connection:
    return connection_create(
        connector="tally", name="Books", settings=tally.settings(), secrets=tally.secrets()
    )


def page_url(connection: Connection) -> str:
    return reverse("integrations:connection-mappings", args=[connection.pk])


def set_url(connection: Connection, kind: str = "tax_code") -> str:
    return reverse("integrations:value-mapping-set", args=[connection.pk, kind])


def waiting_delivery(connection: Connection, value: str = VAT) -> Any:
    return DeliveryFactory.create(
        connection=connection,
        topic="sales.invoice_issued",
        status=DeliveryStatus.DEAD,
        dead=True,
        missing={"kind": "map tax code", "value": value},
    )


def waiting_event(connection: Connection, value: str = VAT) -> Any:
    return inbound_event(
        connection,
        status=InboundStatus.QUARANTINED,
        missing={"kind": "map tax code", "value": value},
        last_error="maps no tax code",
    )


# --- reading ---------------------------------------------------------------------------------------


def test_value_for_answers_the_mapping_or_asks_for_a_person(books: Connection) -> None:
    with pytest.raises(mappings.NeedsMapping) as needed:
        mappings.value_for(books, "tax_code", VAT)
    assert (needed.value.kind, needed.value.value, needed.value.mapping_kind) == (
        "map tax code",
        VAT,
        "tax_code",
    )

    mappings.mapping_set(connection=books, kind="tax_code", our_value=VAT, tool_value="4")

    assert mappings.value_for(books, "tax_code", VAT) == "4"
    assert ValueMapping.objects.get().tool_label == "Standard rate 20%"


def test_our_choices_per_kind(books: Connection) -> None:
    kinds = {k.key: k for k in mappings.kinds_of(books)}
    assert set(kinds) == {"tax_code", "account", "payment_method"}
    assert [v for v, _ in mappings.our_choices(kinds["account"])] == [
        "income",
        "cogs",
        "inventory",
        "goods_received",
        "inventory_adjustment",
        "receivables",
        "payables",
        "bank",
        "undeposited_funds",
        "credit_card",
        "discount",
    ]
    assert mappings.our_choices(kinds["tax_code"])[0] == (mappings.NO_TAX, mappings.NO_TAX)


def test_the_shipping_taxes_orders_charged_are_ours_to_map(books: Connection) -> None:
    from sales.models import SalesOrder
    from tests.sales.factories import order_for, stocked_product

    order = order_for((stocked_product(5), 1))
    SalesOrder.objects.filter(pk=order.pk).update(shipping_tax_rate="0.21")
    kind = {k.key: k for k in mappings.kinds_of(books)}["tax_code"]

    assert ("Shipping tax 21%", "Shipping tax 21%") in mappings.our_choices(kind)


def test_refusals_change_nothing(books: Connection) -> None:
    with pytest.raises(Exception, match="maps no 'warehouse'"):
        mappings.mapping_set(connection=books, kind="warehouse", our_value="WH1", tool_value="1")
    with pytest.raises(Exception, match="'petty cash' is not one of our accounts"):
        mappings.mapping_set(connection=books, kind="account", our_value="petty cash", tool_value="35")
    with pytest.raises(Exception, match="The tool has no such tax code: 99"):
        mappings.mapping_set(connection=books, kind="tax_code", our_value=VAT, tool_value="99")
    assert not ValueMapping.objects.exists()


def test_the_tools_choices_that_cannot_be_read_leave_free_text(books: Connection) -> None:
    down = httpx.MockTransport(lambda request: httpx.Response(503))
    with http.mounted(f"{TallyHarness.base_url}/{REALM}/taxcode", down):
        offered = mappings.tool_choices(books, mappings.kind_of(books, "tax_code"))
    assert offered.choices == []
    assert "Could not read the tax codes of Books" in offered.error


# --- saving replays what waited --------------------------------------------------------------------


def test_saving_a_mapping_replays_the_waiting_events_and_deliveries(
    books: Connection, django_capture_on_commit_callbacks
) -> None:
    event, delivery = waiting_event(books), waiting_delivery(books)
    other = waiting_delivery(books, "VAT 5%")

    with django_capture_on_commit_callbacks() as queued:
        saved = mappings.mapping_set(connection=books, kind="tax_code", our_value=VAT, tool_value="4")

    assert (saved.created, saved.events, saved.deliveries) == (True, 1, 1)
    event.refresh_from_db()
    delivery.refresh_from_db()
    other.refresh_from_db()
    assert (event.status, event.missing) == (InboundStatus.RECEIVED, {})
    assert delivery.status == DeliveryStatus.PENDING
    assert other.status == DeliveryStatus.DEAD  # waits for another tax
    assert len(queued) == 2  # the event's processing and the delivery's attempt


# --- the Mappings tab ------------------------------------------------------------------------------


def test_the_tab_shows_a_section_per_kind_with_both_sides_choices(
    admin: Client, reader: Client, books: Connection
) -> None:
    mappings.mapping_set(connection=books, kind="tax_code", our_value=VAT, tool_value="4")
    waiting_delivery(books, "VAT 5%")

    content = admin.get(page_url(books)).content.decode()

    for key in ("tax_code", "account", "payment_method"):
        assert f'id="map-{key}"' in content
    assert "Standard rate 20%" in content  # the tool's label of a mapping
    assert '<option value="6">Reduced rate 5%</option>' in content  # the tool's choices
    assert '<option value="VAT 5%">VAT 5%</option>' in content  # ours waiting to be mapped
    assert '<option value="receivables">Accounts receivable</option>' in content
    assert "1 waiting" in content
    read_only = reader.get(page_url(books)).content.decode()
    assert 'id="map-tax_code"' in read_only
    assert 'name="tax_code-tool_value"' not in read_only


def test_mapping_in_the_tab_saves_and_replays(admin: Client, books: Connection) -> None:
    delivery = waiting_delivery(books)

    response = admin.post(
        set_url(books), {"tax_code-our_value": VAT, "tax_code-tool_value": "4", "next": page_url(books)}
    )

    assert response.status_code == 302
    assert ValueMapping.objects.get().tool_value == "4"
    delivery.refresh_from_db()
    assert delivery.status != DeliveryStatus.DEAD
    shown = admin.get(page_url(books)).content.decode()
    assert "Tax code for VAT 20%: Standard rate 20% (4); 1 delivery replayed." in shown


def test_a_value_the_tool_does_not_have_is_refused_in_the_tab(admin: Client, books: Connection) -> None:
    response = admin.post(
        set_url(books), {"tax_code-our_value": VAT, "tax_code-tool_value": "99"}, follow=True
    )

    assert "Nothing mapped" in response.content.decode()
    assert not ValueMapping.objects.exists()


def test_removing_a_mapping(admin: Client, reader: Client, books: Connection) -> None:
    mappings.mapping_set(connection=books, kind="tax_code", our_value=VAT, tool_value="4")
    url = reverse("integrations:value-mapping-delete", args=[books.pk, "tax_code"])

    assert reader.post(url, {"our_value": VAT}).status_code == 403
    assert (
        reader.post(set_url(books), {"tax_code-our_value": VAT, "tax_code-tool_value": "6"}).status_code
        == 403
    )
    assert admin.post(url, {"our_value": VAT}).status_code == 302

    assert not ValueMapping.objects.exists()


def test_the_tab_costs_the_same_for_many_mappings(reader: Client, books: Connection) -> None:
    def grow(count: int) -> None:
        start = ValueMapping.objects.count()
        for i in range(start, start + count):
            ValueMapping.objects.create(
                connection=books, kind="tax_code", our_value=f"Tax {i}%", tool_value="4"
            )
            waiting_delivery(books, f"Other {i}%")

    grow(FEW)
    assert_constant_queries(lambda: reader.get(page_url(books)), lambda: grow(MANY - FEW))


# --- the quarantine --------------------------------------------------------------------------------


def test_the_quarantine_shows_waiting_deliveries_with_a_map_it_form(admin: Client, books: Connection) -> None:
    waiting_delivery(books)
    waiting_event(books, "VAT 5%")
    url = reverse("integrations:connection-quarantine", args=[books.pk])

    content = admin.get(url).content.decode()

    assert 'data-source="deliveries"' in content
    assert 'data-source="events"' in content
    assert "1 delivery" in content
    assert f'name="tax_code-our_value" value="{VAT}"' in content
    assert "Map it and replay" in content
    assert '<option value="4">Standard rate 20% (4)</option>' in content


def test_the_quarantine_costs_the_same_for_many_waiting_deliveries(reader: Client, books: Connection) -> None:
    url = reverse("integrations:connection-quarantine", args=[books.pk])
    waiting_delivery(books)
    assert_constant_queries(
        lambda: reader.get(url), lambda: [waiting_delivery(books, f"Tax {i % 4}%") for i in range(12)]
    )


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_lists_sets_and_deletes_mappings(books: Connection) -> None:
    key = api_key_for(UserFactory(username="hal", roles=["Integration admin"]))
    client = Client()
    url = f"{BASE}/connections/{books.pk}/mappings"
    waiting_delivery(books)

    kinds = client.get(url, **bearer(key)).json()
    assert [k["key"] for k in kinds] == ["tax_code", "account", "payment_method"]
    detail = client.get(f"{url}/tax_code", **bearer(key)).json()
    assert {"value": "4", "label": "Standard rate 20%"} in detail["tool_choices"]
    assert detail["waiting"] == [VAT]
    assert client.get(f"{url}/warehouse", **bearer(key)).status_code == 404

    refused = client.put(
        f"{url}/tax_code",
        json.dumps({"our_value": VAT, "tool_value": "99"}),
        "application/json",
        **bearer(key),
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["tool_value"]
    saved = client.put(
        f"{url}/tax_code",
        json.dumps({"our_value": VAT, "tool_value": "4"}),
        "application/json",
        **bearer(key),
    )
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["created"], body["replayed_deliveries"], body["mapping"]["tool_label"]) == (
        True,
        1,
        "Standard rate 20%",
    )

    mapping_id = body["mapping"]["id"]
    assert client.delete(f"{url}/tax_code/{mapping_id}", **bearer(key)).status_code == 204
    assert client.delete(f"{url}/tax_code/{mapping_id}", **bearer(key)).status_code == 404


def test_the_api_needs_integrations_write_to_map(books: Connection) -> None:
    key = api_key_for(UserFactory(username="otto", roles=["Operations manager"]))
    client = Client()
    url = f"{BASE}/connections/{books.pk}/mappings"
    assert client.get(url, **bearer(key)).status_code == 200
    response = client.put(
        f"{url}/tax_code",
        json.dumps({"our_value": VAT, "tool_value": "4"}),
        "application/json",
        **bearer(key),
    )
    assert response.status_code == 403
