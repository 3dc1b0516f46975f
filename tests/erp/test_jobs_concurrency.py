"""A job's progress is seen by other connections while the job's own transaction is still open
(PostgreSQL: progress goes through the "jobs" alias, a second connection; erp/jobs.py)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from erp import jobs
from erp.models import Job
from inventory.models import Category

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", "jobs"])]


def test_another_connection_sees_progress_before_the_job_commits(monkeypatch, settings):
    # given: a job whose runner holds its business transaction open until told to finish
    settings.JOBS_PROGRESS_DATABASE, settings.JOBS_PROGRESS_INTERVAL = "jobs", 0
    monkeypatch.setattr(jobs, "_KINDS", dict(jobs._KINDS))
    reached, finish = threading.Event(), threading.Event()

    def run(job: Job, progress: jobs.Progress) -> dict:
        with transaction.atomic():
            Category.objects.create(name="Written inside the job")
            progress.total(10)
            progress.step("Halfway, inside the transaction")
            progress.advance(5)
            reached.set()
            assert finish.wait(20), "the test never let the job finish"
        return {"summary": "ok"}

    jobs.register_kind("test_hold", run, area="inventory", label="Hold")
    job = Job.objects.create(kind="test_hold", label="Hold", area="inventory")

    # when: it runs in a thread, as in the embedded mode
    thread = jobs._start_thread(job.pk)
    try:
        assert reached.wait(20)
        seen = Job.objects.get(pk=job.pk)  # this test's own connection: another one than the job's
        business_visible = Category.objects.filter(name="Written inside the job").exists()
    finally:
        finish.set()
        thread.join(20)

    # then: the progress was there while the business write was not yet
    assert (seen.state, seen.done, seen.total, seen.step) == (
        "running",
        5,
        10,
        "Halfway, inside the transaction",
    )
    assert not business_visible
    done = Job.objects.get(pk=job.pk)
    assert done.state == Job.State.DONE
    assert done.done == 10
    assert Category.objects.filter(name="Written inside the job").exists()
    assert connection.vendor == "postgresql"
