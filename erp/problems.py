"""One error shape for every API error: RFC 9457 problem details.

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "No sales order 42.", "errors": [{"field": "lines.0.quantity", "message": "..."}]}

Produced here and only here: by the API's exception handlers and, for errors
raised outside an API operation (unknown path, wrong method, crash), by
ApiProblemMiddleware.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

CONTENT_TYPE = "application/problem+json"

# SQLSTATEs of a transaction PostgreSQL rolled back because another one conflicted with it: nothing
# of the request was written, and the same request again goes through (a retry is the cure).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
RETRY_AFTER_SECONDS = 1
CONFLICT_DETAIL = "The database was busy with a conflicting change and nothing of this request was saved"


def is_conflict(exc: BaseException) -> bool:
    """A database error that a retry of the whole request cures: a deadlock or a serialization
    failure (PostgreSQL), or SQLite's "database is locked" after its busy timeout."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def problem(
    status: int,
    detail: str = "",
    *,
    title: str | None = None,
    type_: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "errors": errors or [],
    }
    body.update(extra)
    return body


def problem_response(status: int, detail: str = "", **kwargs: Any) -> HttpResponse:
    headers = kwargs.pop("headers", None) or {}
    body = problem(status, detail, **kwargs)
    response = HttpResponse(
        json.dumps(body, default=str), status=status, content_type=CONTENT_TYPE, headers=headers
    )
    return response


def too_large_response() -> HttpResponse:
    """413 for a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (the API and webhooks alike)."""
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit / (1024 * 1024):.1f} MiB" if limit else "the configured limit"
    return problem_response(413, f"The request body is larger than {size}; nothing was read or stored.")


def field_errors(mapping: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"field": field, "message": msg} for field, msgs in mapping.items() for msg in msgs]


def is_problem(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith(CONTENT_TYPE) or content_type.startswith("application/json")
