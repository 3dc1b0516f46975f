"""What the procurement API tests share: the API as a key holder calls it, orders made through it."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import warehouse
from tests.procurement.factories import SupplierFactory

BASE = "/api/v1/procurement"


class Api:
    """The procurement API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def post_empty(self, path: str):
        return self.client.post(BASE + path, "", content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self.headers)


def api_as(*roles: str, scopes: list[str] | None = None) -> Api:
    return Api(api_key_for(UserFactory(roles=list(roles)), scopes=scopes))


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def create_po(api: Api, supplier, lines: list[dict[str, Any]], **extra: Any):
    body = {"supplier": supplier.pk, "warehouse": warehouse().pk, "lines": lines, **extra}
    response = api.post("/purchase-orders", body)
    assert response.status_code == 201, response.content
    return response.json()


def sent_po(api: Api, product, quantity: int = 10, cost: str = "5.00") -> dict[str, Any]:
    po = create_po(api, SupplierFactory(), [{"product": product.pk, "quantity": quantity, "unit_cost": cost}])
    response = api.post_empty(f"/purchase-orders/{po['id']}/send")
    assert response.status_code == 200, response.content
    return response.json()
