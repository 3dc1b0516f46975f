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


# --- bad requests that used to be answered 500 or silently half-read ---------------------------------


@pytest.fixture
def sales_key() -> dict[str, str]:
    return bearer(api_key_for(UserFactory(is_superuser=True, is_staff=True)))


def test_a_10_mb_body_is_413_problem_json_and_stores_nothing(api_client: Client, sales_key, settings):
    from inventory.models import Product

    body = b'{"sku": "BIG", "name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = api_client.post(
        "/api/v1/inventory/products", body, content_type="application/json", **sales_key
    )
    problem = assert_problem(response, 413)
    assert "MiB" in problem["detail"]
    assert not Product.objects.exists()


def test_a_10_mb_webhook_is_413_and_stores_nothing(api_client: Client):
    from integrations.models import InboundEvent
    from tests.integrations.test_inbound_shopify import shopify_connection

    connection = shopify_connection()
    response = api_client.post(
        f"/integrations/hooks/{connection.pk}/", b"x" * (10 * 1024 * 1024), content_type="application/json"
    )
    assert_problem(response, 413)
    assert not InboundEvent.objects.exists()


def test_a_json_body_sent_as_text_plain_is_415_and_creates_nothing(api_client: Client, sales_key):
    from inventory.models import Product

    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = api_client.post(
            "/api/v1/inventory/products", '{"sku": "A1", "name": "x"}', content_type=content_type, **sales_key
        )
        body = assert_problem(response, 415)
        assert "application/json" in body["detail"]
    assert not Product.objects.exists()
    merge_patch = api_client.post(
        "/api/v1/inventory/products",
        '{"sku": "A1", "name": "x"}',
        content_type="application/merge-patch+json; charset=utf-8",
        **sales_key,
    )
    assert merge_patch.status_code == 201, merge_patch.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/inventory/levels?updated_since=yesterday",
        "/api/v1/events?updated_since=yesterday",
        "/api/v1/sales/orders?stauts=confirmed",
        "/api/v1/health?verbose=1",
    ],
)
def test_a_query_parameter_the_operation_does_not_take_is_422_naming_it(api_client: Client, sales_key, url):
    name = url.split("?")[1].split("=")[0]
    body = assert_problem(api_client.get(url, **sales_key), 422)
    assert body["errors"] == [{"field": name, "message": "Unknown query parameter."}]
    assert "This operation takes:" in body["detail"]


def test_a_query_parameter_of_the_wrong_type_is_422(api_client: Client, sales_key):
    body = assert_problem(api_client.get("/api/v1/sales/orders?updated_since=yesterday", **sales_key), 422)
    assert body["errors"][0]["field"] == "updated_since"
    listed = api_client.get("/api/v1/sales/orders?updated_since=2030-01-01T00:00:00Z&page=1", **sales_key)
    assert listed.status_code == 200, listed.content


def test_an_unauthenticated_request_with_an_unknown_parameter_is_still_401(api_client: Client):
    assert_problem(api_client.get("/api/v1/events?nonsense=1"), 401)


@pytest.mark.parametrize(
    "url", ["/api/v1/keys?page=18446744073709551617", "/api/v1/sales/orders?page=" + "9" * 25]
)
def test_a_page_number_too_large_for_the_database_is_422(api_client: Client, sales_key, url):
    # schemathesis: SQLite answered "datatype mismatch" (an IntegrityError) for the OFFSET,
    # PostgreSQL "bigint out of range" (a DataError). One request per test: on PostgreSQL the
    # error aborts the test's transaction, as it would a request's own.
    body = assert_problem(api_client.get(url, **sales_key), 422)
    assert "out of range" in body["detail"]
