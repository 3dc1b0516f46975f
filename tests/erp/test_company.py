"""The company's details: the one row, its fallback to the settings, who may edit it, the currency
that becomes final, the request cache, and the letterheads that print it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from erp import company
from erp.exceptions import ValidationFailed
from erp.models import CompanyProfile, OutboxEvent
from tests.erp.factories import UserFactory
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Widgets Ltd",
    "address": "1 Main St\n\n  Springfield  \nUSA",
    "email": "office@widgets.example",
    "phone": "+1 555 0100",
    "tax_id": "EIN 12-3456789",
    "base_currency": "EUR",
    "timezone": "Europe/Paris",
}


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def manager():
    return UserFactory(username="ops", roles=["Operations manager"])


@pytest.fixture
def seller():
    return UserFactory(username="seller", roles=["Sales"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def save(user, **changes):
    fields = {**FORM, **changes}
    return company.company_profile_update(
        by=user,
        name=fields["name"],
        address=fields["address"],
        email=fields["email"],
        phone=fields["phone"],
        tax_id=fields["tax_id"],
        base_currency=fields["base_currency"],
        timezone_name=fields["timezone"],
    )


# --- the profile and its fallback ------------------------------------------------------------------


def test_without_a_row_the_profile_comes_from_the_settings(settings):
    settings.COMPANY_NAME = "From Env Inc"
    settings.COMPANY_ADDRESS = "9 Elm Rd\nLeeds"
    settings.ERP_BASE_CURRENCY = "GBP"

    info = company.profile()

    assert (info.name, info.address_lines, info.base_currency, info.saved) == (
        "From Env Inc",
        ("9 Elm Rd", "Leeds"),
        "GBP",
        False,
    )


def test_saving_creates_the_one_row_cleans_the_address_and_records_an_event(root):
    save(root)
    save(root, name="Widgets Limited")

    row = CompanyProfile.objects.get()
    assert row.pk == CompanyProfile.SINGLETON_PK
    assert row.name == "Widgets Limited"
    assert row.address == "1 Main St\nSpringfield\nUSA"
    assert (row.created_by, row.updated_by) == (root, root)
    info = company.profile()
    assert info.saved
    assert (info.base_currency, info.timezone) == ("EUR", "Europe/Paris")
    topics = list(
        OutboxEvent.objects.filter(topic="erp.company_updated").values_list("payload__created", flat=True)
    )
    assert topics == [True, False]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_currency", "XYZ", "ISO 4217"),
        ("timezone", "Mars/Olympus", "time zone"),
        ("email", "not-an-email", "email"),
        ("name", "   ", "blank"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(root, field, value, message):
    with pytest.raises(ValidationFailed) as caught:
        save(root, **{field: value})

    assert message in " ".join(caught.value.field_errors[field])
    assert not CompanyProfile.objects.exists()


def test_only_superusers_and_operations_managers_may_save(root, manager, seller):
    save(manager)
    with pytest.raises(company.NotAllowed):
        save(seller, name="Hijacked")

    assert CompanyProfile.objects.get().name == "Widgets Ltd"
    assert [company.may_edit(u) for u in (root, manager, seller)] == [True, True, False]


# --- the base currency -----------------------------------------------------------------------------


def test_the_currency_is_final_once_a_sales_order_exists_but_the_rest_still_changes(root):
    from tests.sales.factories import order_for, stocked_product

    save(root, base_currency="USD")
    order_for((stocked_product(5), 1))

    with pytest.raises(ValidationFailed) as caught:
        save(root, base_currency="EUR")
    saved = save(root, base_currency="USD", name="Renamed")

    assert "final" in caught.value.field_errors["base_currency"][0]
    assert (saved.name, saved.base_currency) == ("Renamed", "USD")
    assert "sales orders already exist" in (company.currency_locked() or "")


def test_the_page_shows_the_currency_read_only_with_the_reason_once_orders_exist(root):
    from tests.sales.factories import order_for, stocked_product

    order_for((stocked_product(5), 1))

    page = client_for(root).get("/settings/company/").content.decode()

    currency_tag = page.split('name="base_currency"')[1].split(">")[0]
    assert "disabled" in currency_tag
    assert "The base currency is final: sales orders already exist" in page


# --- the page ---------------------------------------------------------------------------------------


def test_a_manager_fills_the_page_and_the_details_are_saved(manager):
    client = client_for(manager)

    response = client.post("/settings/company/", FORM, follow=True)

    assert response.redirect_chain[-1][0] == "/settings/company/"
    assert "Company details saved" in response.content.decode()
    assert CompanyProfile.objects.get().tax_id == "EIN 12-3456789"


def test_the_page_answers_bad_input_with_the_field_marked_and_saves_nothing(root):
    response = client_for(root).post("/settings/company/", {**FORM, "timezone": "Nowhere/Land", "name": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "nothing was saved" in page
    assert page.count("has-error") >= 2
    assert not CompanyProfile.objects.exists()


def test_others_read_the_details_but_may_not_post(seller, root):
    save(root)
    client = client_for(seller)

    page = client.get("/settings/company/").content.decode()
    refused = client.post("/settings/company/", {**FORM, "name": "Hijacked"})

    assert "Widgets Ltd" in page
    assert "<form" not in page.split("Company details")[1]
    assert "Superusers and Operations managers change these" in page
    assert refused.status_code == 403
    assert CompanyProfile.objects.get().name == "Widgets Ltd"


def test_the_page_needs_a_login(client):
    assert client.get("/settings/company/").status_code == 302


# --- one query per request -------------------------------------------------------------------------


@contextmanager
def a_request() -> Iterator[None]:
    """The signals a request sends at its start and end, sent as django.test.Client sends them.

    Django also connects close_old_connections to both; it closes a connection whose autocommit
    differs from the settings, which is every connection inside the test's transaction (on
    PostgreSQL that kills it; SQLite ignores closing an in-memory database). The test client
    disconnects it around its own sends, and so does this.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
        try:
            yield
        finally:
            request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_profile_is_read_once_per_request_and_again_in_the_next():
    with a_request():
        first = count_queries(company.profile)
        again = count_queries(company.profile)

    assert (first, again) == (1, 0)
    assert count_queries(company.profile) == 1  # outside a request: read every time, never stale


def test_a_save_in_the_request_is_what_the_rest_of_the_request_reads(root):
    with a_request():
        assert not company.profile().saved
        save(root)
        assert company.profile().name == "Widgets Ltd"


# --- the letterhead ---------------------------------------------------------------------------------


def test_printed_documents_use_the_saved_details(root, settings):
    from sales.views.printing import company as letterhead

    settings.COMPANY_NAME = "From Env Inc"
    assert letterhead()["name"] == "From Env Inc"

    save(root)

    assert letterhead() == {
        "name": "Widgets Ltd",
        "address": ["1 Main St", "Springfield", "USA"],
        "email": "office@widgets.example",
        "phone": "+1 555 0100",
        "tax_id": "EIN 12-3456789",
    }
