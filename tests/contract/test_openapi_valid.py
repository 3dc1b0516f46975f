"""docs/openapi.json is valid OpenAPI 3.1, so that validators and client generators accept it.

django-ninja copies a query parameter's ``Field(examples=[...])`` (a JSON Schema list) onto the
Parameter Object, where OpenAPI wants a map of named examples; erp.openapi.parameter_examples
rewrites them, for every parameter, current and future.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from erp.openapi import parameter_examples

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _errors(schema: dict[str, Any]) -> list[str]:
    errors = sorted(
        OpenAPIV31SpecValidator(schema).iter_errors(), key=lambda e: [str(p) for p in e.absolute_path]
    )
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message.splitlines()[0]}" for e in errors]


def test_the_committed_schema_is_valid_openapi_3_1():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    errors = _errors(schema)

    assert schema["openapi"].startswith("3.1.")
    assert not errors, f"docs/openapi.json is not valid OpenAPI 3.1 ({len(errors)} errors):\n" + "\n".join(
        errors[:20]
    )


def _parameter(**extra: Any) -> dict[str, Any]:
    return {"in": "query", "name": "q", "required": False, "schema": {"type": "string"}, **extra}


def test_parameter_examples_become_what_openapi_wants():
    schema: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "parameters": [_parameter(name="shared", examples=["a", "b"])],
                "get": {
                    "parameters": [
                        _parameter(name="one", examples=["x"]),
                        _parameter(name="two", examples=["x", "y"]),
                        _parameter(name="none", examples=[]),
                        _parameter(name="given", example="g", examples=["x"]),
                        _parameter(name="named", examples={"first": {"value": "x"}}),
                    ],
                    "responses": {"200": {"description": "ok"}},
                },
            }
        },
    }
    assert _errors(schema)  # lists: invalid

    parameter_examples(schema)

    item = schema["paths"]["/things"]
    assert item["parameters"][0]["examples"] == {"example1": {"value": "a"}, "example2": {"value": "b"}}
    one, two, none, given, named = item["get"]["parameters"]
    assert one["example"] == "x"
    assert "examples" not in one
    assert two["examples"] == {"example1": {"value": "x"}, "example2": {"value": "y"}}
    assert "example" not in none
    assert "examples" not in none
    assert given["example"] == "g"
    assert "examples" not in given
    assert named["examples"] == {"first": {"value": "x"}}
    assert _errors(schema) == []
