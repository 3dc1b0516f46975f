"""My webhooks in a real browser: a subscription is created and its signing secret, shown once, is
copied with its button (the page once loaded no script for it, so the button did nothing)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import WebhookSubscription
from tests.browser.conftest import login
from tests.erp.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_secret_of_a_new_subscription_is_copied_with_its_button(page, screenshot):
    # given
    UserFactory(username="sally", password="s3cret-pass", roles=["Sales"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "sally", "s3cret-pass")

    # when
    page.locator(".topbar .user").get_by_role("link", name="My webhooks").click()
    page.get_by_label("URL").fill("https://crm.example.com/erp-hook")
    page.get_by_label("Topics").fill("sales.*")
    page.get_by_role("button", name="Create subscription").click()
    expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
    page.get_by_role("button", name="Copy secret").click()

    # then
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Secret copied to the clipboard.")
    secret = WebhookSubscription.objects.get().get_secret()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot("webhooks-secret-copied")
    assert page.js_errors == []
