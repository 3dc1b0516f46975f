"""The timeline component (erp.timeline): events and comments merged newest first, sentences from
the apps' describers (an unknown topic in words), who did it, and two queries whatever its length."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from erp import actor, events, timeline
from erp.models import Comment, OutboxEvent
from tests.erp.factories import UserFactory
from tests.procurement.test_views import make_world
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def emit(po, topic: str, **payload) -> OutboxEvent:
    with transaction.atomic():
        return events.emit(topic, aggregate=po, payload=payload)


def test_topics_in_words_and_the_most_specific_describer_first():
    # given
    def specific(event):
        return "Specific"

    def broad(event):
        return None  # says nothing: the next one is asked

    timeline.register_describer("zz.*", broad)
    timeline.register_describer("zz.thing_done", specific)
    try:
        said = timeline.describe(OutboxEvent(topic="zz.thing_done", payload={}))
        unknown = timeline.describe(OutboxEvent(topic="zz.other_thing_happened", payload={}))
    finally:
        timeline._describers[:] = [(p, d) for p, d in timeline._describers if not p.startswith("zz.")]

    # then
    assert said == ("Specific", [])
    assert unknown == ("Other thing happened", [])


def test_a_describer_that_trips_on_an_old_payload_falls_back_to_words():
    # given: a sales event with a payload of the wrong shape
    event = OutboxEvent(topic="sales.payment_received", payload={"payment": "not a dict", "invoice": 3})

    # then
    assert timeline.describe(event)[0].startswith("Payment of")


def test_entries_are_newest_first_with_comments_and_who_did_each():
    # given: a draft (its creation is a note), an event by the API, one by a tool, a comment
    world = make_world()
    po = world["draft"]
    bea = UserFactory(username="bea", first_name="Bea")
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    with actor.acting_as("QuickBooks · Books"):
        emit(po, "procurement.po_closed")
    request = RequestFactory().post("/")
    request.user = bea
    request.api_key = type("Key", (), {"name": "erp-sync"})()  # type: ignore[attr-defined]
    with actor.from_request(request):
        emit(po, "procurement.po_cancelled", reason="dup")
    Comment.objects.create(
        document_type="procurement.purchaseorder", document_id=str(po.pk), author=bea, body="Why?"
    )
    OutboxEvent.objects.filter(topic="procurement.po_closed").update(created_at=earlier)
    type(po).objects.filter(pk=po.pk).update(created_at=earlier - datetime.timedelta(minutes=1))
    po.refresh_from_db()

    # when
    entries = timeline.build(po).entries

    # then
    assert [(e.kind, e.sentence, e.actor, e.actor_kind) for e in entries] == [
        ("comment", "Commented", "Bea", "person"),
        ("event", "Cancelled", "Bea via API key 'erp-sync'", "api"),
        ("event", "Closed", "QuickBooks · Books", "connector"),
        ("note", "Created", "System", "system"),
    ]
    assert entries[1].facts == ["reason: dup"]


def test_the_tag_costs_the_same_with_1_or_10_events_and_comments():
    # given
    world = make_world()
    po = world["draft"]
    bea = UserFactory(username="bea", roles=["Purchasing"])
    request = RequestFactory().get("/")
    request.user = bea
    template = Template("{% load erp_timeline %}{% document_timeline po %}")

    def render() -> str:
        return template.render(Context({"po": po, "request": request}))

    def grow(n: int) -> None:
        for i in range(n):
            emit(po, "procurement.po_noted", note=str(i))
            Comment.objects.create(
                document_type="procurement.purchaseorder", document_id=str(po.pk), author=bea, body=f"c{i}"
            )

    render()  # warm the user's permissions

    # when
    grow(1)
    few = count_queries(render)
    grow(9)
    many = count_queries(render)
    html = render()

    # then: events, comments (with authors), the creator
    assert few == many <= 3
    assert html.count('class="tl-entry tl-event"') == 10
    assert html.count('class="tl-entry tl-comment"') == 10
    assert "Po noted" in html


def test_an_unregistered_object_renders_nothing():
    user = UserFactory(username="x")
    html = Template("{% load erp_timeline %}{% document_timeline u %}").render(
        Context({"u": user, "request": RequestFactory().get("/")})
    )
    assert html == ""


def test_comment_bodies_are_escaped_and_mentions_marked():
    from erp.templatetags.erp_timeline import with_mentions

    assert str(with_mentions("<b>hi</b> @max\nok")) == (
        '&lt;b&gt;hi&lt;/b&gt; <span class="mention">@max</span><br>ok'
    )
