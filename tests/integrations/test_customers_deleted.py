"""A customer record the tool deleted (HubSpot's contact.deletion, or a 404 on reading it): the
customer stays here, since the hub keeps its customers, but is no longer linked, so its next change
here makes the record there again. A deletion of a record never linked changes nothing."""

from __future__ import annotations

import pytest

from integrations.appliers import apply
from integrations.contract import Action, InboundItem
from integrations.models import ExternalRef
from sales.models import Customer
from tests.integrations.factories import ConnectionFactory, ExternalRefFactory, SyncRunFactory
from tests.sales.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked():
    connection = ConnectionFactory(
        connector="hubspot",
        settings={"portal_id": "62515", "app_id": "1160452"},
        secrets={"access_token": "pat-na1-test", "client_secret": "secret"},
    )
    customer = CustomerFactory(name="Ada Lovelace")
    ref = ExternalRefFactory(
        connection=connection, object_type="customer", external_id="501", internal=customer
    )
    return connection, customer, ref


def test_a_deleted_record_unlinks_the_customer_and_keeps_it(linked):
    connection, customer, ref = linked
    run = SyncRunFactory(connection=connection)

    applied = apply(connection, InboundItem("customer", "501", action=Action.DELETE), run)

    assert (applied.outcome, applied.internal_id, applied.label) == ("updated", customer.pk, "Ada Lovelace")
    assert "kept here, no longer linked" in applied.reason
    assert not ExternalRef.objects.filter(pk=ref.pk).exists()
    assert Customer.objects.filter(pk=customer.pk, is_active=True).exists()


def test_a_deleted_record_never_linked_changes_nothing(linked):
    connection, _customer, ref = linked
    run = SyncRunFactory(connection=connection)

    applied = apply(connection, InboundItem("customer", "999", action=Action.DELETE), run)

    assert (applied.outcome, applied.reason) == ("skipped", f"deleted in {connection.name}: not linked here")
    assert ExternalRef.objects.filter(pk=ref.pk).exists()
