"""Background jobs (erp.jobs): started, run, their progress written, failures kept, who may start
and see them, the sweep, the pages, the API."""

from __future__ import annotations

import datetime
import logging
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from erp import jobs
from erp.exceptions import ValidationFailed
from erp.models import Job
from erp.tasks import run_job_task
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kinds(monkeypatch):
    """A clean registry for the test's own kinds (the apps' kinds come back afterwards)."""
    monkeypatch.setattr(jobs, "_KINDS", dict(jobs._KINDS))
    return jobs


@pytest.fixture
def counter(kinds, settings):
    """A kind that counts to three, checking after each step what its row says."""
    settings.JOBS_PROGRESS_INTERVAL = 0
    seen: list[tuple[int, int | None, str]] = []

    def run(job: Job, progress: jobs.Progress) -> dict:
        progress.total(3)
        for i in range(3):
            progress.step(f"Counting {i + 1}")
            progress.advance()
            row = Job.objects.get(pk=job.pk)
            seen.append((row.done, row.total, row.step))
        return {"summary": "Counted to 3.", "counts": {"Counted": 3}, "result_url": "/inventory/"}

    kinds.register_kind("test_count", run, area="inventory", label="Count")
    return seen


@pytest.fixture
def clerk():
    return UserFactory(username="wes", roles=["Warehouse"])


# --- starting and running -------------------------------------------------------------------------


def test_a_started_job_runs_to_its_end_and_keeps_its_result(counter, clerk):
    job = jobs.job_start("test_count", user=clerk, label="Count to three")

    assert job.state == Job.State.DONE
    assert (job.done, job.total, job.step) == (3, 3, "")
    assert job.result == {"summary": "Counted to 3.", "counts": {"Counted": 3}, "counts_order": ["Counted"]}
    assert job.result_url == "/inventory/"
    assert job.user == clerk
    assert job.area == "inventory"
    assert job.label == "Count to three"
    assert job.started_at is not None
    assert job.finished_at is not None
    assert not job.error


def test_the_counts_keep_the_order_the_runner_gave_them(kinds, clerk):
    # PostgreSQL's jsonb sorts keys by length then bytes: Suggestions, Make, Buy would come back
    # as Buy, Make, Suggestions without the kept order.
    counts = {"Suggestions": 5, "Make": 2, "Buy": 3}
    kinds.register_kind("test_counts", lambda job, progress: {"counts": counts}, area="inventory", label="C")

    job = Job.objects.get(pk=jobs.job_start("test_counts", user=clerk, label="Counts").pk)

    assert job.counts == [("Suggestions", 5), ("Make", 2), ("Buy", 3)]
    page = client_for(clerk).get(f"/jobs/{job.pk}/").content.decode()
    assert page.index("Suggestions") < page.index(">Make<") < page.index(">Buy<")


def test_progress_is_written_to_the_row_as_the_job_goes(counter, clerk):
    jobs.job_start("test_count", user=clerk)

    assert counter == [(1, 3, "Counting 1"), (2, 3, "Counting 2"), (3, 3, "Counting 3")]


def test_progress_writes_at_most_every_interval_and_at_the_end(kinds, clerk, settings):
    settings.JOBS_PROGRESS_INTERVAL = 3600
    written: list[int] = []

    def run(job: Job, progress: jobs.Progress) -> dict:
        progress.total(500)
        for _ in range(500):
            progress.advance()
        written.append(progress.writes)
        assert Job.objects.get(pk=job.pk).done == 0  # only the first call wrote, with nothing done
        return {}

    kinds.register_kind("test_many", run, area="inventory", label="Many")
    job = jobs.job_start("test_many", user=clerk)

    assert written == [1]
    assert (job.done, job.total) == (500, 500)  # the end is always written


def test_progress_never_counts_past_its_total():
    progress = jobs.Progress(0, interval=3600)
    progress.total(2)
    progress.advance(5)

    assert progress.snapshot() == jobs.Snapshot(done=5, total=5, step="")


def test_the_process_running_a_job_serves_its_progress_from_memory(kinds, clerk):
    job = Job.objects.create(kind="x", label="x", area="inventory", user=clerk, state=Job.State.RUNNING)
    progress = jobs.Progress(job.pk, interval=3600)
    progress.total(10)
    progress.advance(4)  # the first call wrote the row; this one is in memory only
    progress.step("Row 4")

    shown = jobs.live(Job.objects.get(pk=job.pk))

    assert (shown.done, shown.total, shown.step) == (4, 10, "Row 4")


def test_a_failing_job_keeps_its_error_and_logs_the_traceback(kinds, clerk, caplog):
    def run(job: Job, progress: jobs.Progress) -> dict:
        progress.total(4)
        progress.advance()
        raise ValueError("the file vanished")

    kinds.register_kind("test_boom", run, area="inventory", label="Boom")
    with caplog.at_level(logging.ERROR, logger="erp.jobs"):
        job = jobs.job_start("test_boom", user=clerk)

    assert job.state == Job.State.FAILED
    assert job.error == "ValueError: the file vanished"
    assert (job.done, job.total) == (1, 4)  # where it stopped
    assert job.finished_at is not None
    assert "Traceback" in caplog.text
    assert "the file vanished" in caplog.text


def test_a_job_refused_by_a_rule_keeps_its_message_and_result(kinds, clerk):
    def run(job: Job, progress: jobs.Progress) -> dict:
        raise jobs.JobFailed("Row 3: no such unit.", result={"errors": [{"where": "Row 3", "message": "x"}]})

    kinds.register_kind("test_refused", run, area="inventory", label="Refused")
    job = jobs.job_start("test_refused", user=clerk)

    assert job.state == Job.State.FAILED
    assert job.error == "Row 3: no such unit."
    assert job.result == {"errors": [{"where": "Row 3", "message": "x"}]}


def test_a_job_is_run_once_however_often_it_is_sent(counter, clerk, settings):
    settings.JOBS_INLINE = False
    with mock.patch.object(jobs, "_hand_over"):
        job = jobs.job_start("test_count", user=clerk)

    assert run_job_task.delay(job.pk).get() is True  # the task (eager here) runs it
    assert jobs.run_job(job.pk) is False  # a second delivery does nothing
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert len(counter) == 3


# --- who may start a job ------------------------------------------------------------------------


def test_a_user_without_write_on_the_area_may_not_start_it(counter):
    seller = UserFactory(username="sal", roles=["Sales"])  # reads inventory, writes sales

    with pytest.raises(jobs.JobRefused, match=r"Inventory \(write\)"):
        jobs.job_start("test_count", user=seller)

    assert not Job.objects.exists()


def test_an_unknown_kind_is_refused(clerk):
    with pytest.raises(ValidationFailed, match="Unknown kind"):
        jobs.job_start("no_such_kind", user=clerk)

    assert not Job.objects.exists()


# --- where a job runs ----------------------------------------------------------------------------


def test_without_a_broker_a_job_starts_in_a_thread_after_the_commit(
    counter, clerk, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_INLINE = False  # and no broker: the tests run tasks eagerly
    with mock.patch.object(jobs, "_start_thread") as thread:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = jobs.job_start("test_count", user=clerk)
        thread.assert_not_called()  # not before the commit
        for callback in callbacks:
            callback()

    thread.assert_called_once_with(job.pk)
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED


@pytest.mark.parametrize(
    ("queue", "task"),
    [("default", "erp.tasks.run_job_task"), ("integrations", "erp.tasks.run_integrations_job_task")],
)
def test_with_a_broker_a_job_is_sent_to_its_queue_after_the_commit(
    kinds, clerk, settings, monkeypatch, django_capture_on_commit_callbacks, queue, task
):
    settings.JOBS_INLINE = False
    monkeypatch.setattr(jobs, "has_broker", lambda: True)
    kinds.register_kind("test_queued", lambda job, progress: {}, area="inventory", label="Q", queue=queue)
    with (
        mock.patch("erp.scheduling.enqueue", return_value=True) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = jobs.job_start("test_queued", user=clerk)

    assert enqueue.call_args.args == (task, job.pk)
    assert "jobs sweep" in enqueue.call_args.kwargs["recovery"]


def test_an_isolated_kind_runs_in_a_process_of_its_own(
    kinds, clerk, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_INLINE = False
    kinds.register_kind("test_alone", lambda job, progress: {}, area="inventory", label="A", isolated=True)
    with (
        mock.patch("erp.jobs.subprocess.Popen") as popen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = jobs.job_start("test_alone", user=clerk)

    command = popen.call_args.args[0]
    assert command[-2:] == ["run_job", str(job.pk)]
    assert popen.call_args.kwargs["env"]["CELERY_BROKER_URL"] == ""  # its tasks run in that process


def test_the_run_job_command_runs_a_queued_job(counter, clerk, settings):
    from django.core.management import call_command

    settings.JOBS_INLINE = False
    with mock.patch.object(jobs, "_hand_over"):
        job = jobs.job_start("test_count", user=clerk)

    call_command("run_job", str(job.pk), stdout=mock.Mock())

    assert Job.objects.get(pk=job.pk).state == Job.State.DONE


# --- the sweep -----------------------------------------------------------------------------------


def _aged(job: Job, **ages: datetime.timedelta) -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(**{field: now - age for field, age in ages.items()})
    return Job.objects.get(pk=job.pk)


def test_the_sweep_fails_a_running_job_whose_worker_died(clerk, settings):
    settings.JOBS_STALE_SECONDS = 600
    dead = Job.objects.create(kind="x", label="x", area="inventory", state=Job.State.RUNNING)
    _aged(dead, updated_at=datetime.timedelta(minutes=11))
    alive = Job.objects.create(kind="x", label="x", area="inventory", state=Job.State.RUNNING)
    _aged(alive, updated_at=datetime.timedelta(minutes=2))
    never = Job.objects.create(kind="x", label="x", area="inventory")
    _aged(never, created_at=datetime.timedelta(minutes=30))

    assert jobs.sweep() == 2

    dead.refresh_from_db(), alive.refresh_from_db(), never.refresh_from_db()
    assert dead.state == Job.State.FAILED
    assert dead.error.startswith("Interrupted: no progress for 10 minutes")
    assert dead.finished_at is not None
    assert alive.state == Job.State.RUNNING
    assert never.state == Job.State.FAILED
    assert never.error.startswith("Never started")


def test_with_a_broker_the_sweep_sends_a_queued_job_again(kinds, settings, monkeypatch):
    settings.JOBS_INLINE = False
    monkeypatch.setattr(jobs, "has_broker", lambda: True)
    kinds.register_kind("test_q", lambda job, progress: {}, area="inventory", label="Q")
    waiting = _aged(
        Job.objects.create(kind="test_q", label="x", area="inventory"),
        created_at=datetime.timedelta(minutes=3),
    )
    Job.objects.create(kind="test_q", label="just sent", area="inventory")

    with mock.patch("erp.scheduling.enqueue", return_value=True) as enqueue:
        assert jobs.sweep() == 1

    enqueue.assert_called_once()
    assert enqueue.call_args.args == ("erp.tasks.run_job_task", waiting.pk)


def test_the_sweep_is_on_the_beat_schedule():
    from erp.celery import app

    assert app.conf.beat_schedule["jobs-sweep"]["task"] == "erp.tasks.sweep_jobs_task"


# --- the pages -----------------------------------------------------------------------------------


def test_the_job_page_shows_the_result_and_does_not_poll_once_it_ended(counter, clerk):
    job = jobs.job_start("test_count", user=clerk, label="Count to three")

    page = client_for(clerk).get(f"/jobs/{job.pk}/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Count to three" in html
    assert "Counted to 3." in html
    assert '<progress class="job-bar" max="1" value="1"' in html
    assert 'href="/inventory/"' in html  # the result page
    assert "every 1s" not in html


def test_the_progress_partial_polls_every_second_while_the_job_runs(clerk):
    job = Job.objects.create(
        kind="x", label="Import", area="inventory", user=clerk, state=Job.State.RUNNING, done=40, total=200
    )
    Job.objects.filter(pk=job.pk).update(step="Row 41: create TEE-41", started_at=timezone.now())

    partial = client_for(clerk).get(f"/jobs/{job.pk}/", **HTMX)

    html = partial.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert '<progress class="job-bar" max="200" value="40"' in html
    assert "40 / 200" in html
    assert "20%" in html
    assert "Row 41: create TEE-41" in html
    assert "<html" not in html  # the partial only

    Job.objects.filter(pk=job.pk).update(state=Job.State.DONE, done=200, finished_at=timezone.now())
    ended = client_for(clerk).get(f"/jobs/{job.pk}/", **HTMX).content.decode()
    assert "hx-trigger" not in ended
    assert "Done" in ended


def test_a_failed_job_page_shows_its_error_and_rows(kinds, clerk):
    def run(job: Job, progress: jobs.Progress) -> dict:
        raise jobs.JobFailed(
            "Nothing was imported.", result={"errors": [{"where": "Row 7", "message": "Bad unit"}]}
        )

    kinds.register_kind("test_refused", run, area="inventory", label="Refused")
    job = jobs.job_start("test_refused", user=clerk)

    html = client_for(clerk).get(f"/jobs/{job.pk}/").content.decode()

    assert "Nothing was imported." in html
    assert "Row 7" in html
    assert "Bad unit" in html


def test_the_list_shows_my_jobs_and_those_of_the_areas_i_may_read(clerk):
    seller = UserFactory(username="sal", roles=["Sales"])
    Job.objects.create(kind="x", label="Mine", area="sales", user=seller)
    Job.objects.create(kind="x", label="Stock import by wes", area="inventory", user=clerk)
    Job.objects.create(kind="x", label="Reconcile Shopify", area="integrations", user=clerk)

    html = client_for(seller).get("/jobs/").content.decode()

    assert "Mine" in html
    assert "Stock import by wes" in html
    assert "Reconcile Shopify" not in html


def test_a_job_of_an_area_i_may_not_read_is_not_found(clerk):
    seller = UserFactory(username="sal", roles=["Sales"])
    job = Job.objects.create(kind="x", label="Reconcile", area="integrations", user=clerk)

    assert client_for(seller).get(f"/jobs/{job.pk}/").status_code == 404
    assert client_for(clerk).get(f"/jobs/{job.pk}/").status_code == 200  # my own


def test_the_list_costs_the_same_queries_at_any_length(clerk):
    client = client_for(clerk)
    Job.objects.create(kind="x", label="Mine", area="inventory", user=clerk, state=Job.State.RUNNING)

    def add_jobs() -> None:
        for i in range(15):
            other = UserFactory(username=f"w{i}", roles=["Warehouse"])
            Job.objects.create(
                kind="x", label=f"Job {i}", area="inventory", user=other, total=10, done=i % 10
            )

    assert_constant_queries(lambda: client.get("/jobs/"), add_jobs)


def test_the_list_needs_a_login():
    assert Client().get("/jobs/").status_code == 302


# --- the API -------------------------------------------------------------------------------------


def test_the_api_says_where_a_job_stands(counter, clerk):
    job = jobs.job_start("test_count", user=clerk)

    answer = client_for(clerk).get(f"/api/v1/jobs/{job.pk}")

    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "done"
    assert body["done"] == 3
    assert body["total"] == 3
    assert body["percent"] == 100
    assert body["result"]["summary"] == "Counted to 3."
    assert body["result_url"] == "/inventory/"
    assert body["kind"] == "test_count"


def test_the_api_hides_jobs_of_areas_the_caller_may_not_read(clerk):
    job = Job.objects.create(kind="x", label="x", area="inventory", user=clerk)
    outsider = UserFactory(username="ned")  # no role at all

    assert client_for(outsider).get(f"/api/v1/jobs/{job.pk}").status_code == 404
    key = api_key_for(clerk, scopes=["sales:read"])  # clerk's own job, through a key without inventory
    assert Client().get(f"/api/v1/jobs/{job.pk}", **bearer(key)).status_code == 404
    key = api_key_for(clerk, name="inventory", scopes=["inventory:read"])
    assert Client().get(f"/api/v1/jobs/{job.pk}", **bearer(key)).json()["state"] == "queued"


def test_the_list_refreshes_its_rows_while_a_job_runs_and_stops_after(clerk):
    job = Job.objects.create(kind="x", label="Import", area="inventory", user=clerk, state=Job.State.RUNNING)
    client = client_for(clerk)

    running = client.get("/jobs/", **HTMX).content.decode()
    Job.objects.filter(pk=job.pk).update(state=Job.State.DONE)
    ended = client.get("/jobs/", **HTMX).content.decode()

    assert 'hx-trigger="every 2s"' in running
    assert "hx-trigger" not in ended
    assert "<html" not in ended  # the rows only
