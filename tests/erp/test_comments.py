"""Comments on documents (erp.comments): on the page (htmx) and through the API, @mentions that
notify those who can read the document, and refused input that changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from erp.comments import mentioned_usernames
from erp.models import Comment, Notification
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.procurement.test_views import make_world

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world() -> dict:
    return make_world()


@pytest.fixture
def people() -> dict:
    return {
        "bea": UserFactory(username="bea", first_name="Bea", last_name="Buyer", roles=["Purchasing"]),
        "max": UserFactory(username="max", first_name="Max", roles=["Purchasing manager"]),
        "sal": UserFactory(username="sal", roles=["Sales"]),  # cannot read procurement
        "gone": UserFactory(username="gone", roles=["Purchasing"], is_active=False),
    }


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_mentions_are_parsed_once_each_without_emails_or_a_final_full_stop():
    assert mentioned_usernames("@max please look, @bea.b and @max. Mail ada@example.com") == ["max", "bea.b"]


def test_a_comment_on_the_page_swaps_the_timeline_and_notifies_who_it_names(world, people):
    # given
    po = world["draft"]
    bea = as_user(people["bea"])

    # when
    response = bea.post(
        f"/comments/procurement.purchaseorder:{po.pk}/",
        {"body": "@max can you approve? cc @sal @gone @nobody"},
        **HTMX,
    )

    # then: the fragment (no page), the comment with its mentions, Bea named
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'id="timeline-procurement-purchaseorder-{po.pk}"' in html
    assert '<span class="mention">@max</span>' in html
    assert "Bea Buyer" in html
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Comment posted."
    comment = Comment.objects.get()
    assert sorted(u.username for u in comment.mentions.all()) == ["max", "sal"]
    # then: only Max is told: Sal cannot read procurement, Gone is inactive, nobody does not exist
    note = Notification.objects.get()
    assert (note.recipient.username, note.kind) == ("max", "mention")
    assert note.title == f"Bea Buyer mentioned you on purchase order {po.number}"
    assert note.url == f"/procurement/orders/{po.pk}/#timeline"


def test_the_page_shows_the_comment_form_and_comments_with_their_authors(world, people):
    # given
    po = world["draft"]
    as_user(people["bea"]).post(f"/comments/procurement.purchaseorder:{po.pk}/", {"body": "Called them."})

    # when
    page = as_user(people["max"]).get(f"/procurement/orders/{po.pk}/").content.decode()

    # then
    assert f'action="/comments/procurement.purchaseorder:{po.pk}/"' in page
    assert "Called them." in page
    assert "Bea Buyer" in page


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write a comment first."), ("x" * 5001, "A comment is at most 5,000 characters")],
)
def test_empty_or_too_long_is_refused_with_the_text_kept_and_nothing_written(world, people, body, message):
    # given
    po = world["draft"]

    # when
    response = as_user(people["bea"]).post(
        f"/comments/procurement.purchaseorder:{po.pk}/", {"body": body}, **HTMX
    )

    # then
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert json.loads(response["HX-Trigger"])["toast"]["level"] == "error"
    assert (Comment.objects.count(), Notification.objects.count()) == (0, 0)


def test_who_cannot_read_the_area_cannot_comment_and_unknown_documents_are_404(world, people):
    # given
    po = world["draft"]
    sal = as_user(people["sal"])

    # when
    refused = sal.post(f"/comments/procurement.purchaseorder:{po.pk}/", {"body": "hi"}, **HTMX)
    missing = as_user(people["bea"]).post("/comments/procurement.purchaseorder:999999/", {"body": "hi"})
    unknown = as_user(people["bea"]).post("/comments/erp.user:1/", {"body": "hi"})

    # then
    assert refused.status_code == 403
    assert "Procurement (read)" in refused.content.decode()
    assert (missing.status_code, unknown.status_code) == (404, 404)
    assert Comment.objects.count() == 0


def test_a_plain_post_goes_back_to_the_document(world, people):
    po = world["draft"]
    response = as_user(people["bea"]).post(f"/comments/procurement.purchaseorder:{po.pk}/", {"body": "ok"})
    assert (response.status_code, response["Location"]) == (302, f"/procurement/orders/{po.pk}/#timeline")


# --- the API ---------------------------------------------------------------------------------------


def api(user, scopes: list[str] | None = None) -> dict[str, str]:
    return bearer(api_key_for(user, name=f"key {scopes}", scopes=scopes))


def test_the_api_lists_and_adds_comments_and_a_mention_notifies(world, people):
    # given
    po = world["draft"]
    doc = f"procurement.purchaseorder:{po.pk}"
    headers = api(people["bea"])
    client = Client()

    # when
    created = client.post(
        "/api/v1/comments",
        {"document": doc, "body": "@max approve?"},
        content_type="application/json",
        **headers,
    )
    listed = client.get("/api/v1/comments", {"document": doc}, **headers)

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["document"], body["author"]["name"], body["mentions"]) == (doc, "Bea Buyer", ["max"])
    assert listed.status_code == 200
    assert [c["body"] for c in listed.json()["items"]] == ["@max approve?"]
    assert Notification.objects.get().recipient == people["max"]


def test_the_api_needs_the_documents_area_read_scope_and_refuses_bad_input(world, people):
    # given: a key of Bea's that holds only inventory:read
    po = world["draft"]
    doc = f"procurement.purchaseorder:{po.pk}"
    narrow = api(people["bea"], scopes=["inventory:read"])
    full = api(people["bea"])
    client = Client()

    # when
    listed = client.get("/api/v1/comments", {"document": doc}, **narrow)
    posted = client.post(
        "/api/v1/comments", {"document": doc, "body": "hi"}, content_type="application/json", **narrow
    )
    empty = client.post(
        "/api/v1/comments", {"document": doc, "body": " "}, content_type="application/json", **full
    )
    missing = client.get("/api/v1/comments", {"document": "procurement.purchaseorder:999999"}, **full)
    malformed = client.get("/api/v1/comments", {"document": "nonsense"}, **full)

    # then
    assert (listed.status_code, posted.status_code) == (403, 403)
    assert "procurement:read" in listed.json()["detail"]
    assert empty.status_code == 422
    assert empty.json()["errors"] == [{"field": "body", "message": "Write a comment first."}]
    assert (missing.status_code, malformed.status_code) == (404, 404)
    assert Comment.objects.count() == 0
