from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from erp import events
from erp.navigation import AREA_PAGES
from tests.erp.factories import UserFactory
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


def emit_events(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            events.emit("test.page", aggregate=("thing", i % 3), payload={"i": i})


def test_anonymous_is_sent_to_login(client: Client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders_and_logs_in(client: Client):
    UserFactory(username="ana", password="correct horse")

    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "ana", "password": "correct horse"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_says_so(client: Client):
    UserFactory(username="ana", password="correct horse")
    response = client.post("/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_every_area_opens_on_a_real_page_for_an_admin(client: Client, admin_user):
    client.force_login(admin_user)
    for page in AREA_PAGES:
        response = client.get(f"/{page.key}/")
        assert response.status_code == 200, page.key
        assert page.summary.encode() in response.content


def test_navigation_shows_only_the_areas_of_the_role(client: Client):
    client.force_login(UserFactory(roles=["Sales"]))

    html = client.get("/").content.decode()

    assert 'href="/sales/"' in html
    assert 'href="/inventory/"' in html  # sales reads inventory
    assert 'href="/procurement/"' not in html
    assert 'href="/integrations/"' not in html


def test_role_enforced_on_a_page(client: Client):
    client.force_login(UserFactory(roles=["Sales"]))

    response = client.get("/integrations/")

    assert response.status_code == 403
    assert b"Integrations (read)" in response.content


def test_user_without_role_gets_an_explanation_not_an_error(client: Client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert b"You have no role yet" in response.content


def test_dashboard_query_count_is_constant(client: Client, admin_user):
    client.force_login(admin_user)
    emit_events(3)
    queries = assert_constant_queries(lambda: client.get("/"), lambda: emit_events(40))
    assert queries <= 40  # with the operations home's figures (counted per role in tests/erp/test_home.py)


def test_event_log_filters_paginates_and_has_constant_queries(client: Client, admin_user):
    client.force_login(admin_user)
    emit_events(5)
    assert_constant_queries(lambda: client.get("/events/"), lambda: emit_events(50))

    response = client.get("/events/")
    assert b"1\xe2\x80\x9350 of 55" in response.content

    rows = client.get("/events/?topic=test.&status=pending", HTTP_HX_REQUEST="true")
    assert rows.status_code == 200
    assert b"<html" not in rows.content  # the fragment only
    assert b"test.page" in rows.content


def test_search_says_what_it_searched_when_nothing_matches(client: Client, admin_user):
    client.force_login(admin_user)
    response = client.get("/search/?q=widget")
    assert "Nothing found for “widget”. Searched:".encode() in response.content
    fragment = client.get("/search/?q=widget", HTTP_HX_REQUEST="true")
    assert b'id="search-results"' in fragment.content
    assert b"<html" not in fragment.content


def test_search_uses_registered_providers_the_user_may_read(client: Client):
    from erp import search

    search.register(
        search.SearchProvider(
            key="test-things",
            label="Things",
            area="inventory",
            search=lambda q, limit: [search.SearchResult(title=f"Thing {q}", url="/inventory/")],
        )
    )
    try:
        client.force_login(UserFactory(roles=["Sales"]))
        assert b"Thing widget" in client.get("/search/?q=widget").content
        client.force_login(UserFactory(roles=["Production"], username="prod"))
        client.force_login(UserFactory(username="nobody"))
        assert b"Thing widget" not in client.get("/search/?q=widget").content
    finally:
        search._providers.pop("test-things")


def test_admin_is_served(client: Client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/erp/outboxevent/").status_code == 200
    assert client.get("/admin/erp/apikey/").status_code == 200


def test_static_htmx_is_served_locally(client: Client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/htmx/htmx.min.js"), "run `make setup` (tools/fetch_static.py)"
    html_client = Client()
    html = html_client.get("/login/").content.decode()
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "//cdn" not in html
    assert "unpkg" not in html


def test_every_admin_changelist_opens(client: Client, admin_user):
    from django.contrib import admin

    client.force_login(admin_user)
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
        assert client.get(url + "?q=x").status_code == 200, url
