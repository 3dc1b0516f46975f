"""HubSpot in the simulated business day: the CRM of the day's customers and orders, with a sales
rep editing contacts and merging duplicates in it. The day ends with every customer matching its
contact field by field as the ownership rules say and every order's deal in its stage; and the day's
check sees it when the hub gets a deal's stage wrong."""

from __future__ import annotations

import pytest

from integrations import outbound_crm
from integrations.hubspot import day
from integrations.hubspot.day import Crm
from integrations.models import Connection, ExternalRef
from integrations.simulate import Faults, books, simulate_day
from sales.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_the_day_finds_hubspots_part():
    assert books.available()["hubspot"] is Crm


def test_a_day_with_hubspot_ends_with_every_customer_and_deal_as_the_rules_say(monkeypatch):
    monkeypatch.setattr(day, "MERGE_CHANCE", 0.5)  # the rep merges both of the day's duplicates

    report = simulate_day(orders=24, seed=11, faults=Faults.named("default"), tools=("shopify", "hubspot"))

    assert report.problems == [], report.to_json()
    summary = report.books["hubspot"]
    assert summary["customers"] > 0
    assert summary["deals"] > 0
    actions = report.actions
    edits = [k for k in actions if k.startswith("rep_edited_")]
    assert edits, actions
    merges = actions.get("rep_merged_a_duplicate_into_ours", 0) + actions.get(
        "rep_merged_ours_into_a_duplicate", 0
    )
    assert merges == 2, actions
    connection = Connection.objects.get(connector="hubspot")
    # what only HubSpot keeps came back and is kept on the links
    kept = [r.extra["crm"] for r in ExternalRef.objects.filter(connection=connection, extra__has_key="crm")]
    if actions.get("rep_edited_lifecycle_stage") or actions.get("rep_edited_owner"):
        assert kept
    # the rep's phone edits reached the customers here
    if actions.get("rep_edited_phone"):
        assert Customer.objects.filter(phone__startswith="+1 555 01").exists()


def test_a_deal_pushed_in_the_wrong_stage_is_drift(monkeypatch):
    real = outbound_crm.stage_of

    def always_confirmed(order):
        stage = real(order)
        return "confirmed" if stage != "cancelled" else stage

    monkeypatch.setattr(outbound_crm, "stage_of", always_confirmed)

    report = simulate_day(orders=12, seed=3, faults=Faults.named("none"), tools=("shopify", "hubspot"))

    assert not report.ok
    assert report.drifts.get("hubspot deal stage", 0) > 0, report.to_json()
