"""Middleware of the kernel."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from erp.problems import (
    CONFLICT_DETAIL,
    RETRY_AFTER_SECONDS,
    is_conflict,
    is_problem,
    problem_response,
    too_large_response,
)

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class ApiProblemMiddleware:
    """Under /api/, any error answer that is not already JSON becomes problem details.

    Covers what happens outside an API operation: an unknown path (404), a wrong
    method (405), a crash (500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code >= 400 and not is_problem(response):
            headers = {}
            if response.status_code == 405 and response.has_header("Allow"):
                headers["Allow"] = response["Allow"]
            detail = ""
            if response.status_code == 404:
                detail = f"No API resource at {request.path}."
            elif response.status_code == 405:
                detail = f"{request.method} is not allowed on {request.path}."
            return problem_response(response.status_code, detail, headers=headers)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(API_PREFIX):
            if isinstance(exception, RequestDataTooBig):
                return too_large_response()
            logger.exception("Unhandled error in %s %s", request.method, request.path)
            return problem_response(500, "An unexpected error occurred; it has been logged.")
        if isinstance(exception, OperationalError) and is_conflict(exception):
            return _busy_page(request, exception)
        return None


def _busy_page(request: HttpRequest, exception: OperationalError) -> HttpResponse:
    """A page whose transaction PostgreSQL rolled back for a conflicting one (a deadlock, a
    serialization failure): nothing was saved and doing it again goes through, so the person is
    told that, not shown the server error page. An htmx request gets the message as its toast."""
    logger.warning("Database conflict in %s %s, answered 503: %s", request.method, request.path, exception)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.headers.get("HX-Request") == "true":
        detail = f"{CONFLICT_DETAIL}. Please do it again."
        return JsonResponse({"detail": detail}, status=503, headers=headers)
    response = render(request, "503.html", {"again": request.method == "GET"}, status=503)
    response["Retry-After"] = headers["Retry-After"]
    return response
