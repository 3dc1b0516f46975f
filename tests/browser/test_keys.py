"""The API keys pages in a real browser: create a key, copy it, revoke it after a confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from erp.models import ApiKey
from tests.browser.conftest import login
from tests.erp.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_copy_and_revoke_a_key(page, screenshot):
    # given
    UserFactory(username="sam", password="s3cret-pass", roles=["Sales"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "sam", "s3cret-pass")

    # when: from the user menu to a new key
    page.locator(".topbar .user").get_by_role("link", name="API keys").click()
    page.wait_for_url("**/keys/")
    page.get_by_role("link", name="New key").click()
    page.get_by_label("Name").fill("ShipStation")
    page.get_by_label("Sales: read").check()
    page.get_by_label("Rate limit (requests per minute)").fill("60")
    screenshot("keys-new")
    page.get_by_role("button", name="Create key").click()

    # then: the key is shown once, and the copy button puts it on the clipboard
    secret = page.locator("#new-key")
    expect(secret).to_have_value(re.compile(r"^erp_[0-9a-f]{8}_"))
    raw = secret.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw
    screenshot("keys-created")

    # when: back to the list, revoke after the confirmation
    page.get_by_role("link", name="Done").click()
    page.wait_for_url("**/keys/")
    row = page.locator("tbody tr", has_text="ShipStation")
    expect(row).to_contain_text("active")
    expect(page.locator("body")).not_to_contain_text(raw)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("link", name="Revoke").click()

    # then: the row says so without a reload, and the key no longer works
    expect(row.locator(".badge.bad")).to_contain_text("revoked")
    expect(page.locator("#toasts")).to_contain_text("revoked")
    screenshot("keys-list")
    assert ApiKey.objects.get().revoked_at is not None
    assert page.js_errors == []
