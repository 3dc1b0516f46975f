"""Inventory's background jobs (erp.jobs): a CSV or Excel import, applied row by row in one
transaction (all or nothing, as before), its progress told per row; and the bulk endpoints'
batches too large for a request (more than ``bulk.MAX_BATCH`` items, up to ``bulk.JOB_MAX``).

The preview page (inventory/views/import_export.py) keeps the upload until it is confirmed; the
confirmation starts a ``csv_import`` job with the file in its params. The file is parsed and
validated again when the job runs, against the data as it is then, and dropped from the job's
params once read (the counts and errors stay in its result)."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.urls import reverse

from erp.exceptions import ValidationFailed
from erp.jobs import JobFailed, Progress, job_start, register_kind
from erp.models import Job
from inventory import csv_io
from inventory.services import bulk, counted

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


# --- the bulk endpoints' large batches ------------------------------------------------------------
#
# The endpoint answers 202 with the job (``bulk_job_start``); the client follows it at
# /api/v1/jobs/{id}. The job holds the items until it has run, then only what it did: its result
# is the answer the endpoint gives in a request (``answer``), or, when items were refused, the same
# errors per item (``field_errors``) and nothing is written. All or nothing, as in a request.

UPSERT_KIND = "products_upsert"
COUNTED_KIND = "counted_levels"


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | datetime.date) else value


def upsert_params(items: Sequence[bulk.ProductUpsert]) -> dict[str, Any]:
    """The params of a ``products_upsert`` job (JSON): the items as the endpoint parsed them."""
    return {
        "items": [
            {
                "sku": item.sku,
                "values": {name: _json(value) for name, value in item.values.items()},
                "barcodes": item.barcodes,
                "is_active": item.is_active,
            }
            for item in items
        ]
    }


def counted_params(
    items: Sequence[counted.CountedLevel], *, reference: str = "", reason: str = ""
) -> dict[str, Any]:
    """The params of a ``counted_levels`` job (JSON)."""
    return {
        "reference": reference,
        "reason": reason,
        "items": [
            {
                "sku": item.sku,
                "counted": _json(item.counted),
                "location": item.location,
                "location_path": item.location_path,
                "lot": item.lot,
                "expiry_date": _json(item.expiry_date),
            }
            for item in items
        ],
    }


def bulk_job_start(kind: str, *, user: Any, params: dict[str, Any]) -> Job:
    """Start a bulk batch in the background (``kind``: UPSERT_KIND or COUNTED_KIND, ``params`` from
    ``upsert_params``/``counted_params``). Refused (ValidationFailed) over ``bulk.JOB_MAX`` items,
    before anything is queued."""
    count = len(params.get("items", []))
    if count > bulk.JOB_MAX:
        message = (
            f"At most {bulk.JOB_MAX} items per request ({count} sent); send the rest in another request."
        )
        raise ValidationFailed(message, field_errors={"items": [message]})
    what = "products" if kind == UPSERT_KIND else "counted levels"
    return job_start(kind, user=user, label=f"Bulk: {count} {what}", params=params)


def _refused(exc: ValidationFailed) -> JobFailed:
    return JobFailed(exc.message, result={"field_errors": exc.field_errors})


def run_products_upsert(job: Job, progress: Progress) -> dict[str, Any]:
    raw = list(job.params.get("items", []))
    progress.total(len(raw))
    progress.step(f"Checking and writing {len(raw)} products")
    items = [
        bulk.ProductUpsert(
            sku=str(r.get("sku", "")),
            values=dict(r.get("values") or {}),
            barcodes=r.get("barcodes"),
            is_active=r.get("is_active"),
        )
        for r in raw
    ]
    try:
        done = bulk.products_upsert(items=items, user=job.user, limit=bulk.JOB_MAX)
    except ValidationFailed as exc:
        raise _refused(exc) from exc
    finally:
        Job.objects.filter(pk=job.pk).update(params={"items": len(raw)})  # what it did stays, not the items
    progress.advance(len(raw))
    counts = {
        action: sum(1 for u in done if u.action == action)
        for action in (bulk.CREATED, bulk.UPDATED, bulk.UNCHANGED)
    }
    return {
        "summary": f"{len(done)} products: {counts[bulk.CREATED]} created, {counts[bulk.UPDATED]} updated, "
        f"{counts[bulk.UNCHANGED]} unchanged.",
        "counts": {
            "Created": counts[bulk.CREATED],
            "Updated": counts[bulk.UPDATED],
            "Unchanged": counts[bulk.UNCHANGED],
        },
        "answer": {
            "created": [u.sku for u in done if u.action == bulk.CREATED],
            "updated": [u.sku for u in done if u.action == bulk.UPDATED],
            "unchanged": [u.sku for u in done if u.action == bulk.UNCHANGED],
            "items": [{"index": u.index, "sku": u.sku, "id": u.product.pk, "action": u.action} for u in done],
        },
    }


def run_counted_levels(job: Job, progress: Progress) -> dict[str, Any]:
    params = dict(job.params)
    raw = list(params.get("items", []))
    progress.total(len(raw))
    progress.step(f"Checking and setting {len(raw)} counted levels")
    items = [
        counted.CountedLevel(
            sku=str(r.get("sku", "")),
            counted=r.get("counted"),
            location=r.get("location"),
            location_path=str(r.get("location_path") or ""),
            lot=str(r.get("lot") or ""),
            expiry_date=datetime.date.fromisoformat(r["expiry_date"]) if r.get("expiry_date") else None,
        )
        for r in raw
    ]
    try:
        result = counted.stock_levels_set_counted(
            items=items,
            reference=str(params.get("reference", "")),
            reason=str(params.get("reason", "")) or "stock count",
            user=job.user,
            limit=bulk.JOB_MAX,
        )
    except ValidationFailed as exc:
        raise _refused(exc) from exc
    finally:
        Job.objects.filter(pk=job.pk).update(
            params={"items": len(raw), "reference": params.get("reference", "")}
        )
    progress.advance(len(raw))
    moved = sum(1 for c in result.items if c.move is not None)
    return {
        "summary": f"{len(result.items)} levels counted, {moved} changed (batch {result.batch}).",
        "counts": {"Changed": moved, "Unchanged": len(result.items) - moved},
        "answer": {
            "batch": result.batch,
            "reference": result.reference,
            "items": [
                {
                    "index": c.index,
                    "sku": c.product.sku,
                    "location": c.location.pk,
                    "location_path": c.location.path,
                    "lot": c.lot.code if c.lot else None,
                    "previous": str(c.previous),
                    "counted": str(c.counted),
                    "difference": str(c.counted - c.previous),
                    "move": c.move.pk if c.move else None,
                }
                for c in result.items
            ],
        },
    }


register_kind(KIND, run_csv_import, area="inventory", label="CSV import")
register_kind(UPSERT_KIND, run_products_upsert, area="inventory", label="Bulk product upsert")
register_kind(COUNTED_KIND, run_counted_levels, area="inventory", label="Bulk counted levels")
