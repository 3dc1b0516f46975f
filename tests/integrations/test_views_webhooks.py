"""My webhooks: any signed-in user manages their own subscriptions, sees the secret once, reads the
delivery log and replays; integration admins see everyone's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Delivery, DeliveryStatus, WebhookSubscription
from integrations.webhooks_out import subscription_create
from tests.erp.factories import UserFactory
from tests.integrations.ui_support import (
    admin_fixture,  # noqa: F401  (a fixture)
    client_for,
    delivery,
)
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db) -> Client:
    return client_for("sally", "Sales")


def subscribe(username: str, url: str = "https://example.com/hook", topics: tuple[str, ...] = ("sales.*",)):
    user = UserFactory(username=username, roles=["Sales"])
    return subscription_create(user=user, url=url, topics=list(topics))[0]


def test_creating_a_subscription_shows_its_secret_once(seller: Client) -> None:
    # when
    response = seller.post(
        reverse("integrations:webhooks"),
        {
            "url": "https://example.com/erp-hook",
            "topics": "sales.*, sales.order_created",
            "description": "CRM",
        },
    )
    # then
    subscription = WebhookSubscription.objects.get()
    secret = subscription.get_secret()
    assert response.status_code == 201
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    assert subscription.topics == ["sales.*", "sales.order_created"]
    # and never again
    for url in (reverse("integrations:webhooks"), reverse("integrations:webhook", args=[subscription.pk])):
        assert secret not in seller.get(url).content.decode()


def test_rotating_the_secret_shows_the_new_one_once(seller: Client) -> None:
    seller.post(reverse("integrations:webhooks"), {"url": "https://example.com/a", "topics": "sales.*"})
    subscription = WebhookSubscription.objects.get()
    old = subscription.get_secret()
    # when
    response = seller.post(reverse("integrations:webhook-rotate", args=[subscription.pk]))
    # then
    subscription.refresh_from_db()
    new = subscription.get_secret()
    assert new != old
    assert new in response.content.decode()
    assert old not in response.content.decode()
    assert new not in seller.get(reverse("integrations:webhook", args=[subscription.pk])).content.decode()


def test_a_topic_outside_my_rights_is_refused_next_to_the_field(seller: Client) -> None:
    response = seller.post(
        reverse("integrations:webhooks"), {"url": "https://example.com/h", "topics": "procurement.*"}
    )
    assert response.status_code == 200
    assert "you may not read procurement" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_users_see_and_touch_only_their_own_subscriptions(seller: Client) -> None:
    # given: someone else's subscription
    other = subscribe("olga", url="https://example.com/olga")
    # then
    assert "https://example.com/olga" not in seller.get(reverse("integrations:webhooks")).content.decode()
    assert seller.get(reverse("integrations:webhook", args=[other.pk])).status_code == 404
    assert seller.post(reverse("integrations:webhook-delete", args=[other.pk])).status_code == 404
    assert WebhookSubscription.objects.filter(pk=other.pk).exists()


def test_integration_admins_see_everyones(admin: Client) -> None:
    subscribe("olga", url="https://example.com/olga")
    assert "https://example.com/olga" not in admin.get(reverse("integrations:webhooks")).content.decode()
    content = admin.get(reverse("integrations:webhooks") + "?all=1").content.decode()
    assert "https://example.com/olga" in content
    assert "olga" in content


def test_editing_deactivating_and_deleting(seller: Client) -> None:
    # given
    seller.post(reverse("integrations:webhooks"), {"url": "https://example.com/a", "topics": "sales.*"})
    subscription = WebhookSubscription.objects.get()
    url = reverse("integrations:webhook", args=[subscription.pk])
    # when: edited (no "is_active" box ticked)
    response = seller.post(url, {"url": "https://example.com/b", "topics": "sales.order_created"})
    # then
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.url, subscription.topics, subscription.is_active) == (
        "https://example.com/b",
        ["sales.order_created"],
        False,
    )
    # when: deleted
    response = seller.post(reverse("integrations:webhook-delete", args=[subscription.pk]))
    assert response["Location"] == reverse("integrations:webhooks")
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_and_a_replay(seller: Client) -> None:
    # given: a dead delivery of my subscription
    seller.post(reverse("integrations:webhooks"), {"url": "https://example.com/a", "topics": "sales.*"})
    subscription = WebhookSubscription.objects.get()
    dead = delivery(subscription=subscription, topic="sales.order_created")
    url = reverse("integrations:webhook", args=[subscription.pk])
    content = seller.get(url + "?status=dead").content.decode()
    assert f'id="sub-delivery-{dead.pk}" class="dead"' in content
    assert str(dead.event.event_id) in content
    # when
    response = seller.post(reverse("integrations:webhook-replay", args=[dead.pk]), {"next": url})
    # then: a new delivery of the same event
    assert response["Location"] == url
    replays = Delivery.objects.filter(subscription=subscription).exclude(pk=dead.pk)
    assert replays.count() == 1
    assert replays.get().event_id == dead.event_id


def test_replaying_someone_elses_delivery_is_a_404(seller: Client) -> None:
    other = subscribe("olga")
    dead = delivery(subscription=other, topic="sales.order_created")
    assert seller.post(reverse("integrations:webhook-replay", args=[dead.pk])).status_code == 404


def test_anonymous_users_must_log_in() -> None:
    assert Client().get(reverse("integrations:webhooks")).status_code == 302


def test_the_pages_cost_the_same_for_many_subscriptions_and_deliveries(seller: Client) -> None:
    seller.post(reverse("integrations:webhooks"), {"url": "https://example.com/a", "topics": "sales.*"})
    subscription = WebhookSubscription.objects.get()
    delivery(subscription=subscription, topic="sales.x")
    user = subscription.user

    def grow() -> None:
        for i in range(4):
            more = subscription_create(user=user, url=f"https://example.com/{i}", topics=["sales.*"])[0]
            delivery(subscription=more, topic="sales.x")
            delivery(subscription=subscription, topic="sales.y", status=DeliveryStatus.SUCCEEDED)

    assert_constant_queries(lambda: seller.get(reverse("integrations:webhooks")), grow)
    assert_constant_queries(lambda: seller.get(reverse("integrations:webhook", args=[subscription.pk])), grow)
