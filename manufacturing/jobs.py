"""Manufacturing's background jobs (erp.jobs): an MRP run, item by item and level by level, in one
transaction as before (``mrp_run``); its result is the MRP page with the run's suggestions."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from erp.exceptions import ValidationFailed
from erp.jobs import Progress, register_kind
from erp.models import Job
from manufacturing.models import SuggestionKind
from manufacturing.mrp import mrp_run

KIND = "mrp"


def check_horizon(horizon: datetime.date) -> None:
    """What ``mrp_run`` refuses, said before a job is started for it."""
    if horizon < timezone.localdate():
        raise ValidationFailed("The horizon is in the past.", field_errors={"horizon": ["Too early."]})


def run_mrp(job: Job, progress: Progress) -> dict[str, Any]:
    raw = job.params.get("horizon")
    horizon = datetime.date.fromisoformat(str(raw)) if raw else None
    run = mrp_run(horizon=horizon, user=job.user, progress=progress)
    by_kind = dict(run.suggestions.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    make, buy = by_kind.get(SuggestionKind.MAKE, 0), by_kind.get(SuggestionKind.BUY, 0)
    total = make + buy
    url = reverse("manufacturing:mrp")
    return {
        "summary": f"MRP planned to {run.horizon:%Y-%m-%d}: {total} suggestion{'s' if total != 1 else ''}.",
        "counts": {"Suggestions": total, "Make": make, "Buy": buy},
        "links": [{"label": "MRP suggestions", "url": url}],
        "run": run.pk,
        "result_url": url,
    }


register_kind(KIND, run_mrp, area="manufacturing", label="MRP run")
