"""Every API error has the one shape: RFC 9457 problem details."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import include, path
from ninja import NinjaAPI, Router

from erp.api import install_error_handlers
from erp.exceptions import InvalidTransition, ValidationFailed
from tests.erp.factories import UserFactory, api_key_for, bearer

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


# A router mounted only for these tests, to raise what real handlers raise.
probe = Router()


@probe.get("/domain")
def _domain(request):
    raise InvalidTransition(document="sales order", current="shipped", target="draft")


@probe.get("/invalid")
def _invalid(request):
    raise ValidationFailed("Bad lines.", field_errors={"lines.0.quantity": ["Must be positive."]})


@probe.get("/crash")
def _crash(request):
    raise ZeroDivisionError("boom")


@probe.get("/typed")
def _typed(request, count: int):
    return {"count": count}


probe_api = NinjaAPI(urls_namespace="probe", docs_url=None)
install_error_handlers(probe_api)
probe_api.add_router("/", probe)

urlpatterns = [
    path("api/v1/_probe/", probe_api.urls),
    path("", include("erp.urls")),
]


def test_401_shape(api_client: Client):
    assert_problem(api_client.get("/api/v1/events"), 401)


def test_403_shape(api_client: Client):
    raw = api_key_for(UserFactory(roles=["Sales"]))
    assert_problem(api_client.get("/api/v1/events", **bearer(raw)), 403)


def test_404_shape_for_unknown_path(api_client: Client):
    body = assert_problem(api_client.get("/api/v1/no/such/thing"), 404)
    assert "/api/v1/no/such/thing" in body["detail"]


def test_404_shape_for_missing_object(api_client: Client):
    raw = api_key_for(UserFactory(roles=["Integration admin"]))
    assert_problem(api_client.post("/api/v1/events/424242/dispatch", **bearer(raw)), 404)


def test_405_shape_keeps_allow_header(api_client: Client):
    response = api_client.delete("/api/v1/health")
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_422_shape_names_the_field(api_client: Client):
    body = assert_problem(api_client.get("/api/v1/_probe/typed?count=abc"), 422)
    assert body["errors"][0]["field"] == "count"
    assert body["errors"][0]["message"]


def test_domain_validation_error_lists_field_errors(api_client: Client):
    body = assert_problem(api_client.get("/api/v1/_probe/invalid"), 422)
    assert body["errors"] == [{"field": "lines.0.quantity", "message": "Must be positive."}]


def test_invalid_transition_is_409_naming_both_states(api_client: Client):
    body = assert_problem(api_client.get("/api/v1/_probe/domain"), 409)
    assert "'shipped'" in body["detail"]
    assert "'draft'" in body["detail"]
    assert body["type"] == "urn:erp:problem:InvalidTransition"


def test_500_shape_hides_the_exception(api_client: Client):
    body = assert_problem(api_client.get("/api/v1/_probe/crash"), 500)
    assert "boom" not in body["detail"]


def test_html_pages_keep_html_errors(api_client: Client):
    response = api_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]
