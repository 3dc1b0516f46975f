"""The API root: one NinjaAPI at /api/v1/ and its one error shape.

Every app mounts its Router here; authentication and scopes live in erp.apiauth.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from erp.exceptions import DomainError
from erp.problems import field_errors, problem_response

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="ERP API",
    version="1.0.0",
    urls_namespace="api",
    description=(
        "The one backend every tool connects to. Authenticate with "
        "`Authorization: Bearer <key>` (create keys with `manage.py create_api_key`). "
        "Every error is RFC 9457 problem details."
    ),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


# --- the one error shape -----------------------------------------------------

_HANDLERS: list[tuple[type[Exception], Any]] = []


def _handles(exc_class: type[Exception]) -> Any:
    def decorator(func: Any) -> Any:
        _HANDLERS.append((exc_class, func))
        return func

    return decorator


def install_error_handlers(target: NinjaAPI) -> None:
    """Give an API the one error shape (the root API here; test APIs too)."""
    for exc_class, handler in _HANDLERS:
        target.add_exception_handler(exc_class, handler)


def _loc_to_field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form")]
    return ".".join(parts) or "__all__"


@_handles(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _loc_to_field(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
    return problem_response(422, "The request is invalid; see errors.", title="Invalid input", errors=errors)


@_handles(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        401,
        "Authenticate with 'Authorization: Bearer <api key>' or a browser session.",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@_handles(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(exc.status_code, exc.message)


@_handles(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        exc.status_code,
        exc.message,
        title=exc.title,
        type_=f"urn:erp:problem:{type(exc).__name__}",
        errors=field_errors(exc.field_errors),
        **{k: v for k, v in exc.extra.items() if k not in ("type", "title", "status", "detail", "errors")},
    )


@_handles(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(403, str(exc) or "You may not do this.")


@_handles(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(404, str(exc) or "Not found.")


@_handles(ObjectDoesNotExist)
def _object_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return problem_response(404, str(exc) or "Not found.")


@_handles(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error in %s %s", request.method, request.path)
    return problem_response(500, "An unexpected error occurred; it has been logged.")


install_error_handlers(api)


# --- routers of the apps ---------------------------------------------------------

from erp.kernel_api import router as kernel_router  # noqa: E402
from inventory.api import router as inventory_router  # noqa: E402
from manufacturing.api import router as manufacturing_router  # noqa: E402
from procurement.api import router as procurement_router  # noqa: E402
from sales.api import router as sales_router  # noqa: E402

api.add_router("/", kernel_router)
api.add_router("/inventory/", inventory_router)
api.add_router("/sales/", sales_router)
api.add_router("/procurement/", procurement_router)
api.add_router("/manufacturing/", manufacturing_router)
