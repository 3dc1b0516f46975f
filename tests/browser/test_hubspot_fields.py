"""The demo HubSpot connection's Ownership section in a real browser at 1440 px: the "Customer fields"
table, where a person gives the email to HubSpot and sees it saved, and the "Kept from Demo HubSpot"
list, which shows the lifecycle stage the sales rep gave the contact of a demo customer there.
Screenshots: artifacts/screenshots/hubspot-fields-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from playwright.sync_api import expect

from integrations import demo_fakes, http, ownership
from integrations.hubspot import demo as hubspot_demo
from integrations.hubspot.fake import shared_fake
from integrations.models import Connection
from sales.models import Customer, SalesChannel
from sales.services import customer_create, order_confirm
from tests.browser.conftest import login
from tests.erp.factories import UserFactory
from tests.inventory.factories import warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db(transaction=True)  # the pushes and the first poll run on commit


@pytest.fixture
def crm(settings) -> Iterator[tuple[Connection, Customer]]:
    """An integration admin; the demo customer the rep knows, with a confirmed order; the demo
    HubSpot seeded (its pushes and first poll run as the seeding commits)."""
    settings.ERP_DEMO_FAKES = True
    shared_fake().reset()
    UserFactory(username="ines", password="s3cret-pass", roles=["Integration admin"], first_name="Ines")
    spec = hubspot_demo._demo_customer()
    wh = warehouse("MAIN")
    product = stocked_product(10, wh=wh, price="25.00", sku="TENT-DEMO")
    known = customer_create(name=spec.name, kind="person", email=spec.email)
    channel = cast(SalesChannel, ChannelFactory(warehouse=wh))
    order_confirm(order=order_for((product, 1), channel=channel, customer=known))
    hubspot_demo.seed_hubspot()
    yield Connection.objects.get(name=hubspot_demo.DEMO_NAME), known
    http.unmount(demo_fakes.fake_url(hubspot_demo.KEY))
    shared_fake().reset()


def test_the_email_is_given_to_hubspot_and_the_reps_lifecycle_stage_is_listed(page, screenshot, crm) -> None:
    connection, known = crm
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "ines", "s3cret-pass")
    page.goto(f"/integrations/connections/{connection.pk}/")
    fields = page.locator("#field-owners")
    fields.scroll_into_view_if_needed()
    expect(fields.get_by_role("heading", name="Customer fields")).to_be_visible()

    # what only HubSpot keeps, read back from the rep's contact of our customer
    kept = page.locator("#kept-values")
    expect(page.get_by_role("heading", name=f"Kept from {connection.name}")).to_be_visible()
    row = kept.get_by_role("row").filter(has_text=known.code)
    expect(row).to_contain_text("Lifecycle stage: opportunity")
    screenshot("hubspot-fields-before")

    # the email: HubSpot's from now on
    email = fields.locator("select[name='fields-email']")
    expect(email).to_have_value("latest")
    email.select_option("tool")
    fields.get_by_role("button", name="Save field owners").click()

    expect(page.get_by_text("Customer fields: who owns each is saved.")).to_be_visible()
    expect(page.locator("#field-owners select[name='fields-email']")).to_have_value("tool")
    screenshot("hubspot-fields-saved")
    connection.refresh_from_db()
    assert ownership.field_owners_of(connection)["email"].value == "tool"
    assert connection.settings["field_owners"]["email"] == "tool"
    assert page.js_errors == []
