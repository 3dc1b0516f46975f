"""What the sales API tests share: the API as one key holder calls it, and an address."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.erp.factories import bearer

BASE = "/api/v1/sales"


class Api:
    """The sales API as one key holder calls it."""

    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def post_empty(self, path: str):
        """A POST without any body (an action taking no options, or taking the defaults)."""
        return self.client.post(BASE + path, "", content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)


def field_errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical St", "city": "London", "country": "gb"}
