"""Settings → Users: superusers invite people with their roles (a set-password link shown once or
mailed), change roles, deactivate and reactivate; the invited person sets a password and signs in."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from erp import users as people
from erp.company import NotAllowed
from erp.exceptions import ValidationFailed
from erp.models import User
from erp.roles import sync_roles
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    sync_roles()
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the connection."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def invite(client: Client, **fields) -> str:
    data = {
        "username": "dana",
        "first_name": "Dana",
        "email": "dana@example.com",
        "roles": ["Warehouse"],
        **fields,
    }
    return client.post("/settings/users/invite/", data).content.decode()


def link_in(page: str) -> str:
    found = re.search(r'id="set-password-link"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*id="set-password-link"', page
    )
    assert found, "no set-password link on the page"
    return found.group(1)


def test_the_list_shows_each_user_with_roles_at_a_constant_number_of_queries(admin_client):
    UserFactory(username="w1", roles=["Warehouse", "Sales"])
    page = admin_client.get("/settings/users/").content.decode()

    def grow() -> None:
        for n in range(5):
            UserFactory(username=f"more{n}", roles=["Purchasing", "Sales"])

    assert_constant_queries(lambda: admin_client.get("/settings/users/"), grow)
    row = page.split('id="user-')[2]
    assert "w1" in row
    assert "Sales" in row
    assert "Warehouse" in row


def test_invite_shows_the_link_once_and_the_person_sets_a_password_and_signs_in(admin_client):
    page = invite(admin_client)
    link = link_in(page)

    dana = User.objects.get(username="dana")
    assert not dana.has_usable_password()
    assert dana.is_active
    assert list(dana.groups.values_list("name", flat=True)) == ["Warehouse"]
    assert "shown only this once" in page

    visitor = Client()
    form_page = visitor.get(link, follow=True)
    assert "Choose your password" in form_page.content.decode()
    done = visitor.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "s3cret-Pass!", "new_password2": "s3cret-Pass!"},
        follow=True,
    )
    assert "Your password is set" in done.content.decode()
    assert visitor.login(username="dana", password="s3cret-Pass!")

    again = Client().get(link, follow=True).content.decode()
    assert "no longer works" in again  # spent once the password is set


def test_invite_can_mail_the_link_through_django_mail(admin_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    page = invite(admin_client, send_email="on")

    assert "was mailed to" in page
    assert 'id="set-password-link"' not in page
    assert mail.outbox[0].to == ["dana@example.com"]
    assert "/settings/set-password/" in mail.outbox[0].body


def test_a_mail_that_fails_leaves_the_link_on_the_page(admin_client, settings):
    settings.EMAIL_BACKEND = "tests.erp.test_users_page.RefusingBackend"

    page = invite(admin_client, send_email="on")

    assert "The mail was not sent" in page
    assert link_in(page)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "root"}, "is taken"),
        ({"username": "bad name!"}, "Enter a valid username"),
        ({"email": "nope"}, "valid email"),
        ({"email": "", "send_email": "on"}, "email address to mail"),
        ({"roles": ["Emperor"]}, "Select a valid choice"),
    ],
)
def test_bad_invitations_are_refused_naming_the_field_and_nobody_is_created(admin_client, fields, message):
    before = User.objects.count()

    page = invite(admin_client, **fields)

    assert message in page
    assert User.objects.count() == before


def test_changing_roles_keeps_groups_that_are_not_roles(admin_client):
    person = UserFactory(username="ed", roles=["Sales"])
    person.groups.add(Group.objects.create(name="Newsletter"))

    admin_client.post(f"/settings/users/{person.pk}/", {"roles": ["Purchasing", "Accountant"]})

    assert sorted(person.groups.values_list("name", flat=True)) == ["Accountant", "Newsletter", "Purchasing"]


def test_deactivating_stops_sign_in_and_api_keys_and_reactivating_restores(admin_client):
    person = UserFactory(username="fay", roles=["Sales"])
    key = api_key_for(person, scopes=["sales:read"])
    api = Client()
    assert api.get("/api/v1/sales/orders", **bearer(key)).status_code == 200

    admin_client.post(f"/settings/users/{person.pk}/deactivate/")
    person.refresh_from_db()
    assert not person.is_active
    assert api.get("/api/v1/sales/orders", **bearer(key)).status_code in (401, 403)
    assert not Client().login(username="fay", password="pw")

    admin_client.post(f"/settings/users/{person.pk}/reactivate/")
    assert Client().login(username="fay", password="pw")


def test_a_superuser_cannot_deactivate_themselves_so_an_active_superuser_always_remains(root):
    other = UserFactory(username="other", is_superuser=True)

    with pytest.raises(ValidationFailed, match="yourself"):
        people.user_deactivate(by=root, user=root)
    people.user_deactivate(by=root, user=other)

    other.refresh_from_db()
    assert not other.is_active
    with pytest.raises(NotAllowed):  # a deactivated superuser can do nothing more
        people.user_deactivate(by=other, user=root)


def test_a_new_link_for_an_existing_user_is_shown_once(admin_client):
    person = UserFactory(username="gus", roles=["Sales"])

    response = admin_client.post(f"/settings/users/{person.pk}/link/")

    assert response["Cache-Control"] == "no-store"
    assert "/settings/set-password/" in link_in(response.content.decode())


@pytest.mark.parametrize("role", ["Operations manager", "Integration admin", "Sales"])
def test_only_superusers_reach_the_users_pages(role):
    person = UserFactory(username="someone", roles=[role])
    target = UserFactory(username="target", roles=["Sales"])
    client = Client()
    client.force_login(person)

    for url in ("/settings/users/", "/settings/users/invite/", f"/settings/users/{target.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Superuser" in response.content.decode()
    assert client.post(f"/settings/users/{target.pk}/deactivate/").status_code == 403
    target.refresh_from_db()
    assert target.is_active
    with pytest.raises(NotAllowed):
        people.user_invite(by=person, username="sneaky", roles=[])
