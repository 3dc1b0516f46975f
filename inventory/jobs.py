"""Inventory's background jobs (erp.jobs): a CSV or Excel import, applied row by row in one
transaction (all or nothing, as before), its progress told per row.

The preview page (inventory/views/import_export.py) keeps the upload until it is confirmed; the
confirmation starts a ``csv_import`` job with the file in its params. The file is parsed and
validated again when the job runs, against the data as it is then, and dropped from the job's
params once read (the counts and errors stay in its result)."""

from __future__ import annotations

import base64
from typing import Any

from django.urls import reverse

from erp.jobs import JobFailed, Progress, register_kind
from erp.models import Job
from inventory import csv_io

KIND = "csv_import"
SHOWN_ERRORS = 50  # rows with errors listed in a failed job's result


def file_params(*, kind: str, filename: str, content: str | bytes) -> dict[str, Any]:
    """The params of a ``csv_import`` job: what to import, and the file (text, or a workbook in base64)."""
    kept = {"text": content} if isinstance(content, str) else {"xlsx": base64.b64encode(content).decode()}
    return {"kind": kind, "filename": filename, **kept}


def _content(params: dict[str, Any]) -> str | bytes:
    if "xlsx" in params:
        return base64.b64decode(params["xlsx"])
    return str(params.get("text", ""))


def _row_errors(plan: csv_io.ImportPlan) -> list[dict[str, str]]:
    errors = [{"where": "File", "message": m} for m in plan.file_errors]
    for row in plan.error_rows[:SHOWN_ERRORS]:
        errors += [{"where": f"Row {row.number}", "message": m} for m in row.messages]
    return errors


def run_csv_import(job: Job, progress: Progress) -> dict[str, Any]:
    params = dict(job.params)
    kind = str(params.get("kind", ""))
    filename = str(params.get("filename", "")) or "the file"
    progress.step(f"Reading {filename}")
    plan = csv_io.parse(kind, _content(params))
    # The file has been read: the job keeps what it did, not the upload.
    Job.objects.filter(pk=job.pk).update(params={"kind": kind, "filename": filename})
    what = "products" if kind == "products" else "stock levels"
    links = [{"label": "Products" if kind == "products" else "Stock levels", "url": _list_url(kind)}]
    if not plan.is_valid:
        raise JobFailed(
            "The data changed since the preview; nothing was imported.",
            result={"errors": _row_errors(plan), "counts": plan.counts, "links": links},
        )
    progress.step(f"Importing {len(plan.rows)} rows of {what}")
    try:
        result = csv_io.apply(plan, user=job.user, progress=progress)
    except csv_io.ImportFailed as exc:
        raise JobFailed(
            exc.message,
            result={"errors": [{"where": f"Row {exc.row}", "message": exc.reason}], "links": links},
        ) from exc
    created, updated = ("Received", "Adjusted") if kind == "stock" else ("Created", "Updated")
    return {
        "summary": f"{result.message} From {filename}.",
        "counts": {created: result.created, updated: result.updated, "Unchanged": result.unchanged},
        "links": links,
        "result_url": _list_url(kind),
    }


def _list_url(kind: str) -> str:
    return reverse("inventory:products" if kind == "products" else "inventory:levels")


register_kind(KIND, run_csv_import, area="inventory", label="CSV import")
