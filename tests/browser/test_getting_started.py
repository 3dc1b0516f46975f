"""Getting started in a real browser: on a fresh database the admin sees the checklist, fills in the
company page from it, comes back, and the step is ticked; at 1,440 px and at 390 px wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from erp.models import CompanyProfile, User
from tests.browser.conftest import login
from tests.erp.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_fills_the_company_page_from_the_checklist_and_the_step_is_ticked(page, screenshot):
    # given: a fresh database with its first superuser
    UserFactory(username="admin", password="s3cret-pass", is_superuser=True, is_staff=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "admin", "s3cret-pass")

    # then: the checklist, nothing done
    section = page.locator("#getting-started")
    expect(section).to_contain_text("0 of 6 done")
    expect(page.locator("#waiting")).to_contain_text("Nothing is waiting for you.")
    screenshot("getting-started-fresh-1440")

    # when: from the company step to the company page, filled in and saved
    page.locator("#step-company").get_by_role("link", name="Set up").click()
    page.wait_for_url("**/settings/company/")
    page.get_by_label("Name").fill("Widgets Ltd")
    page.get_by_label("Legal address").fill("1 Main St\nSpringfield, IL 62701\nUnited States")
    page.get_by_label("Tax id").fill("EIN 12-3456789")
    page.get_by_label("Base currency").select_option("EUR")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    screenshot("settings-company-1440")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("Company details saved")

    # then: back home, the step is ticked and the count moved
    page.get_by_role("link", name="Dashboard").click()
    expect(section).to_contain_text("1 of 6 done")
    expect(page.locator("#step-company")).to_have_class("step done")
    expect(page.locator("#step-company .tick")).to_have_text("✓")
    screenshot("getting-started-company-done-1440")
    assert CompanyProfile.objects.get().base_currency == "EUR"

    # and at 390 px wide: everything readable, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(section).to_contain_text("1 of 6 done")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("getting-started-390")
    page.goto("/settings/company/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("settings-company-390")
    assert page.js_errors == []


def test_a_superuser_invites_a_user_and_copies_the_link(page, screenshot):
    UserFactory(username="admin", password="s3cret-pass", is_superuser=True, is_staff=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "admin", "s3cret-pass")

    page.goto("/settings/users/")
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Email", exact=True).fill("dana@example.com")
    page.get_by_label("First name").fill("Dana")
    page.locator("label.role", has_text="Warehouse").click()
    screenshot("settings-user-invite-1440")
    page.get_by_role("button", name="Invite").click()

    expect(page.locator("#set-password-link")).to_have_value(re.compile(r"/settings/set-password/"))
    screenshot("settings-user-invited-1440")
    link = page.locator("#set-password-link").input_value()
    page.goto("/settings/users/")
    expect(page.locator("tbody tr", has_text="dana")).to_contain_text("invited")
    screenshot("settings-users-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot("settings-users-390")

    # the invited person opens the link (here in the same browser) and chooses a password
    page.goto(link)
    page.get_by_label("New password").fill("s3cret-Pass!")
    page.get_by_label("The same again").fill("s3cret-Pass!")
    screenshot("settings-set-password-390")
    page.get_by_role("button", name="Set my password").click()
    expect(page.locator("#toasts")).to_contain_text("Your password is set")
    assert User.objects.get(username="dana").check_password("s3cret-Pass!")
    assert page.js_errors == []
