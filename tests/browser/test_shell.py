"""A new user logs in and opens every area; the shell's keyboard and htmx behaviour works."""

from __future__ import annotations

import pytest
from django.db import transaction
from playwright.sync_api import expect

from erp import events
from erp.navigation import AREA_PAGES
from tests.browser.conftest import login
from tests.erp.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_and_open_every_area(page, screenshot):
    # given
    UserFactory(username="ada", password="s3cret-pass", is_staff=True, is_superuser=True)

    # when: a new user logs in
    page.goto("/")
    assert "/login/" in page.url
    screenshot("login")
    login(page, "ada", "s3cret-pass")

    # then: the dashboard, and every area from the navigation
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    screenshot("dashboard")
    for area in AREA_PAGES:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=area.label, exact=True).click()
        page.wait_for_url(f"**/{area.key}/")
        expect(page.get_by_role("heading", name=area.label, exact=True)).to_be_visible()
        expect(page.get_by_text(area.summary)).to_be_visible()
        screenshot(f"area-{area.key}")
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_text("ERP administration")).to_be_visible()
    assert page.js_errors == []


def test_wrong_password_is_explained(page):
    UserFactory(username="ada", password="s3cret-pass")
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/login/" in page.url


def test_event_log_filters_without_reload_and_slash_focuses_search(page, screenshot):
    UserFactory(username="ia", password="s3cret-pass", roles=["Integration admin"])
    with transaction.atomic():
        for i in range(3):
            events.emit("sales.order_created", aggregate=("sales.order", i))
        events.emit("inventory.level_changed", aggregate=("inventory.product", 1))
    login(page, "ia", "s3cret-pass")

    page.get_by_role("link", name="Event log").click()
    expect(page.locator("#rows tbody tr")).to_have_count(4)
    page.evaluate("window.__marker = 'same page'")
    page.get_by_label("Topic").fill("inventory.")
    page.wait_for_function("document.querySelectorAll('#rows tbody tr').length === 1")
    assert page.evaluate("window.__marker") == "same page"  # htmx swapped the rows, no reload
    assert "topic=inventory." in page.url  # and the URL can be shared
    screenshot("event-log-filtered")

    page.locator("body").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type("widget")
    page.wait_for_selector("#search-pop #search-results")
    assert "Nothing found for “widget”" in page.locator("#search-pop").inner_text()
    assert page.js_errors == []


def test_a_role_without_access_sees_why(page):
    UserFactory(username="sal", password="s3cret-pass", roles=["Sales"])
    login(page, "sal", "s3cret-pass")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sales", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Integrations")).to_have_count(0)
    page.goto("/integrations/")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
