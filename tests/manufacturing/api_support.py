"""What the manufacturing API tests share: the API as a key holder calls it, the bike parts, a wheel BOM."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from inventory.models import StockLevel
from inventory.services import stock_issue
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import bin_of, warehouse
from tests.manufacturing.factories import bike_parts

BASE = "/api/v1/manufacturing"


class Api:
    """The manufacturing API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)


def api_as(*roles: str, scopes: list[str] | None = None) -> Api:
    return Api(api_key_for(UserFactory(roles=list(roles)), scopes=scopes))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def issue_all(product) -> None:
    level = StockLevel.objects.get(product=product, location=bin_of(warehouse()))
    stock_issue(product=product, location=level.location, quantity=level.on_hand)


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def create_centre(api: Api, code: str = "ASM", cost: str = "60.00") -> dict[str, Any]:
    return ok(api.post("/work-centres", {"code": code, "name": "Assembly", "cost_per_hour": cost}), 201)


def create_wheel_bom(api: Api, parts: dict[str, Any], centre: dict[str, Any]) -> dict[str, Any]:
    """wheel = 1 rim + 32 spokes (+10 % scrap), laced in 30 minutes."""
    return ok(
        api.post(
            "/boms",
            {
                "sku": "WHEEL",
                "components": [
                    {"sku": "rim", "quantity": 1},
                    {"product": parts["spoke"].pk, "quantity": "32", "scrap_percent": "10"},
                ],
                "operations": [
                    {"work_centre": centre["id"], "name": "Lace and true", "minutes_per_unit": 30}
                ],
                "lead_time_days": 2,
            },
        ),
        201,
    )


# The fixtures: test modules import them by their function names (``api_fixture``…), tests ask for
# them by name (``api``, ``parts``, ``wheel_bom``).


@pytest.fixture(name="api")
def api_fixture() -> Api:
    return api_as("Production")


@pytest.fixture(name="parts")
def parts_fixture() -> dict[str, Any]:
    """Bought: FRAME (50.00), RIM (8.00), SPOKE (0.10), all in stock; made: WHEEL and BIKE."""
    return bike_parts()


@pytest.fixture(name="wheel_bom")
def wheel_bom_fixture(api: Api, parts: dict[str, Any]) -> dict[str, Any]:
    return create_wheel_bom(api, parts, create_centre(api))
