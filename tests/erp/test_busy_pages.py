"""A staff page whose transaction the database rolled back for a conflicting one (a deadlock, a
serialization failure) says that nothing was saved and to do it again (503), instead of the server
error page; an htmx request gets it as its toast. Any other database error is still a crash."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError
from django.urls import reverse

from sales import services
from sales.models import Customer

pytestmark = pytest.mark.django_db

FORM = {"name": "Ada Lovelace", "email": "ada@example.com", "kind": "person", "payment_terms": "net_30"}


def _deadlocked(**kwargs):
    error = OperationalError("deadlock detected")
    error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    raise error


@pytest.fixture
def form(admin_client):
    page = admin_client.get(reverse("sales:customer-new"))
    assert page.status_code == 200
    values = dict(FORM)
    values.update({"currency": "USD", "same_as_billing": "on"})
    return values


def test_a_deadlocked_form_says_nothing_was_saved_and_to_submit_again(admin_client, form, monkeypatch):
    monkeypatch.setattr(services, "customer_create", _deadlocked)

    response = admin_client.post(reverse("sales:customer-new"), form)

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    page = response.content.decode()
    assert "Nothing was saved: please do it again" in page
    assert "Go back and submit again" in page
    assert not Customer.objects.exists()


def test_a_deadlocked_htmx_request_gets_the_message_for_its_toast(admin_client, form, monkeypatch):
    monkeypatch.setattr(services, "customer_create", _deadlocked)

    response = admin_client.post(reverse("sales:customer-new"), form, headers={"HX-Request": "true"})

    assert response.status_code == 503
    assert response.json()["detail"].startswith("The database was busy with a conflicting change")


def test_another_database_error_is_still_the_server_error(admin_client, form, monkeypatch):
    def broken(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "customer_create", broken)

    with pytest.raises(OperationalError):
        admin_client.post(reverse("sales:customer-new"), form)
