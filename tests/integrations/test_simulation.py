"""The simulated business day (integrations.simulate): a fake Shopify with faults, the beat jobs, a
drift report; and the day catches what breaks when a safeguard is switched off."""

from __future__ import annotations

import itertools
import json

import pytest
from django.core.management import CommandError, call_command

from integrations import inbound
from integrations.appliers import orders as order_applier
from integrations.shopify.day import Tool as ShopifyDay
from integrations.simulate import Faults, simulate_day
from integrations.simulate.day import Day

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run as each request commits


def test_a_day_of_30_orders_with_default_faults_ends_without_drift():
    report = simulate_day(orders=30, seed=7, faults=Faults.named("default"))

    assert report.problems == [], report.to_json()
    assert report.ok
    assert report.drift_count == 0
    # the counts add up
    assert report.actions["ordered"] == 30
    assert report.events["total"] == sum(n for status, n in report.events.items() if status != "total")
    assert report.deliveries["total"] == sum(n for s, n in report.deliveries.items() if s != "total")
    assert report.events.get("failed", 0) == 0
    # the faults happened, and the hub came through them
    assert report.webhooks.get("dropped", 0) + report.webhooks["duplicates_sent"] > 0
    assert report.api_faults["tokens_expired"] == 1
    assert report.token_refreshes >= 1
    assert report.api_faults["permanent_422"] == 1
    assert report.dead_letters_explained == sum(report.dead_letters.values())
    # every change was agreed on, and how long that took is reported
    timing = report.consistency["all"]
    assert report.consistency["never_agreed"] == 0
    assert timing["changes"] >= 30
    assert 0 <= timing["p50_seconds"] <= timing["p95_seconds"] <= timing["max_seconds"]
    assert json.loads(report.to_json())["ok"] is True


def test_without_the_safety_net_poll_dropped_webhooks_are_reported_as_drift():
    report = simulate_day(orders=12, seed=3, faults=Faults(drop=0.5), safety_poll=False)

    assert report.webhooks["dropped"] > 0
    assert not report.ok
    # the day's own check and the hub's reconciliation both see the orders that never arrived
    assert report.drifts.get("shopify order missing_here", 0) > 0
    assert report.reconcile_drifts.get("missing_here", 0) > 0
    assert report.consistency["never_agreed"] > 0
    assert any("drift" in problem for problem in report.problems)


def test_without_deduplication_of_inbound_events_the_duplicates_are_reported_as_drift(monkeypatch):
    stored = inbound.store_event

    # Both layers off: the event store's unique id, and the order applier's claim of the order's ref
    # (with only the first off, the claim and the stale check absorb the copies: no drift).
    def no_dedupe(**kwargs):  # every delivery stored as a new event
        kwargs["external_id"] = f"{kwargs['external_id']}:{next(copies)}"
        return stored(**kwargs)

    claim = order_applier.claim

    def claim_again(connection, object_type, external_id, model):
        ref, _ = claim(connection, object_type, external_id, model)
        return ref, True

    copies = itertools.count()
    monkeypatch.setattr(inbound, "store_event", no_dedupe)
    monkeypatch.setattr(order_applier, "claim", claim_again)
    # without deduplication every poll stores every order again, and the day never settles: a short
    # evening is enough, the duplicates are made during the day
    monkeypatch.setattr(Day, "evening_rounds", 2)
    report = simulate_day(orders=10, seed=5, faults=Faults(duplicate=0.3))

    assert report.webhooks["duplicates_sent"] > 0
    assert not report.ok
    assert report.drifts.get("shopify order duplicate_here", 0) > 0


def test_a_dead_letter_no_injected_error_explains_fails_the_day(monkeypatch):
    monkeypatch.setattr(ShopifyDay, "explains", lambda self, delivery: False)

    report = simulate_day(orders=8, seed=11, faults=Faults(permanent=1))

    assert report.dead_letters["deliveries"] == 1
    assert report.dead_letters_explained == 0
    assert not report.ok
    assert "1 dead letter(s) no injected permanent error explains" in report.problems


def test_the_command_writes_the_report_and_exits_non_zero_on_drift(tmp_path, monkeypatch):
    out = tmp_path / "sim.json"
    call_command("simulate_day", "--orders", "3", "--faults", "none", "--seed", "2", "--out", str(out))
    written = json.loads(out.read_text())
    assert written["ok"] is True
    assert written["mode"] == "embedded"
    # every tool with a part in the day: the sales channels, then the shipping tools, then the
    # back office's (the CRM and the books)
    assert written["tools"] == [
        "shopify",
        "amazon",
        "bigcommerce",
        "shipbob",
        "shipstation",
        "hubspot",
        "quickbooks",
    ]

    monkeypatch.setattr(
        Faults, "named", classmethod(lambda cls, name: cls(drop=0.5))
    )  # half the webhooks lost
    with pytest.raises(SystemExit) as exited:
        call_command(  # the webhook channels, with no poll to catch what was lost
            "simulate_day",
            "--orders",
            "6",
            "--seed",
            "3",
            "--tools",
            "shopify,bigcommerce",
            "--no-safety-poll",
            "--out",
            str(out),
        )
    assert exited.value.code == 1
    assert json.loads(out.read_text())["drift_count"] > 0

    with pytest.raises(CommandError, match="Unknown tool"):
        call_command("simulate_day", "--tools", "woocommerce")


def test_an_embedded_day_sends_nothing_over_the_network_to_a_connection_that_is_not_its_own(monkeypatch):
    # given: a day of two channels, and an address no tool of the day serves (an earlier day's
    # QuickBooks, left connected); DNS lookups are recorded, not made
    from integrations import http
    from integrations.errors import TransientError
    from integrations.simulate.runner import embedded

    looked_up = []
    monkeypatch.setattr("socket.getaddrinfo", lambda *args, **kwargs: looked_up.append(args) or [])
    day = Day(orders=1, seed=1, faults=Faults.named("none"), tools=["shopify", "bigcommerce"])
    target = http.LogTarget()

    with embedded(day):
        # when: the hub sends to it during the day
        with pytest.raises(TransientError, match="reaches no real tool") as refused:
            http.send("GET", "https://quickbooks.api.intuit.com/v3/company/1/companyinfo/1", target=target)
        # and to a tool of the day: its fake answers (a path it does not serve: its own 404)
        served = http.send(
            "GET", f"{day.tools['shopify'].origin}/admin/oauth/access_scopes.json", target=target
        )

    # then: the first is refused as an unreachable host, without a lookup, and logged
    assert looked_up == []
    assert "quickbooks.api.intuit.com" in str(refused.value)
    assert refused.value.request_log is not None
    assert served.response.status_code == 404
    # and after the day the catch-all is gone: the hub's client is the network's again
    assert "" not in http._mounts


def test_a_day_with_real_workers_does_not_start_on_a_database_with_active_connections(settings):
    # given: a database with a connection of its own (a real store's), the environment otherwise
    # not fit for workers either (no broker in the tests)
    from integrations.models import ConnectionStatus
    from integrations.simulate.workers import WorkersUnavailable, check_environment
    from tests.integrations.factories import ConnectionFactory

    store = ConnectionFactory(name="Our real store")

    # when / then: the day refuses first because of the connection, naming it
    with pytest.raises(WorkersUnavailable, match=r"database of its own.*Our real store"):
        check_environment()

    # and once it is paused, what is left to refuse is the environment's
    store.status = ConnectionStatus.PAUSED
    store.save(update_fields=["status"])
    with pytest.raises(WorkersUnavailable, match="need a broker"):
        check_environment()
