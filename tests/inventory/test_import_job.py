"""A CSV import runs as a background job (inventory/jobs.py): row by row in one transaction, its
progress told per row, its page showing the counts or the row that stopped it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from erp import jobs
from erp.models import Job
from inventory.jobs import file_params
from inventory.models import Product
from tests.erp.factories import UserFactory
from tests.inventory.csv_support import csv_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return UserFactory(username="wes", roles=["Warehouse"])


@pytest.fixture
def written(monkeypatch, settings):
    """Every progress write of the job: (done, total, step)."""
    settings.JOBS_PROGRESS_INTERVAL = 0
    seen: list[tuple[int, int | None, str]] = []
    flush = jobs.Progress.flush

    def spy(self: jobs.Progress) -> None:
        flush(self)
        row = Job.objects.get(pk=self.job_id)
        seen.append((row.done, row.total, row.step))

    monkeypatch.setattr(jobs.Progress, "flush", spy)
    return seen


def products_csv(n: int) -> str:
    return csv_text("sku,name,sale_price", *(f"LAMP-{i:03d},Lamp {i},{10 + i}" for i in range(1, n + 1)))


def test_the_import_reports_each_row_as_it_applies_it(clerk, written):
    job = jobs.job_start(
        "csv_import",
        user=clerk,
        label="Import products: lamps.csv",
        params=file_params(kind="products", filename="lamps.csv", content=products_csv(5)),
    )

    assert job.state == Job.State.DONE
    dones = [done for done, _, _ in written]
    assert dones == sorted(dones)  # it never goes back
    assert set(range(6)) <= set(dones)  # every row counted, one by one
    assert all(total == 5 for _, total, step in written if step.startswith("Row "))
    assert any(step.startswith("Row 4: ") for _, _, step in written)
    assert written[-1][:2] == (5, 5)
    assert job.result["counts"] == {"Created": 5, "Updated": 0, "Unchanged": 0}
    assert job.result_url == "/inventory/products/"
    assert Product.objects.filter(sku__startswith="LAMP-").count() == 5


def test_a_file_no_longer_valid_when_the_job_runs_imports_nothing_and_says_which_rows(clerk):
    text = csv_text("sku,name,unit", "OK-1,Fine,pcs", "OK-2,Fine too,pcs")
    # the file was valid at preview; by the time the job runs, the unit "pcs" is no longer there
    params = file_params(kind="products", filename="p.csv", content=text.replace("pcs", "crate"))

    job = jobs.job_start("csv_import", user=clerk, params=params)

    assert job.state == Job.State.FAILED
    assert job.error == "The data changed since the preview; nothing was imported."
    assert [e["where"] for e in job.result["errors"]] == ["Row 2", "Row 3"]
    assert job.result["errors"][0]["message"].startswith("unit: Unknown unit “crate”.")
    assert not Product.objects.filter(sku__startswith="OK-").exists()
    assert job.params == {"kind": "products", "filename": "p.csv"}  # the file is not kept


def test_the_page_starts_the_job_and_its_result_page_shows_the_outcome(clerk):
    client = Client()
    client.force_login(clerk)
    upload = SimpleUploadedFile("lamps.csv", products_csv(12).encode(), content_type="text/csv")
    client.post("/inventory/io/preview/", {"kind": "products", "file": upload})
    token = client.session["inventory_io_pending"]["token"]

    started = client.post("/inventory/io/apply/", {"token": token}, HTTP_HX_REQUEST="true")

    job = Job.objects.get()
    assert started.status_code == 204
    assert started["HX-Redirect"] == f"/jobs/{job.pk}/"
    assert job.label == "Import products: lamps.csv"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Imported products: 12 created, 0 updated, 0 unchanged. From lamps.csv." in page
    assert "12 / 12" in page
    assert 'href="/inventory/products/">Open the result</a>' in page
    listed = client.get("/jobs/").content.decode()
    assert "Import products: lamps.csv" in listed


def test_who_may_not_import_may_not_start_the_job():
    seller = UserFactory(username="sal", roles=["Sales"])

    with pytest.raises(jobs.JobRefused):
        jobs.job_start(
            "csv_import", user=seller, params=file_params(kind="products", filename="x", content="sku\nX\n")
        )

    assert not Job.objects.exists()
