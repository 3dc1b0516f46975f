"""Pages of import (CSV or XLSX) and CSV export: upload, preview, confirm; streamed exports.

Upload -> preview (nothing written) -> "Import N rows" -> a background job
(``csv_import``, inventory/jobs.py) applies the rows in one transaction, its
progress on the job's page (erp.jobs), where the confirmation redirects.
The uploaded file waits in the session between preview and confirm (a CSV file
as its text, a workbook base64-encoded; one pending import per session, named
by a token the confirm form posts back, so an old preview in another tab cannot
import a newer file). The job parses and validates the file again, against the
data as it is then.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from erp import jobs
from erp.access import user_can
from erp.exceptions import ValidationFailed
from erp.http import HtmxHttpRequest
from erp.permissions import area_required
from inventory import csv_io
from inventory.filters import LevelFilter, ProductFilter
from inventory.jobs import KIND as IMPORT_JOB
from inventory.jobs import file_params
from inventory.models import Product
from inventory.selectors import level_list

SESSION_KEY = "inventory_io_pending"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PREVIEW_ROWS = 100


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, label) for k, (label, _, _) in csv_io.KINDS.items()])
    file = forms.FileField(label="CSV or Excel (.xlsx) file")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
        return upload


def _toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    response["HX-Trigger"] = json.dumps({"toast": {"message": message, "level": level}})
    return response


def _preview_context(
    plan: csv_io.ImportPlan, filename: str, token: str = "", failed: csv_io.ImportFailed | None = None
) -> dict[str, Any]:
    shown = plan.preview_rows(PREVIEW_ROWS)
    if failed is not None and all(row.number != failed.row for row in shown):
        shown += [row for row in plan.rows if row.number == failed.row]
    rows = [
        {
            "number": row.number,
            "action": row.action,
            "summary": row.summary,
            "messages": row.messages,
            "warnings": row.warnings,
            "cells": [
                {"value": row.cells.get(column, ""), "errors": row.errors.get(column, [])}
                for column in plan.columns
            ],
        }
        for row in shown
    ]
    return {
        "plan": plan,
        "kind_label": csv_io.KINDS[plan.kind][0],
        "filename": filename,
        "token": token,
        "rows": rows,
        "hidden_rows": len(plan.rows) - len(rows),
        "counts": plan.counts,
        "failed": failed,
    }


def _render_preview(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    *,
    status: int = 200,
    toast: tuple[str, str] | None = None,
) -> HttpResponse:
    template = "inventory/io/preview.html#preview" if request.htmx else "inventory/io/preview.html"
    response = render(request, template, context, status=200 if request.htmx else status)
    return _toast(response, *toast) if toast and request.htmx else response


@require_GET
@area_required("inventory", "read")
def io_index(request: HttpRequest) -> HttpResponse:
    context = {
        "can_write": user_can(request.user, "inventory", "write"),
        "form": UploadForm(),
        "product_columns": csv_io.PRODUCT_COLUMNS,
        "stock_columns": csv_io.STOCK_COLUMNS,
        "level_columns": csv_io.LEVEL_COLUMNS,
    }
    return render(request, "inventory/io/index.html", context)


@require_POST
@area_required("inventory", "write")
def io_preview(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in form.errors.items())
        context = {"upload_error": errors}
        if request.htmx:
            return _toast(render(request, "inventory/io/preview.html#upload_error", context), errors, "error")
        return render(request, "inventory/io/preview.html", context, status=422)
    kind, upload = form.cleaned_data["kind"], form.cleaned_data["file"]
    try:
        content = csv_io.read_upload(upload)
    except ValidationFailed as exc:
        context = {"upload_error": exc.message}
        if request.htmx:
            return _toast(
                render(request, "inventory/io/preview.html#upload_error", context), exc.message, "error"
            )
        return render(request, "inventory/io/preview.html", context, status=422)
    plan = csv_io.parse(kind, content)
    token = ""
    if plan.is_valid:
        token = secrets.token_urlsafe(16)
        pending = {"token": token, "kind": kind, "filename": upload.name, **_kept(content)}
        request.session[SESSION_KEY] = pending
    return _render_preview(request, _preview_context(plan, upload.name, token))


def _kept(content: str | bytes) -> dict[str, str]:
    """The upload as the session (JSON) keeps it till the confirmation: text, or a workbook in base64."""
    if isinstance(content, str):
        return {"text": content}
    return {"xlsx": base64.b64encode(content).decode("ascii")}


def _content(pending: dict[str, Any]) -> str | bytes:
    return base64.b64decode(pending["xlsx"]) if "xlsx" in pending else pending["text"]


@require_POST
@area_required("inventory", "write")
def io_apply(request: HtmxHttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        message = "This preview is out of date: upload the file again."
        if request.htmx:
            context = {"upload_error": message}
            return _toast(
                render(request, "inventory/io/preview.html#upload_error", context), message, "error"
            )
        messages.error(request, message)
        return redirect("inventory:io")
    kind_label = csv_io.KINDS.get(pending["kind"], ("Import",))[0]
    job = jobs.job_start(
        IMPORT_JOB,
        user=request.user,
        label=f"Import {kind_label.lower()}: {pending['filename']}",
        params=file_params(kind=pending["kind"], filename=pending["filename"], content=_content(pending)),
    )
    del request.session[SESSION_KEY]
    url = reverse("job", args=[job.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _csv_response(lines: Any, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@require_GET
@area_required("inventory", "read")
def io_export_products(request: HttpRequest) -> StreamingHttpResponse:
    """All products, or those matching ProductFilter's parameters (q, category, kind, ...)."""
    params = request.GET.copy()
    params.pop("ordering", None)  # the export keeps its own order
    filterset = ProductFilter(params, queryset=Product.objects.all())
    products = filterset.qs if filterset.is_valid() else Product.objects.none()
    return _csv_response(csv_io.export_products(products), "products")


@require_GET
@area_required("inventory", "read")
def io_export_levels(request: HttpRequest) -> StreamingHttpResponse:
    """Levels, optionally narrowed by LevelFilter's parameters (warehouse, q, ...)."""
    filterset = LevelFilter(request.GET, queryset=level_list())
    levels = filterset.qs if filterset.is_valid() else level_list().none()
    return _csv_response(csv_io.export_levels(levels), "stock-levels")
