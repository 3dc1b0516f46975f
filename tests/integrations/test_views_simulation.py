"""The hub's page shows the last simulated day (``manage.py simulate_day``'s report) when one is
found at ``settings.INTEGRATIONS_SIMULATION_REPORT``; nothing, and no error, otherwise."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.simulate import Report
from tests.integrations.ui_support import reader_fixture  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

CARD = 'id="hub-simulation"'


def write_report(path: Path, **fields: object) -> Path:
    report = Report(orders=200, seed=7, faults={"drop": 0.02})
    for name, value in fields.items():
        setattr(report, name, value)
    path.write_text(report.to_json() + "\n")
    return path


def hub(client: Client, path: Path) -> str:
    with override_settings(INTEGRATIONS_SIMULATION_REPORT=path):
        response = client.get(reverse("integrations:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_hub_shows_the_last_simulated_day(reader: Client, tmp_path: Path) -> None:
    # given: a report with drift, dead letters and quarantined events (so not OK)
    path = write_report(
        tmp_path / "simulation.json",
        drifts={"missing_here": 2, "value_mismatch": 1},
        dead_letters={"inbound": 1, "deliveries": 2},
        quarantined=4,
        problems=["3 drift(s)"],
    )
    three_hours_ago = time.time() - 3 * 3600
    os.utime(path, (three_hours_ago, three_hours_ago))
    # when
    content = hub(reader, path)
    # then
    assert CARD in content
    assert "Last simulated day" in content
    assert "200 orders, seed 7" in content
    assert "not OK" in content
    assert "missing_here 2, value_mismatch 1" in content
    assert "dead letters: 3" in content
    assert "quarantined: 4" in content
    assert "make simulate" in content
    assert "3 hours ago" in content.replace("\xa0", " ")  # when it ran: the file's time


def test_a_clean_day_is_ok(reader: Client, tmp_path: Path) -> None:
    content = hub(reader, write_report(tmp_path / "simulation.json", dead_letters={"inbound": 0}))
    assert CARD in content
    assert '<span class="badge ok">OK</span>' in content
    assert "Drift: none" in content


def test_a_day_with_real_workers_shows_its_tools_both_checks_and_the_time_to_agreement(
    reader: Client, tmp_path: Path
) -> None:
    path = write_report(
        tmp_path / "simulation.json",
        mode="workers",
        tools=["shopify"],
        drifts={"shopify stock stock": 1},
        reconcile_drifts={"quantity_mismatch": 1},
        consistency={"all": {"changes": 280, "p50_seconds": 8.1, "p95_seconds": 27.3, "max_seconds": 31.0}},
        problems=["2 drift(s)"],
    )
    content = hub(reader, path)
    assert "200 orders, seed 7, shopify" in content
    assert "PostgreSQL, real worker" in content
    assert "shopify stock stock 1, reconciliation quantity_mismatch 1" in content
    assert "in agreement after p50 8.1 s, p95 27.3 s" in content


def test_the_card_costs_no_query(reader: Client, tmp_path: Path) -> None:
    # given: the page once without a report (the session and user loaded the same way after)
    missing = tmp_path / "missing.json"
    path = write_report(tmp_path / "simulation.json")
    hub(reader, missing)
    # when
    with CaptureQueriesContext(connection) as without:
        hub(reader, missing)
    with CaptureQueriesContext(connection) as with_card:
        content = hub(reader, path)
    # then
    assert CARD in content
    assert len(with_card.captured_queries) == len(without.captured_queries)


def test_no_report_no_card(reader: Client, tmp_path: Path) -> None:
    assert CARD not in hub(reader, tmp_path / "nowhere" / "simulation.json")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"seed": 1}',
        b'{"orders": "many", "seed": 1, "ok": true}',
        b'{"orders": 3, "seed": 1, "ok": true, "drifts": ["x"]}',
        b'{"orders": 3, "seed": 1, "ok": true, "drifts": {"missing_here": "two"}}',
        b"",
    ],
)
def test_a_broken_report_shows_nothing_and_no_error(reader: Client, tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "simulation.json"
    path.write_bytes(body)
    assert CARD not in hub(reader, path)


def test_a_directory_in_its_place_shows_nothing(reader: Client, tmp_path: Path) -> None:
    assert CARD not in hub(reader, tmp_path)
