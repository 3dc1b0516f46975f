"""Background jobs' pages: the list (/jobs/) and one job's progress and result (/jobs/<id>/).

A person sees their own jobs, and those of the areas they may read. The job's page polls its
progress partial every second while the job is queued or running; the partial of a job that
has ended has no trigger, so the polling stops by itself (htmx replaces the element that polls).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from erp import jobs
from erp.exceptions import NotFound
from erp.models import Job
from erp.ui import is_htmx, paginate

PAGE_SIZE = 25


def _row(job: Job) -> dict[str, Any]:
    return {
        "job": job,
        "percent": jobs.percent(job),
        "elapsed": jobs.elapsed_text(job),
        "active": job.state in jobs.ACTIVE,
        "kind_label": kind.label if (kind := jobs.kinds().get(job.kind)) else job.kind,
    }


@require_GET
@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """My jobs, and the others of the areas I may read; newest first."""
    page = paginate(request, jobs.job_list(user=request.user), PAGE_SIZE)
    rows = [_row(jobs.live(job)) for job in page.object_list]
    # While one of them runs, the rows refresh themselves every 2 s (and stop once none does).
    context = {"page": page, "rows": rows, "any_active": any(row["active"] for row in rows)}
    template = "erp/jobs/list.html#rows" if is_htmx(request) else "erp/jobs/list.html"
    return render(request, template, context)


@require_GET
@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's progress, live while it runs, then its result. htmx asks for the progress only."""
    try:
        job = jobs.job_get(user=request.user, job_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    context = _row(job)
    template = "erp/jobs/detail.html#progress" if is_htmx(request) else "erp/jobs/detail.html"
    return render(request, template, context)
