"""The OpenAPI schema, completed with the error responses every operation can give.

django-ninja documents the success responses an operation declares. The errors
come from one place (erp.api's handlers, erp.problems) and look the same
everywhere, so they are documented in one place too: `ErpNinjaAPI` adds, to each
operation, the RFC 9457 problem responses it can actually answer with:

* 400 when it takes a body (a body that is not JSON),
* 401, 403 and 429 when it needs authentication (no/unknown key, missing scope,
  the key's rate limit; 429 carries Retry-After),
* 404 when it takes input: a resource named in its path, body or query may not exist,
* 409 for writes (a business rule refused it: erp.exceptions.DomainError),
* 412 for updates (PUT/PATCH with a stale If-Match),
* 422 when it takes any input (validation failed; `errors` names each field).

A response an operation declares itself is never replaced.

It also keeps the document valid OpenAPI 3.1 where django-ninja does not: a query, path,
header or cookie parameter declared with ``Field(examples=[...])`` (a JSON Schema list of
examples) comes out with that list on the Parameter Object too, where the specification
wants a map of named Example Objects (or one ``example``). `parameter_examples` rewrites
every such list, so client generators (openapi-python-client) and validators accept it; the
list stays in the parameter's ``schema``, where JSON Schema's ``examples`` is a list.
"""

from __future__ import annotations

import json
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from erp.problems import CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details: the one shape of every error of this API.",
    "type": "object",
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem: 'about:blank' or 'urn:erp:problem:<Name>'.",
        },
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request, for people."},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field; empty when the problem is not about fields.",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
    },
    "required": ["type", "title", "status", "detail", "errors"],
    "additionalProperties": True,
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "properties": {
        "field": {
            "type": "string",
            "description": "Dotted path of the field (`lines.0.quantity`); `__all__` for the whole input.",
        },
        "message": {"type": "string"},
    },
    "required": ["field", "message"],
}

RETRY_AFTER = {
    "description": "Seconds to wait before the next request.",
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE = {"description": "How to authenticate: `Bearer`.", "schema": {"type": "string"}}

DESCRIPTIONS = {
    400: "Bad request: the body is not valid JSON.",
    401: "Not authenticated: no `Authorization: Bearer <key>` header, or an unknown or revoked key.",
    403: "Forbidden: the key or its user lacks the scope this operation needs.",
    404: "Not found: the resource named in the path, or one the body or query names, does not exist.",
    409: "Conflict: a business rule refused the operation (e.g. an illegal state transition).",
    412: "Precondition failed: the `If-Match` ETag is stale; re-read the resource and try again.",
    422: "Invalid input: `errors` names each invalid field.",
    429: "Too many requests: the key's rate limit is exhausted; retry after `Retry-After` seconds.",
}

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
UPDATE_METHODS = frozenset({"put", "patch"})


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": RETRY_AFTER}
    elif status == 401:
        response["headers"] = {"WWW-Authenticate": WWW_AUTHENTICATE}
    return response


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The problem statuses an operation can answer with (see the module docstring)."""
    method = method.lower()
    has_body = "requestBody" in operation
    parameters = operation.get("parameters", [])
    has_path = any(p.get("in") == "path" for p in parameters)
    statuses: set[int] = set()
    if has_body:
        statuses.add(400)
    if operation.get("security"):
        statuses.update({401, 403, 429})
    if has_path or has_body or parameters:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(409)
    if method in UPDATE_METHODS:
        statuses.add(412)
    if parameters or has_body:
        statuses.add(422)
    return sorted(statuses)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem schemas and every operation's error responses to a schema, in place."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    schemas.setdefault("FieldError", FIELD_ERROR_SCHEMA)
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            declared = {str(code) for code in responses}
            for status in error_statuses(method, operation):
                if str(status) not in declared:
                    responses[status] = problem_response(status)
    return schema


def parameter_examples(schema: dict[str, Any]) -> dict[str, Any]:
    """Make every parameter's ``examples`` the map OpenAPI wants, in place (see the module docstring).

    One example becomes ``example``; several become ``examples`` named ``example1``, ``example2``...
    """
    for path_item in schema.get("paths", {}).values():
        operations = [op for op in path_item.values() if isinstance(op, dict)]
        for holder in [path_item, *operations]:
            parameters = holder.get("parameters")
            if not isinstance(parameters, list):
                continue
            for parameter in parameters:
                examples = parameter.get("examples") if isinstance(parameter, dict) else None
                if not isinstance(examples, list):
                    continue
                del parameter["examples"]
                if "example" in parameter or not examples:
                    continue  # the two are exclusive: a single example given outright wins
                if len(examples) == 1:
                    parameter["example"] = examples[0]
                else:
                    parameter["examples"] = {
                        f"example{number}": {"value": value} for number, value in enumerate(examples, 1)
                    }
    return schema


class ErpNinjaAPI(NinjaAPI):
    """The NinjaAPI of this project: its schema documents the problem responses and is valid OpenAPI.

    Operation ids do not depend on how an app's API is split into modules: a handler anywhere
    in ``<app>.api`` or the package ``<app>.api.*`` is ``<app>_api_<function name>`` (what it
    was when each app had one api.py), so a generated client keeps its method names when a
    module is split. Handlers elsewhere keep ninja's default (their module path and name).
    """

    def get_openapi_operation_id(self, operation: Operation) -> str:
        module = operation.view_func.__module__
        app, _, rest = module.partition(".")
        if rest == "api" or rest.startswith("api."):
            return f"{app}_api_{operation.view_func.__name__}"
        return super().get_openapi_operation_id(operation)

    def get_openapi_schema(
        self,
        *,
        path_prefix: str | None = None,
        path_params: dict[str, Any] | None = None,
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        parameter_examples(schema)
        document_problems(schema)
        return schema


def render_schema(api: NinjaAPI) -> str:
    """The schema as committed in docs/openapi.json: sorted keys, indent 2, a trailing newline."""
    plain = json.loads(json.dumps(api.get_openapi_schema()))  # str keys only (status codes are ints)
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
