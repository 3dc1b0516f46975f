"""An MRP run is a background job (manufacturing/jobs.py): item by item, level by level, its
result the MRP page with the run's suggestions."""

from __future__ import annotations

import pytest
from django.test import Client

from erp import jobs
from erp.models import Job
from manufacturing.models import MrpSuggestion
from tests.erp.factories import UserFactory
from tests.manufacturing.test_views_mrp import day, planner, world  # noqa: F401  (fixtures)

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


def test_the_run_reports_each_item_level_by_level(world, written):  # noqa: F811
    pia = UserFactory(username="pia", roles=["Production"])

    job = jobs.job_start("mrp", user=pia, params={"horizon": day(30).isoformat()})

    assert job.state == Job.State.DONE
    steps = [step for _, _, step in written]
    assert steps[0] == "Reading demand and supply"
    level_0 = [s for s in steps if s.startswith("Level 0: BIKE")]
    level_1 = [s for s in steps if s.startswith("Level 1: ")]
    assert level_0
    assert level_1
    assert steps.index(level_0[0]) < steps.index(level_1[0])  # finished goods first
    dones = [done for done, _, _ in written]
    assert dones == sorted(dones)
    assert job.done == job.total
    assert job.total >= 4
    assert job.result["counts"] == {"Suggestions": 5, "Make": 2, "Buy": 3}
    assert MrpSuggestion.objects.filter(run_id=job.result["run"]).count() == 5


def test_the_job_page_links_to_the_mrp_page_with_the_run(planner: Client, world):  # noqa: F811
    planner.post("/manufacturing/mrp/", {"horizon": day(30).isoformat()})
    job = Job.objects.get()

    page = planner.get(f"/jobs/{job.pk}/").content.decode()
    mrp = planner.get(job.result_url)

    assert 'href="/manufacturing/mrp/">Open the result</a>' in page
    assert mrp.context["run"].pk == job.result["run"]
    assert {r.s.product.sku for r in mrp.context["rows"]} >= {"BIKE", "FRAME", "WHEEL"}


def test_who_may_only_read_manufacturing_may_not_run_mrp(world):  # noqa: F811
    clerk = UserFactory(username="wes", roles=["Warehouse"])
    client = Client()
    client.force_login(clerk)

    refused = client.post("/manufacturing/mrp/", {"horizon": day(30).isoformat()})

    assert refused.status_code == 403
    with pytest.raises(jobs.JobRefused):
        jobs.job_start("mrp", user=clerk, params={"horizon": day(30).isoformat()})
    assert not Job.objects.exists()
