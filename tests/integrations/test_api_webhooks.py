"""The webhook subscriptions API: every key holder manages their own, the secret is in the answer
that made it only, the delivery log and replay; integration admins see everyone's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integrations.models import Delivery, DeliveryStatus, WebhookSubscription
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.integrations.ui_support import (
    delivery,
)
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks"


class Api:
    def __init__(self, raw_key: str) -> None:
        self.client = Client()
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(BASE + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(BASE + path, body, content_type="application/json", **self.headers)

    def delete(self, path: str):
        return self.client.delete(BASE + path, **self.headers)


@pytest.fixture
def seller(db) -> Api:
    return Api(api_key_for(UserFactory(username="sally", roles=["Sales"])))


@pytest.fixture
def other(db) -> Api:
    return Api(api_key_for(UserFactory(username="olga", roles=["Sales"])))


@pytest.fixture
def admin(db) -> Api:
    return Api(api_key_for(UserFactory(username="ines", roles=["Integration admin"])))


def subscribe(api: Api, url: str = "https://example.com/hook", topics: list[str] | None = None):
    return api.post("/subscriptions", {"url": url, "topics": topics or ["sales.*"], "description": "CRM"})


def test_the_secret_is_in_the_creating_answer_only(seller: Api) -> None:
    # when
    created = subscribe(seller)
    # then
    assert created.status_code == 201, created.json()
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert WebhookSubscription.objects.get().get_secret() == secret
    assert body["user"] == "sally"
    assert body["topics"] == ["sales.*"]
    for response in (seller.get("/subscriptions"), seller.get(f"/subscriptions/{body['id']}")):
        assert secret not in response.content.decode()
        assert "secret" not in response.content.decode().replace("secret_", "")


def test_rotating_gives_a_new_secret_once(seller: Api) -> None:
    pk = subscribe(seller).json()["id"]
    old = WebhookSubscription.objects.get().get_secret()
    rotated = seller.post(f"/subscriptions/{pk}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != old
    assert WebhookSubscription.objects.get().get_secret() == rotated.json()["secret"]


def test_bad_input_is_a_422_naming_the_field(seller: Api) -> None:
    assert "url" in {e["field"] for e in subscribe(seller, url="not a url").json()["errors"]}
    refused = subscribe(seller, topics=["procurement.*"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "topics"
    empty = seller.post("/subscriptions", {"url": "https://example.com/h", "topics": []})
    assert empty.status_code == 422


def test_update_and_delete(seller: Api) -> None:
    pk = subscribe(seller).json()["id"]
    patched = seller.patch(f"/subscriptions/{pk}", {"is_active": False, "topics": ["sales.order_created"]})
    assert patched.status_code == 200
    assert (patched.json()["is_active"], patched.json()["topics"]) == (False, ["sales.order_created"])
    assert seller.patch(f"/subscriptions/{pk}", {"url": None}).status_code == 422
    assert seller.delete(f"/subscriptions/{pk}").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_others_subscriptions_are_invisible_and_admins_see_all_on_request(
    seller: Api, other: Api, admin: Api
) -> None:
    pk = subscribe(other, url="https://example.com/olga").json()["id"]
    assert seller.get("/subscriptions").json()["count"] == 0
    assert seller.get(f"/subscriptions/{pk}").status_code == 404
    assert seller.delete(f"/subscriptions/{pk}").status_code == 404
    assert seller.get("/subscriptions", all="true").json()["count"] == 0  # not an admin: still only mine
    assert admin.get("/subscriptions").json()["count"] == 0
    everyone = admin.get("/subscriptions", all="true").json()
    assert [s["user"] for s in everyone["items"]] == ["olga"]
    assert admin.get(f"/subscriptions/{pk}").status_code == 200


def test_the_delivery_log_and_replay(seller: Api, other: Api) -> None:
    pk = subscribe(seller).json()["id"]
    subscription = WebhookSubscription.objects.get(pk=pk)
    dead = delivery(subscription=subscription, topic="sales.order_created")
    delivery(subscription=subscription, topic="sales.order_confirmed", status=DeliveryStatus.SUCCEEDED)
    log = seller.get(f"/subscriptions/{pk}/deliveries", status="dead").json()
    assert [d["id"] for d in log["items"]] == [dead.pk]
    assert log["items"][0]["event_id"] == str(dead.event.event_id)
    replayed = seller.post(f"/deliveries/{dead.pk}/replay")
    assert replayed.status_code == 201
    assert replayed.json()["event_id"] == str(dead.event.event_id)
    assert replayed.json()["id"] != dead.pk
    assert Delivery.objects.filter(subscription=subscription).count() == 3
    assert other.post(f"/deliveries/{dead.pk}/replay").status_code == 404


def test_any_signed_in_user_may_use_it_but_not_anonymous(db) -> None:
    nobody = Api(api_key_for(UserFactory(username="nora", roles=["Warehouse"])))
    assert nobody.get("/subscriptions").status_code == 200
    assert Client().get(BASE + "/subscriptions").status_code == 401


def test_the_lists_cost_the_same_for_more_rows(seller: Api) -> None:
    pk = subscribe(seller).json()["id"]
    subscription = WebhookSubscription.objects.get(pk=pk)
    delivery(subscription=subscription, topic="sales.x")

    def grow() -> None:
        for i in range(3):
            more = WebhookSubscription.objects.get(
                pk=subscribe(seller, url=f"https://example.com/{i}x").json()["id"]
            )
            delivery(subscription=more, topic="sales.x")
            delivery(subscription=subscription, topic="sales.y")

    assert_constant_queries(lambda: seller.get("/subscriptions"), grow)
    assert_constant_queries(lambda: seller.get(f"/subscriptions/{pk}/deliveries"), grow)
