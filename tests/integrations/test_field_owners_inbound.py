"""Field ownership of customers, inbound: a CRM's record applied as the connection's field rules
say (the tool's fields taken, the hub's never, the last writer's by time), ours pushed again where
the tool's differ and ours win, our own pushes told back changing nothing, what only the tool keeps
kept on the link, and merged records re-pointing their links."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.utils import timezone

from erp.models import OutboxEvent
from integrations import field_owners, outbound_crm, ownership, registry, resolving
from integrations.appliers import apply
from integrations.contract import InboundItem
from integrations.field_owners import Owner
from integrations.models import Connection, ExternalRef, SyncRun
from integrations.outbound_accounting import customer_out_for
from integrations.records import CustomerRecord
from sales.models import Customer
from sales.services import customer_update, order_confirm
from tests.integrations.conformance.pipeline.connector import PipelineConnector
from tests.integrations.factories import ExternalRefFactory, SyncRunFactory
from tests.integrations.test_field_owners import crm_fixture  # noqa: F401  (a fixture)
from tests.queries import assert_constant_queries
from tests.sales.factories import CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


class KeeperConnector(PipelineConnector):
    """Pipeline keeping every customer field a CRM may keep (HubSpot's set)."""

    key = "keeper"
    name = "Keeper (test CRM)"

    def field_owners(self) -> Mapping[str, Owner]:
        return field_owners.rules(self.settings.field_owners)


@pytest.fixture(name="keeper")
def keeper_fixture(crm: Connection) -> Iterator[Connection]:
    registry.register(KeeperConnector)
    try:
        Connection.objects.filter(pk=crm.pk).update(connector=KeeperConnector.key)
        yield Connection.objects.get(pk=crm.pk)
    finally:
        registry.unregister(KeeperConnector.key)


def later(seconds: float = 60) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def arrives(connection: Connection, record: CustomerRecord, run: SyncRun | None = None) -> Any:
    return apply(
        connection, InboundItem("customer", record.external_id, record=record), run or SyncRunFactory()
    )


def contact(external_id: str = "9101", **values: Any) -> CustomerRecord:
    at = values.pop("at", None) or later()
    fields = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+1 555 0100", **values}
    return CustomerRecord(external_id=external_id, updated_at=at, **fields)


def ada(connection: Connection, external_id: str = "9101", **extra: Any) -> Customer:
    customer = CustomerFactory(name="Ada Lovelace", email="ada@example.com", phone="+1 555 0100")
    ExternalRefFactory(
        connection=connection, object_type="customer", external_id=external_id, internal=customer, extra=extra
    )
    return customer


def ref_of(connection: Connection, external_id: str = "9101") -> ExternalRef:
    return ExternalRef.objects.get(connection=connection, object_type="customer", external_id=external_id)


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def pushed_again(connection: Connection) -> list[dict[str, Any]]:
    return [e.payload for e in OutboxEvent.objects.filter(topic=outbound_crm.CUSTOMER_AGAIN).order_by("pk")]


def test_a_field_the_tool_owns_is_applied_one_the_hub_owns_never_but_ours_goes_again(crm):
    crm = ownership.field_owners_set(connection=crm, owners={"name": "tool", "email": "hub"})
    customer = ada(crm)

    applied = arrives(crm, contact(name="Ada King", email="ada.king@example.com"))

    assert applied.outcome == "updated"
    assert (fresh(customer).name, fresh(customer).email) == ("Ada King", "ada@example.com")
    assert ref_of(crm).pushed_hash == ""  # the CRM lacks our email: the customer's own push sends it
    assert pushed_again(crm) == []  # that push goes anyway ("sales.customer_updated")

    applied = arrives(crm, contact(name="Ada King", email="ada.k@example.com", at=later(120)))

    assert (applied.outcome, fresh(customer).email) == ("skipped", "ada@example.com")
    assert pushed_again(crm) == [{"connection_id": crm.pk, "customer_id": customer.pk, "why": "heal email"}]


def test_a_latest_field_is_applied_only_when_the_tool_changed_it_after_we_did(crm):
    customer = ada(crm)
    customer_update(customer=customer, phone="+1 555 0199")  # ours, now
    before = timezone.now() - datetime.timedelta(seconds=30)

    arrives(crm, contact(phone="+1 555 0111", email="ada.k@example.com", changed_at={"phone": before}))

    fresh_ada = fresh(customer)
    assert fresh_ada.phone == "+1 555 0199"  # ours is newer: kept, and sent again
    assert fresh_ada.email == "ada.k@example.com"  # theirs is newer (the record's time): taken
    assert ref_of(crm).pushed_hash == ""
    item = customer_out_for(crm, fresh_ada, ref_of(crm), ownership.field_owners_of(crm))
    assert item.changed_at["email"] > before  # counts from the tool's time of it, not from ours
    assert item.changed_at["email"] == ref_of(crm).external_updated_at


def test_our_own_push_told_back_late_is_not_taken_for_a_change_of_the_tool(crm):
    customer = ada(crm, sent={"name": "Ada L."})  # what we sent before a person here renamed her

    arrives(crm, contact(name="Ada L."))  # the CRM's time of our write is later than the rename

    assert fresh(customer).name == "Ada Lovelace"
    assert ref_of(crm).pushed_hash == ""


def test_a_record_as_we_have_it_changes_nothing_and_pushes_nothing(crm):
    customer = ada(crm)
    history = customer.history.count()

    applied = arrives(crm, contact())

    assert applied.outcome == "skipped"
    assert customer.history.count() == history
    assert pushed_again(crm) == []
    owners = ownership.field_owners_of(crm)
    fresh_ada = Customer.objects.prefetch_related("addresses").get(pk=customer.pk)
    assert ref_of(crm).pushed_hash == resolving.digest(customer_out_for(crm, fresh_ada, ref_of(crm), owners))


def test_what_only_the_tool_keeps_is_kept_on_the_link_and_its_columns_and_address_applied(keeper):
    crm = ownership.field_owners_set(connection=keeper, owners={"address": "tool", "payment_terms": "tool"})
    customer = ada(crm)
    address = {"name": "Ada", "line1": "12 St James's Sq", "city": "London", "country": "GB"}
    crm_values = {"lifecycle_stage": "customer", "owner": "Sam Rep", "payment_terms": "net_60"}

    applied = arrives(crm, contact(address=address, crm=crm_values))

    assert applied.outcome == "updated"
    fresh_ada = fresh(customer)
    assert fresh_ada.payment_terms == "net_60"
    billing = fresh_ada.addresses.get(kind="billing", is_default=True)
    assert (billing.line1, billing.city, billing.country) == ("12 St James's Sq", "London", "GB")
    kept = ref_of(crm).extra["crm"]
    assert {f: v["value"] for f, v in kept.items()} == {"lifecycle_stage": "customer", "owner": "Sam Rep"}
    [shown] = ownership.kept_values(crm)
    assert shown.values == {"Lifecycle stage": "customer", "Owner (sales rep)": "Sam Rep"}


def test_the_same_disagreement_right_after_we_healed_it_is_not_sent_again(crm):
    crm = ownership.field_owners_set(connection=crm, owners={"email": "hub"})
    customer = ada(crm)
    run = SyncRunFactory(connection=crm)

    arrives(crm, contact(email="ADA@EXAMPLE.COM "), run)  # the same email, the tool's spelling
    arrives(crm, contact(email="ada@example.org"), run)
    arrives(crm, contact(email="ada@example.org", at=later(90)), run)

    assert len(pushed_again(crm)) == 1
    assert fresh(customer).email == "ada@example.com"
    [warning] = run.errors
    assert "keeps its own email of Ada Lovelace" in warning["message"]


def test_a_merged_record_moves_its_link_to_the_survivor(crm):
    customer = ada(crm, external_id="9101")

    applied = arrives(crm, contact(external_id="9200", merged_external_ids=("9101",)))

    assert applied.internal_id == customer.pk
    assert ref_of(crm, "9200").object_id == customer.pk
    assert not ExternalRef.objects.filter(connection=crm, external_id="9101").exists()
    assert Customer.objects.count() == 1


def test_a_merge_of_two_customers_here_keeps_the_survivors_and_says_so(crm):
    kept = ada(crm, external_id="9200")
    other = CustomerFactory(name="A. Lovelace", email="a.lovelace@example.com")
    ExternalRefFactory(connection=crm, object_type="customer", external_id="9101", internal=other)
    run = SyncRunFactory(connection=crm)

    arrives(crm, contact(external_id="9200", merged_external_ids=("9101",)), run)

    assert ref_of(crm, "9200").object_id == kept.pk
    assert not ExternalRef.objects.filter(connection=crm, external_id="9101").exists()
    [warning] = run.errors
    assert warning["level"] == "warning"
    assert f"A. Lovelace ({other.code}) is no longer linked to Pipeline CRM" in warning["message"]
    assert "If they are one customer, merge them here" in warning["message"]


def test_applying_a_record_costs_the_same_queries_whatever_the_customers_history(crm):
    customer = ada(crm)
    moments = iter(range(1, 100))

    def once() -> None:
        arrives(crm, contact(phone=f"+1 555 {next(moments):04d}", at=later(next(moments) * 60)))

    def grow() -> None:
        for n in range(5):
            customer_update(customer=fresh(customer), notes=f"note {n}")

    assert_constant_queries(once, grow)


def test_an_order_history_the_crm_shows_wrong_is_sent_again_though_the_fields_agree(crm):
    """The CRM read back shows a lifetime value that is not ours (a push of it lost to a race): the
    hub must not believe the CRM holds what it would send because the other fields agree."""
    from integrations.appliers.customers import _history_differs

    customer = CustomerFactory(name="Mei Chen")
    order = order_for((stocked_product(10), 1), customer=customer)
    order_confirm(order=order)
    order.refresh_from_db()
    record = CustomerRecord(
        external_id="9101",
        name="Mei Chen",
        crm={"lifetime_value": "0", "last_order_date": timezone.localdate(order.order_date).isoformat()},
    )
    assert _history_differs(customer, record) == {"lifetime_value": "0"}
    shown = CustomerRecord(
        external_id="9101",
        name="Mei Chen",
        crm={
            "lifetime_value": format(order.total, "f"),
            "last_order_date": timezone.localdate(order.order_date).isoformat(),
        },
    )
    assert _history_differs(customer, shown) == {}
    assert _history_differs(customer, CustomerRecord(external_id="9101", name="Mei Chen")) == {}


def acme(connection: Connection) -> Customer:
    """A company customer whose contact and company the CRM has as the last push left them."""
    customer = CustomerFactory(
        name="Acme Tools", email="buyer@acme.example", phone="+1 555 0100", kind="company"
    )
    ExternalRefFactory(
        connection=connection,
        object_type="customer",
        external_id="9300",
        internal=customer,
        extra={"company_id": "77"},
    )
    ref = ref_of(connection, "9300")
    item = customer_out_for(connection, fresh(customer), ref, ownership.field_owners_of(connection))
    ref.extra[outbound_crm.SENT] = outbound_crm.sent_values(item)
    ref.pushed_hash = resolving.digest(item)
    ref.save()
    return customer


def acme_contact(**values: Any) -> CustomerRecord:
    return contact("9300", **{"name": "Acme Tools", "email": "buyer@acme.example", **values})


def test_a_value_taken_from_a_company_customers_contact_goes_on_to_its_company(crm):
    """The contact read back agrees with us once its phone is taken, but its company (never read
    back) still shows the phone we last sent: the push must go on, even when another record of the
    contact arrives before it does."""
    customer = acme(crm)

    applied = arrives(crm, acme_contact(phone="+1 555 0172"))

    assert (applied.outcome, fresh(customer).phone) == ("updated", "+1 555 0172")
    assert ref_of(crm, "9300").pushed_hash == ""  # the customer's own "updated" push carries it
    assert pushed_again(crm) == []

    arrives(crm, acme_contact(phone="+1 555 0172", at=later(120)))  # nothing of ours changed there

    assert ref_of(crm, "9300").pushed_hash == ""
    assert pushed_again(crm) == [
        {"connection_id": crm.pk, "customer_id": customer.pk, "why": "its company follows"}
    ]

    ref = ref_of(crm, "9300")  # the push landed: the company has what we sent
    item = customer_out_for(crm, fresh(customer), ref, ownership.field_owners_of(crm))
    ref.extra[outbound_crm.SENT] = outbound_crm.sent_values(item)
    ref.save()
    arrives(crm, acme_contact(phone="+1 555 0172", at=later(180)))

    assert ref_of(crm, "9300").pushed_hash == resolving.digest(item)
    assert len(pushed_again(crm)) == 1


def test_a_person_whose_contact_agrees_is_not_pushed_for_a_company_they_do_not_have(crm):
    customer = ada(crm, sent={"name": "someone else"})

    arrives(crm, contact(at=later(60)))

    owners = ownership.field_owners_of(crm)
    item = customer_out_for(crm, fresh(customer), ref_of(crm), owners)
    assert ref_of(crm).pushed_hash == resolving.digest(item)
    assert pushed_again(crm) == []
