"""Run one queued background job in this process: ``manage.py run_job <id>``.

How ``erp.jobs`` runs the kinds that must have a process of their own (the simulated day); an
operator may also run a queued job by hand. A job that is not queued is left alone."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp import jobs
from erp.models import Job


class Command(BaseCommand):
    help = "Run one queued background job (erp.jobs) in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        job_id = options["job_id"]
        if not jobs.run_job(job_id):
            raise CommandError(f"Job {job_id} is not queued: nothing was run.")
        job = Job.objects.get(pk=job_id)
        self.stdout.write(f"Job {job_id} ({job.kind}): {job.state}{': ' + job.error if job.error else ''}")
