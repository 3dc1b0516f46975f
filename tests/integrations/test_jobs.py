"""The hub's long work as background jobs (integrations/jobs.py): a reconciliation object type by
object type, a product import product by product, the simulated day order by order; and the page
that starts the day, offered only where the demo fakes are on."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from erp import jobs
from erp.models import Job
from integrations.models import Connection
from integrations.shopify.fake import FakeShopify
from tests.erp.factories import UserFactory
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    connection_fixture,  # noqa: F401  (a fixture)
    fake_fixture,  # noqa: F401  (a fixture)
    mapped_variant,
    shop_fixture,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(monkeypatch, settings):
    settings.JOBS_PROGRESS_INTERVAL = 0
    seen: list[tuple[int, int | None, str]] = []
    flush = jobs.Progress.flush

    def spy(self: jobs.Progress) -> None:
        flush(self)
        row = Job.objects.get(pk=self.job_id)
        seen.append((row.done, row.total, row.step))

    monkeypatch.setattr(jobs.Progress, "flush", spy)
    return seen


@pytest.fixture
def ines():
    return UserFactory(username="ines", roles=["Integration admin"])


def test_a_reconciliation_reports_each_object_type(
    ines, connection: Connection, shop: FakeShopify, written
) -> None:
    mapped_variant(connection, shop, "TENT-2P-GRN", 10)
    shop.set_available("TENT-2P-GRN", 3)

    job = jobs.job_start("reconcile", user=ines, params={"connection": connection.pk})

    assert job.state == Job.State.DONE
    steps = [step for _, _, step in written]
    assert "Comparing inventory with Acme Outdoors" in steps
    assert "Comparing order with Acme Outdoors" in steps
    assert (job.done, job.total) == (2, 2)
    assert job.result["summary"] == "Reconciliation of Acme Outdoors done: 0 open drifts."  # healed at once
    assert job.result_url == reverse("integrations:connection-drifts", args=[connection.pk])
    assert shop.available("TENT-2P-GRN") == 10


def test_a_product_import_reports_page_by_page_and_product_by_product(
    ines, connection: Connection, shop: FakeShopify, written
) -> None:
    job = jobs.job_start("product_import", user=ines, params={"connection": connection.pk})

    assert job.state == Job.State.DONE
    assert any(step.startswith("Reading page 1 of products from Acme Outdoors") for _, _, step in written)
    dones = [done for done, _, _ in written]
    assert dones == sorted(dones)
    assert job.done == len(shop.products)
    assert job.total is None  # a tool does not say how many products it has
    assert job.result["counts"]["Created"] == len(shop.products)
    assert job.result_url == reverse("integrations:sync-run", args=[job.result["sync_run"]])


def test_a_job_of_a_deleted_connection_fails_with_a_clear_message(ines, connection: Connection) -> None:
    params = {"connection": connection.pk}
    connection.delete()

    job = jobs.job_start("reconcile", user=ines, params=params)

    assert (job.state, job.error) == (Job.State.FAILED, "The connection no longer exists.")


def test_who_only_reads_integrations_may_not_reconcile(connection: Connection) -> None:
    otto = UserFactory(username="otto", roles=["Operations manager"])

    with pytest.raises(jobs.JobRefused):
        jobs.job_start("reconcile", user=otto, params={"connection": connection.pk})


def test_the_hub_kinds_run_on_the_integrations_queue() -> None:
    kinds = jobs.kinds()

    assert {kinds[k].queue for k in ("reconcile", "product_import", "simulate_day")} == {"integrations"}
    assert kinds["simulate_day"].isolated  # it sets the process's clock: a process of its own


# --- the simulated day ---------------------------------------------------------------------------


def boss_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_the_simulation_page_is_not_there_without_the_demo_fakes(settings) -> None:
    settings.ERP_DEMO_FAKES = False

    assert boss_client().get(reverse("integrations:simulate-day")).status_code == 404
    hub = boss_client().get(reverse("integrations:index")).content.decode()
    assert "Run a simulated day" not in hub


def test_the_simulation_needs_write_on_every_area(settings, admin: Client) -> None:
    settings.ERP_DEMO_FAKES = True

    refused = admin.get(reverse("integrations:simulate-day"))  # integrations only

    assert refused.status_code == 403
    assert "every area (write)" in refused.content.decode()
    assert "Run a simulated day" not in admin.get(reverse("integrations:index")).content.decode()


def test_a_form_with_no_tool_starts_nothing(settings) -> None:
    settings.ERP_DEMO_FAKES = True

    refused = boss_client().post(reverse("integrations:simulate-day"), {"orders": "3", "faults": "none"})

    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)  # the day's tasks run as each of its requests commits
def test_a_simulated_day_runs_as_a_job_order_by_order(settings, tmp_path: Path, written) -> None:
    settings.ERP_DEMO_FAKES = True
    settings.INTEGRATIONS_SIMULATION_REPORT = tmp_path / "simulation.json"
    client = boss_client()
    form = client.get(reverse("integrations:simulate-day")).content.decode()
    assert 'value="shopify"' in form

    started = client.post(
        reverse("integrations:simulate-day"),
        {"orders": "4", "tools": ["shopify"], "faults": "none", "seed": "9"},
    )

    job = Job.objects.get(kind="simulate_day")
    assert started["Location"] == f"/jobs/{job.pk}/"
    assert job.state == Job.State.DONE, job.error
    assert (job.done, job.total) == (4, 4)
    steps = [step for _, _, step in written]
    assert steps[0] == "Morning: connecting shopify and stocking the warehouse"
    assert any(step.startswith("Order 2 of 4") for step in steps)
    assert job.result["counts"]["Orders"] == 4
    assert job.result["counts"]["Drifts"] == 0
    page = client.get(started["Location"]).content.decode()
    assert "4 orders (seed 9) through shopify: no drift, no failed event." in page
    assert settings.INTEGRATIONS_SIMULATION_REPORT.exists()  # the hub's card shows it
    assert "Last simulated day" in client.get(reverse("integrations:index")).content.decode()
