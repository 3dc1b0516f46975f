"""The API root: one NinjaAPI at /api/v1/, its one error shape, and what every operation shares.

Every app mounts its Router here; authentication and scopes live in erp.apiauth. Every
operation is wrapped once (``_platform``): an ``Idempotency-Key`` on a POST makes it act
once (erp.idempotency), and answers to API-key requests carry the key's RateLimit-*
headers (erp.ratelimit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from erp import idempotency, ratelimit
from erp.exceptions import DomainError, ValidationFailed
from erp.openapi import ErpNinjaAPI, document_problems
from erp.problems import (
    CONFLICT_DETAIL,
    RETRY_AFTER_SECONDS,
    field_errors,
    is_conflict,
    problem_response,
    too_large_response,
)

logger = logging.getLogger(__name__)


class PlatformAPI(ErpNinjaAPI):
    """Its schema also documents the Idempotency-Key header of every authenticated POST."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        idempotency.document(schema)
        document_problems(schema)  # again: the Idempotency-Key header is input too (422)
        return schema


api = PlatformAPI(
    title="ERP API",
    version="1.0.0",
    urls_namespace="api",
    description=(
        "The one backend every tool connects to. Authenticate with "
        "`Authorization: Bearer <key>` (create keys on the API keys page, `/keys/`, or with "
        "`manage.py create_api_key`). Every error is RFC 9457 problem details. Each key has a rate "
        "limit per minute (429 with Retry-After over it; `RateLimit-Limit`, `RateLimit-Remaining` and "
        "`RateLimit-Reset` on every answer). Every POST accepts an `Idempotency-Key` header that "
        "makes it safe to retry."
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


@_handles(idempotency.IdempotencyAnswer)
def _idempotency_answer(request: HttpRequest, exc: idempotency.IdempotencyAnswer) -> HttpResponse:
    return exc.response


@_handles(ratelimit.RateLimitExceeded)
def _rate_limited(request: HttpRequest, exc: ratelimit.RateLimitExceeded) -> HttpResponse:
    state = exc.state
    return problem_response(
        429,
        f"This API key may make {state.limit} requests per minute; retry in {state.reset} s.",
        title="Too Many Requests",
        headers={"Retry-After": str(state.reset), **state.headers()},
    )


@_handles(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return too_large_response()


@_handles(OverflowError)
@_handles(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A value the database cannot hold (an id of 10**30): the input's fault, not a server error.
    logger.warning("Out-of-range input in %s %s: %s", request.method, request.path, exc)
    return problem_response(422, "A value in the request is out of range.", title="Invalid input")


@_handles(IntegrityError)
def _integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    if "datatype mismatch" in str(exc):
        # SQLite's answer to an integer it cannot hold (page=10**25 as an OFFSET): PostgreSQL says
        # DataError, handled above. The input's fault, not a server error.
        return _out_of_range(request, exc)
    return _server_error(request, exc)


@_handles(OperationalError)
def _conflict(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    if not is_conflict(exc):
        return _server_error(request, exc)
    # A 503, not a 500: the client is told to come back, and (a 5xx) its Idempotency-Key is freed.
    logger.warning("Database conflict in %s %s, answered 503: %s", request.method, request.path, exc)
    return problem_response(
        503,
        f"{CONFLICT_DETAIL}: send it again (with the same Idempotency-Key, if it had one).",
        title="Conflict, retry",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@_handles(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error in %s %s", request.method, request.path)
    return problem_response(500, "An unexpected error occurred; it has been logged.")


install_error_handlers(api)


# --- what every operation shares ---------------------------------------------------

_SHAPE_ATTR = "_erp_request_shape"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class RequestShape:
    """What one operation accepts: its query parameters and whether its body is JSON."""

    query: frozenset[str]
    json_body: bool

    @classmethod
    def of(cls, operation: Any) -> RequestShape:
        query: set[str] = set()
        json_body = False
        for model in getattr(operation, "models", ()):
            source = getattr(model, "__ninja_param_source__", None)
            if source == "query":
                flattened = getattr(model, "__ninja_flatten_map__", None)
                query.update(flattened or (f.alias or name for name, f in model.model_fields.items()))
            elif source == "body":
                json_body = True
        return cls(frozenset(query), json_body)

    def check(self, request: HttpRequest) -> None:
        """422 for a query parameter the operation does not take (it would be silently ignored);
        415 for a body that is not JSON where the operation reads JSON."""
        unknown = sorted(set(request.GET) - self.query)
        if unknown:
            takes = ", ".join(sorted(self.query)) or "none"
            message = f"Unknown query parameter(s): {', '.join(unknown)}. This operation takes: {takes}."
            raise ValidationFailed(
                message, field_errors={name: ["Unknown query parameter."] for name in unknown}
            )
        if self.json_body and request.method in BODY_METHODS:
            content_type = request.content_type or ""
            has_body = int(request.META.get("CONTENT_LENGTH") or 0) > 0
            if (content_type or has_body) and not _is_json(content_type):
                raise HttpError(
                    415,
                    "Send the body as JSON (Content-Type: application/json), not "
                    f"{content_type or 'without a Content-Type'}.",
                )


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _platform(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Around the whole operation (authentication included): Idempotency-Key and rate-limit headers."""
    run_once = idempotency.idempotent(run)
    shape = RequestShape.of(getattr(run, "__self__", None))

    @wraps(run)
    def operation(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        setattr(request, _SHAPE_ATTR, shape)
        response = run_once(request, *args, **kwargs)
        ratelimit.add_headers(request, response)
        return response

    return operation


def _shaped(view: Callable[..., Any]) -> Callable[..., Any]:
    """Around the handler (after authentication and parsing): the request's shape is checked."""

    @wraps(view)
    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        shape: RequestShape | None = getattr(request, _SHAPE_ATTR, None)
        if shape is not None:
            shape.check(request)
        return view(request, *args, **kwargs)

    return handler


api.add_decorator(_platform, mode="view")  # wraps Operation.run
api.add_decorator(_shaped, mode="operation")  # wraps the handler


# --- routers of the apps ---------------------------------------------------------

from erp.api_comments import router as comments_router  # noqa: E402
from erp.api_jobs import router as jobs_router  # noqa: E402
from erp.kernel_api import router as kernel_router  # noqa: E402
from integrations.api import router as integrations_router  # noqa: E402
from integrations.api import webhooks_router  # noqa: E402
from inventory.api import router as inventory_router  # noqa: E402
from manufacturing.api import router as manufacturing_router  # noqa: E402
from procurement.api import router as procurement_router  # noqa: E402
from sales.api import router as sales_router  # noqa: E402

api.add_router("/", kernel_router)
api.add_router("/jobs/", jobs_router)
api.add_router("/", comments_router)
api.add_router("/inventory/", inventory_router)
api.add_router("/sales/", sales_router)
api.add_router("/procurement/", procurement_router)
api.add_router("/manufacturing/", manufacturing_router)
api.add_router("/integrations/", integrations_router)
api.add_router("/webhooks/", webhooks_router)
