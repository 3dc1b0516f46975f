"""Who made an event happen (erp.actor): a person in the browser, an API key, a connector, the system."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from erp import actor, events
from erp.models import ApiKey, OutboxEvent
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.procurement.test_views import make_world
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def emit_one(topic: str = "test.happened") -> OutboxEvent:
    with transaction.atomic():
        return events.emit(topic, aggregate=("test.thing", 1), payload={})


def test_an_event_outside_any_request_is_the_systems():
    # when
    event = emit_one()

    # then
    assert (event.actor, event.actor_user_id) == ("System", None)


def test_a_browser_request_records_the_person():
    # given: a request whose user the page's rights check has loaded
    ada = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    request = RequestFactory().post("/x/")
    request.user = ada
    seen: list[OutboxEvent] = []

    def view(req):
        seen.append(emit_one())
        return HttpResponse("ok")

    # when
    actor.ActorMiddleware(view)(request)

    # then: and once the request is over, nobody acts any more
    assert (seen[0].actor, seen[0].actor_user_id) == ("Ada Admin", ada.pk)
    assert actor.current() == actor.SYSTEM_ACTOR


@override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100"))
def test_a_page_and_an_api_key_each_record_who_acted():
    # given: a draft above the threshold; a manager in the browser, another through a key
    world = make_world()
    draft = world["draft"]
    maggie = UserFactory(username="maggie", first_name="Maggie", roles=["Purchasing manager"])
    browser = Client()
    browser.force_login(maggie)
    other = make_world_po(world)
    key = api_key_for(maggie, name="shop-sync")

    # when
    browser.post(f"/procurement/orders/{draft.pk}/approve/")
    answer = Client().post(
        f"/api/v1/procurement/purchase-orders/{other.pk}/approve",
        "",
        content_type="application/json",
        **bearer(key),
    )

    # then
    assert answer.status_code == 200, answer.content
    by_page = OutboxEvent.objects.get(topic="procurement.po_approved", aggregate_id=str(draft.pk))
    by_key = OutboxEvent.objects.get(topic="procurement.po_approved", aggregate_id=str(other.pk))
    assert (by_page.actor, by_page.actor_user_id) == ("Maggie", maggie.pk)
    assert (by_key.actor, by_key.actor_user_id) == ("Maggie via API key 'shop-sync'", maggie.pk)


def make_world_po(world: dict):
    from procurement import services

    return services.po_create(
        supplier=world["supplier"],
        warehouse=world["warehouse"],
        lines=[services.POLineSpec(world["product"], 3)],
    )


def test_a_connector_at_work_is_named_without_a_user_even_inside_a_request():
    # given: a person's request, inside which the hub works for a connection
    ada = UserFactory(username="ada2", first_name="Ada")
    request = RequestFactory().post("/x/")
    request.user = ada

    # when
    with actor.from_request(request), actor.acting_as("Shopify · Main store"):
        inner = emit_one()
    with actor.from_request(request):
        outer = emit_one()

    # then: the innermost context wins
    assert (inner.actor, inner.actor_user_id) == ("Shopify · Main store", None)
    assert (outer.actor, outer.actor_user_id) == ("Ada", ada.pk)


def test_a_background_task_acts_for_the_user_who_started_it_else_the_system():
    # given
    bo = UserFactory(username="bo")

    # when
    with actor.acting_for(bo):
        for_bo = emit_one()
    with actor.acting_for(None):
        nobody = emit_one()

    # then: no name: the username
    assert (for_bo.actor, for_bo.actor_user_id) == ("bo", bo.pk)
    assert (nobody.actor, nobody.actor_user_id) == ("System", None)


def test_an_anonymous_or_unloaded_request_user_is_the_system_and_costs_no_query():
    # given: a webhook-like request whose lazy user was never read
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    request = RequestFactory().post("/hooks/1/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    AuthenticationMiddleware(lambda r: HttpResponse()).process_request(request)

    # when
    with actor.from_request(request):
        queries = count_queries(actor.current)
        who = actor.current()

    # then
    assert (who, queries) == (actor.SYSTEM_ACTOR, 0)


def test_recording_the_actor_adds_no_query_to_an_emit():
    # given: the same emit without any actor, and in an API request (its user and key loaded)
    ada = UserFactory(username="ada3", first_name="Ada", roles=["Sales"])
    api_key_for(ada, name="k")
    request = RequestFactory().post("/api/v1/x")
    request.user = ada
    request.api_key = ApiKey.objects.get(user=ada)  # type: ignore[attr-defined]
    emit_one()  # warm the aggregate's sequence row

    # when
    bare = count_queries(emit_one)
    with actor.from_request(request):
        with_key = count_queries(emit_one)

    # then
    assert with_key == bare
    assert OutboxEvent.objects.order_by("-id").first().actor == "Ada via API key 'k'"
