"""The API of background jobs (erp.jobs): where one stands, for a client that started it through a
page or waits on one (``GET /api/v1/jobs/{id}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from erp import jobs
from erp.access import scope_grants
from erp.api_helpers import principal as principal_of
from erp.apiauth import ErpAuth, Principal
from erp.exceptions import NotFound
from erp.models import Job

router = Router(tags=["Jobs"])


class JobOut(Schema):
    id: int
    kind: str = Field(description="csv_import, mrp, reconcile, product_import, simulate_day")
    label: str
    area: str
    state: str = Field(description="queued, running, done or failed")
    done: int
    total: int | None = Field(description="Null while the job does not know how much there is.")
    percent: int | None
    step: str = Field(description="What it is doing now.")
    result: dict[str, Any] = Field(description="What it did (counts, links, errors), once done or failed.")
    result_url: str = Field(description="The page that shows the outcome, once done.")
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _may_see(principal: Principal, job: Job) -> bool:
    if principal.can(job.area, "read"):
        return True
    own = job.user_id == principal.user.pk
    return own and (principal.api_key is None or scope_grants(principal.api_key.scopes, job.area, "read"))


@router.get("/{job_id}", response=JobOut, auth=ErpAuth())
def job_detail(request: HttpRequest, job_id: int) -> JobOut:
    """A background job: its state and progress while it runs, its result once it has ended.

    Yours, or any of an area you (and your key) may read; 404 otherwise."""
    principal = principal_of(request)
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not _may_see(principal, job):
        raise NotFound(f"No job #{job_id} that you may see.")
    jobs.live(job)
    return JobOut(
        id=job.pk,
        kind=job.kind,
        label=job.label,
        area=job.area,
        state=job.state,
        done=job.done,
        total=job.total,
        percent=jobs.percent(job),
        step=job.step,
        result=job.result or {},
        result_url=job.result_url,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
