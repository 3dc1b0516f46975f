"""docs/openapi.json is the API's schema as the code produces it; CI fails when they drift apart."""

from __future__ import annotations

import difflib
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from erp.api import api
from erp.openapi import render_schema

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = "make openapi  (or: .venv/bin/python manage.py openapi_schema)"


def test_committed_schema_is_the_code_schema():
    rendered = render_schema(api)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""

    if committed != rendered:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(), rendered.splitlines(), "docs/openapi.json", "code", lineterm="", n=2
            )
        )
        shown = "\n".join(diff[:60]) + (f"\n... ({len(diff) - 60} more diff lines)" if len(diff) > 60 else "")
        pytest.fail(
            f"docs/openapi.json differs from the code's schema. Regenerate it with: {REGENERATE}\n{shown}"
        )


def test_committed_schema_is_canonical_json():
    text = COMMITTED.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_served_schema_is_the_committed_one(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_every_operation_documents_its_problem_responses():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"422"} if operation.get("parameters") or "requestBody" in operation else set()
            if operation.get("security"):
                expected |= {"401", "403", "429"}
            for status in sorted(expected - set(responses)):
                missing.append(f"{method.upper()} {path}: {status}")
            for status, response in responses.items():
                if status.startswith("4"):
                    media = response["content"]
                    if media != {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }:
                        missing.append(f"{method.upper()} {path}: {status} is not problem+json")
    assert not missing, "\n".join(missing)


def _models_in(annotation: Any, seen: set[type[BaseModel]]) -> None:
    for argument in typing.get_args(annotation):
        _models_in(argument, seen)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        for model_field in annotation.model_fields.values():
            _models_in(model_field.annotation, seen)


def test_no_two_schemas_share_a_component_name():
    """django-ninja names a component by its class name alone: two classes with one name (sales'
    and manufacturing's OrderIn) silently become one, and the schema documents the wrong body."""
    components = set(api.get_openapi_schema()["components"]["schemas"])
    seen: set[type[BaseModel]] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.response_models.values(), *operation.models]:
                    _models_in(model, seen)
    classes: dict[str, set[str]] = {}
    for model in seen:
        if model.__name__ in components:
            classes.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(paths) for name, paths in sorted(classes.items()) if len(paths) > 1}

    assert not shared, "Rename these so each name is one class:\n" + "\n".join(
        f"  {name}: {', '.join(paths)}" for name, paths in shared.items()
    )
